package wire

import "testing"

// TestBencodeValueLen: bencodeValueLen (bencodescan.ValueLen, whose own
// tests cover the syntax) measures one value with wire's depth limit,
// stops at its end with trailing bytes allowed, refuses broken input, and
// allocates nothing (every extension message a peer sends, metadata
// pieces included, is checked with it before it is decoded).
func TestBencodeValueLen(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int // -1: an error
	}{
		{"i42e", 4},
		{"4:spamtrailing", 6},
		{"d1:ai1e1:bl1:xi-3eee", 20},
		{"le", 2},
		{"i042e", -1},    // not canonical
		{"di1e1:ae", -1}, // a key that is not a string
		{"5:abc", -1},    // truncated
		{"", -1},
	} {
		n, err := bencodeValueLen([]byte(c.in))
		if c.want < 0 && err == nil || c.want >= 0 && (err != nil || n != c.want) {
			t.Errorf("bencodeValueLen(%q) = %d, %v; want %d", c.in, n, err, c.want)
		}
	}
	msg := []byte("d1:md11:ut_metadatai3e6:ut_pexi1ee1:pi6881e1:v13:Shoal 0.1.2.3e")
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := bencodeValueLen(msg); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("bencodeValueLen allocates %.1f times per call, want 0", n)
	}
}
