package bencodescan

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// valueLenCases seed FuzzScan: want is the value's length, -1 an error.
var valueLenCases = []struct {
	in   string
	want int
}{
	{"i42e", 4},
	{"4:spamtrailing", 6},
	{"d1:ai1e1:bl1:xi-3eee", 20},
	{"le", 2},
	{"i042e", -1},    // not canonical
	{"i-0e", -1},     // not canonical
	{"di1e1:ae", -1}, // a key that is not a string
	{"5:abc", -1},    // truncated
	{"05:abcde", -1}, // a length with a leading zero
	{"", -1},
	{"lllllllllllllllllleeeeeeeeeeeeeeeeee", -1}, // 18 deep, over 16
}

// TestValueLen: ValueLen measures one value, stops at its end with
// trailing bytes allowed, refuses broken input, and allocates nothing, as
// its doc comment says.
func TestValueLen(t *testing.T) {
	for _, c := range valueLenCases {
		n, err := ValueLen([]byte(c.in), 16)
		if c.want < 0 && err == nil || c.want >= 0 && (err != nil || n != c.want) {
			t.Errorf("ValueLen(%q) = %d, %v; want %d", c.in, n, err, c.want)
		}
	}
	msg := []byte("d1:md11:ut_metadatai3e6:ut_pexi1ee1:pi6881e1:v13:Shoal 0.1.2.3e")
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := ValueLen(msg, 16); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ValueLen allocates %.1f times per call, want 0", n)
	}
}

// TestDict: Dict gives each entry of a dictionary in order with its value
// still encoded, stops when asked, refuses what is not exactly one
// well-formed dictionary, and allocates nothing.
func TestDict(t *testing.T) {
	info := []byte("d6:lengthi5e12:meta versioni2e4:name3:abc6:pieces20:aaaaaaaaaaaaaaaaaaaae")
	var got []string
	if err := Dict(info, 16, func(k, v []byte) bool {
		got = append(got, fmt.Sprintf("%s=%s", k, v))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"length=i5e", "meta version=i2e", "name=3:abc", "pieces=20:aaaaaaaaaaaaaaaaaaaa"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	seen := 0
	if err := Dict(info, 16, func(k, v []byte) bool { seen++; return string(k) != "meta version" }); err != nil || seen != 2 {
		t.Errorf("stopping at the second key: %d seen, %v", seen, err)
	}
	for _, bad := range []string{"", "le", "d1:ai1e", "d1:ai1ee1", "di1ei2ee", "d1:ai01ee"} {
		err := Dict([]byte(bad), 16, func(k, v []byte) bool { return true })
		if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrTruncated) {
			t.Errorf("Dict(%q) = %v; want a syntax or truncation error", bad, err)
		}
	}
	if n := testing.AllocsPerRun(1000, func() {
		if err := Dict(info, 16, func(k, v []byte) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Dict allocates %.1f times per call, want 0", n)
	}
}

// FuzzScan: ValueLen never reads past its input, and Dict accepts exactly
// what ValueLen measures as one whole dictionary; the entries it gives
// rebuild the input byte for byte.
func FuzzScan(f *testing.F) {
	for _, c := range valueLenCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte("d6:lengthi5e12:meta versioni2e4:name3:abc6:pieces20:aaaaaaaaaaaaaaaaaaaae"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, lenErr := ValueLen(b, 16)
		if lenErr == nil && (n <= 0 || n > len(b)) {
			t.Fatalf("ValueLen = %d for %d bytes", n, len(b))
		}
		var rebuilt bytes.Buffer
		rebuilt.WriteByte('d')
		err := Dict(b, 16, func(k, v []byte) bool {
			fmt.Fprintf(&rebuilt, "%d:%s%s", len(k), k, v)
			return true
		})
		rebuilt.WriteByte('e')
		whole := lenErr == nil && n == len(b) && b[0] == 'd'
		if (err == nil) != whole {
			t.Fatalf("Dict: %v, but ValueLen says %d of %d bytes (%v)", err, n, len(b), lenErr)
		}
		if err == nil && !bytes.Equal(rebuilt.Bytes(), b) {
			t.Fatalf("entries rebuild %q, not %q", rebuilt.Bytes(), b)
		}
	})
}
