package wire

import (
	"errors"
	"testing"
)

func TestBitfieldOps(t *testing.T) {
	t.Parallel()
	const n = 131
	b := NewBitfield(n)
	if len(b) != 17 {
		t.Fatalf("NewBitfield(%d) has %d bytes, want 17", n, len(b))
	}
	set := []int{0, 7, 8, 63, 64, 65, 127, 128, 130}
	for _, i := range set {
		b.Set(i)
	}
	b.Set(-1)  // ignored
	b.Set(200) // ignored
	if b[0] != 0x81 || b[1] != 0x80 || b[16] != 0xa0 {
		t.Fatalf("bit layout = %08b %08b ... %08b, want 10000001 10000000 ... 10100000", b[0], b[1], b[16])
	}
	if got := b.Count(n); got != len(set) {
		t.Fatalf("Count(%d) = %d, want %d", n, got, len(set))
	}
	for i := -2; i < 140; i++ {
		want := false
		for _, s := range set {
			want = want || s == i
		}
		if b.Has(i) != want {
			t.Fatalf("Has(%d) = %v, want %v", i, b.Has(i), want)
		}
	}
	b.Clear(64)
	b.Clear(1000) // ignored
	if b.Has(64) || b.Count(n) != len(set)-1 {
		t.Fatalf("after Clear(64): Has = %v, Count = %d", b.Has(64), b.Count(n))
	}
}

func TestBitfieldCount(t *testing.T) {
	t.Parallel()
	full := Bitfield{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	tests := []struct {
		b    Bitfield
		n    int
		want int
	}{
		{full, 0, 0}, {full, -5, 0}, {full, 1, 1}, {full, 7, 7}, {full, 8, 8}, {full, 9, 9},
		{full, 64, 64}, {full, 65, 65}, {full, 79, 79}, {full, 80, 80}, {full, 1000, 80},
		{Bitfield{0x01, 0x80}, 8, 1}, {Bitfield{0x01, 0x80}, 9, 2}, {Bitfield{0xfe}, 7, 7},
		{nil, 10, 0},
	}
	for _, tc := range tests {
		if got := tc.b.Count(tc.n); got != tc.want {
			t.Errorf("Count(%d) of %x = %d, want %d", tc.n, []byte(tc.b), got, tc.want)
		}
	}
}

// bitfieldCases seed FuzzParseBitfield; ok false means ErrMalformed.
var bitfieldCases = []struct {
	name    string
	payload []byte
	n       int
	ok      bool
}{
	{"empty torrent", nil, 0, true},
	{"exact bytes", []byte{0xff, 0x00}, 16, true},
	{"partial last byte", []byte{0xff, 0xe0}, 11, true},
	{"one piece", []byte{0x80}, 1, true},
	{"spare bit set", []byte{0xff, 0xf0}, 11, false},
	{"lowest spare bit", []byte{0x01}, 7, false},
	{"too short", []byte{0xff}, 9, false},
	{"too long", []byte{0xff, 0x00, 0x00}, 16, false},
	{"negative count", nil, -1, false},
}

func TestParseBitfield(t *testing.T) {
	t.Parallel()
	for _, tc := range bitfieldCases {
		b, err := ParseBitfield(tc.payload, tc.n)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrMalformed)) {
			t.Errorf("%s: error = %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if tc.ok && string(b) != string(tc.payload) {
			t.Errorf("%s: got %x, want %x", tc.name, []byte(b), tc.payload)
		}
	}
}

func TestParseBitfieldCopies(t *testing.T) {
	t.Parallel()
	payload := []byte{0xf0}
	b, err := ParseBitfield(payload, 4)
	if err != nil {
		t.Fatal(err)
	}
	payload[0] = 0
	if !b.Has(0) || b.Count(4) != 4 {
		t.Fatal("ParseBitfield result aliases the payload")
	}
}
