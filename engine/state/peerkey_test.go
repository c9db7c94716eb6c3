package state

import (
	"strings"
	"testing"
)

// peerKeyCases are the table tests' strings, also the fuzz seeds.
var peerKeyCases = []struct {
	in string
	ok bool
}{
	{"ip:198.18.0.9", true},
	{"ip:2001:db8::1", true},
	{"id:2d53483031302d6162636465666768696a6b6c6d", true},
	{"", false},
	{"ip:", false},
	{"id:abcd", false},
	{"id:2d53483031302d6162636465666768696a6b6c6dzz", false},
	{"198.18.0.9", false},
	{"ID:2d53483031302d6162636465666768696a6b6c6d", false},
}

// TestPeerKeyRoundTrip checks the constructors' stored forms, that they
// parse back to equal keys, and that junk is refused with an error.
func TestPeerKeyRoundTrip(t *testing.T) {
	id := [20]byte([]byte("-SH0100-abcdefghijkl"))
	for _, k := range []PeerKey{PeerKeyFromIP("198.18.0.9"), PeerKeyFromID(id)} {
		back, err := parsePeerKey(k.stored())
		if err != nil || back != k {
			t.Fatalf("parsePeerKey(%q) = %v, %v; want %v", k.stored(), back, err, k)
		}
	}
	if got := PeerKeyFromIP("198.18.0.9").stored(); got != "ip:198.18.0.9" {
		t.Errorf("ip key = %q", got)
	}
	if ip, ok := PeerKeyFromIP("198.18.0.9").IP(); !ok || ip != "198.18.0.9" {
		t.Errorf("IP() = %q, %v", ip, ok)
	}
	if h, ok := PeerKeyFromID(id).PeerID(); !ok || h != "2d5348303130302d6162636465666768696a6b6c" {
		t.Errorf("PeerID() = %q, %v", h, ok)
	}
	if _, ok := PeerKeyFromID(id).IP(); ok {
		t.Error("an ID key has an IP")
	}
	if got := PeerKeyFromIP("::ffff:198.18.0.9").String(); got != "198.18.0.9" {
		t.Errorf("ip key shows as %q", got)
	}
	if got := PeerKeyFromID(id).String(); got != "peer 2d5348303130302d6162636465666768696a6b6c" {
		t.Errorf("ID key shows as %q", got)
	}
	if !(PeerKey{}).IsZero() || PeerKeyFromIP("127.0.0.1").IsZero() {
		t.Error("IsZero wrong")
	}
	for _, c := range peerKeyCases {
		k, err := parsePeerKey(c.in)
		if (err == nil) != c.ok {
			t.Errorf("parsePeerKey(%q) err = %v, want ok=%v", c.in, err, c.ok)
		}
		if err == nil && k.stored() != c.in {
			t.Errorf("parsePeerKey(%q).stored() = %q", c.in, k.stored())
		}
	}
}

// FuzzParsePeerKey checks that whatever parses prints back unchanged and
// names an IP or a 20-byte ID, and that nothing panics.
func FuzzParsePeerKey(f *testing.F) {
	for _, c := range peerKeyCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parsePeerKey(s)
		if err != nil {
			if !k.IsZero() {
				t.Fatalf("error with a key: %v", k)
			}
			return
		}
		if k.stored() != s {
			t.Fatalf("round trip %q -> %q", s, k.stored())
		}
		_, isIP := k.IP()
		h, isID := k.PeerID()
		if isIP == isID || (isID && len(h) != 40) || !strings.Contains(s, ":") {
			t.Fatalf("parsed %q is neither one IP nor one ID", s)
		}
	})
}
