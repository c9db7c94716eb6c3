package wire

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestPEXMarshal(t *testing.T) {
	t.Parallel()
	p := PEX{
		Added: []netip.AddrPort{
			netip.MustParseAddrPort("127.0.0.1:6881"),
			netip.MustParseAddrPort("[::1]:6882"),
			netip.MustParseAddrPort("127.0.0.2:1"),
		},
		Dropped: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.3:65535")},
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "d5:added12:\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x00\x01" +
		"6:added618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe2" +
		"7:dropped6:\x7f\x00\x00\x03\xff\xffe"
	if string(b) != want {
		t.Fatalf("Marshal = %q, want %q", b, want)
	}
	got, err := ParsePEX(b)
	if err != nil {
		t.Fatal(err)
	}
	// IPv4 entries come before IPv6 ones after a round trip.
	wantP := PEX{Added: []netip.AddrPort{p.Added[0], p.Added[2], p.Added[1]}, Dropped: p.Dropped, AddedFlags: []PEXFlags{0, 0, 0}}
	if !reflect.DeepEqual(got, wantP) {
		t.Fatalf("round trip = %v, want %v", got, wantP)
	}
	empty, err := PEX{}.Marshal()
	if err != nil || string(empty) != "d5:added0:7:dropped0:e" {
		t.Fatalf("empty Marshal = %q, %v", empty, err)
	}
}

func TestPEXMarshalMappedAndInvalid(t *testing.T) {
	t.Parallel()
	mapped := PEX{Dropped: []netip.AddrPort{netip.MustParseAddrPort("[::ffff:127.0.0.1]:80")}}
	b, err := mapped.Marshal()
	if err != nil || string(b) != "d5:added0:7:dropped6:\x7f\x00\x00\x01\x00\x50e" {
		t.Fatalf("mapped Marshal = %q, %v", b, err)
	}
	for _, ap := range []netip.AddrPort{{}, netip.MustParseAddrPort("[fe80::1%eth0]:1")} {
		if _, err := (PEX{Added: []netip.AddrPort{ap}}).Marshal(); err == nil {
			t.Errorf("Marshal of %v succeeded, want error", ap)
		}
	}
}

// pexCases seed FuzzParsePEX; a nil want means ErrMalformed.
var pexCases = []decodeCase[PEX]{
	{"empty dict", "de", &PEX{}},
	{"flags and unknown keys", "d5:added6:\x7f\x00\x00\x01\x00\x017:added.f1:\x101:xi3ee",
		&PEX{Added: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1")}, AddedFlags: []PEXFlags{PEXReachable}}},
	{"flags of both families", "d5:added12:\x7f\x00\x00\x01\x00\x01\x7f\x00\x00\x02\x00\x027:added.f2:\x0a\x04" +
		"6:added618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x038:added6.f1:\x1be",
		&PEX{Added: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.2:2"),
			netip.MustParseAddrPort("[::1]:3")}, AddedFlags: []PEXFlags{PEXSeed | PEXHolepunch, PEXUTP,
			PEXEncryption | PEXSeed | PEXHolepunch | PEXReachable}}},
	{"flags of the wrong length are dropped", "d5:added6:\x7f\x00\x00\x01\x00\x017:added.f2:\x10\x10e",
		&PEX{Added: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1")}, AddedFlags: []PEXFlags{0}}},
	{"flags without peers", "d7:added.f3:abce", &PEX{}},
	{"flags not a string", "d5:added6:\x7f\x00\x00\x01\x00\x017:added.fi16ee", nil},
	{"dropped6 mapped", "d8:dropped618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x7f\x00\x00\x01\x00\x02e",
		&PEX{Dropped: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:2")}}},
	{"empty", "", nil},
	{"not a dict", "5:added", nil},
	{"added not multiple of 6", "d5:added5:abcdee", nil},
	{"added6 not multiple of 18", "d6:added66:abcdefe", nil},
	{"dropped wrong type", "d7:droppedi5ee", nil},
	{"truncated", "d5:added6:\x7f\x00", nil},
	{"trailing", "deX", nil},
	{"oversize", "d5:added65538:" + strings.Repeat("a", 65538) + "e", nil},
	{"nesting bomb", "d1:x" + strings.Repeat("l", 17) + strings.Repeat("e", 17) + "e", nil},
}

func TestParsePEX(t *testing.T) {
	t.Parallel()
	checkDecodes(t, pexCases, ParsePEX)
}

// TestPEXMarshalFlags: flags travel in added.f and added6.f, one byte per
// peer of each family, in the order of the peers.
func TestPEXMarshalFlags(t *testing.T) {
	t.Parallel()
	p := PEX{Added: []netip.AddrPort{netip.MustParseAddrPort("[::1]:3"), netip.MustParseAddrPort("127.0.0.1:1"),
		netip.MustParseAddrPort("127.0.0.2:2")}, AddedFlags: []PEXFlags{PEXReachable, PEXSeed, PEXUTP | PEXHolepunch}}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "d5:added12:\x7f\x00\x00\x01\x00\x01\x7f\x00\x00\x02\x00\x027:added.f2:\x02\x0c" +
		"6:added618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x038:added6.f1:\x10" +
		"7:dropped0:e"
	if string(b) != want {
		t.Fatalf("Marshal = %q, want %q", b, want)
	}
	if _, err := (PEX{Added: p.Added, AddedFlags: p.AddedFlags[:1]}).Marshal(); err == nil {
		t.Fatal("Marshal with fewer flags than peers succeeded")
	}
}
