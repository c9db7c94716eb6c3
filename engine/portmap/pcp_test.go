package portmap

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

// pcpAnswer builds a MAP response for the tables and the fuzz seeds.
func pcpAnswer(result byte, m pcpMap) []byte {
	b := pcpMapRequest(m) // same MAP layout; fix the header
	b[1] = pcpResponseOp | pcpOpMap
	b[3] = result
	for i := 8; i < 24; i++ {
		b[i] = 0 // epoch and reserved
	}
	return b
}

var pcpSample = pcpMap{Nonce: [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, Proto: 6, Internal: 41004, External: 41004,
	ExtIP: netip.MustParseAddr("203.0.113.11"), Lifetime: 120}

// pcpCases are the decoder's table, also its fuzz seeds.
var pcpCases = []struct {
	name string
	in   []byte
	want pcpMap
	err  string // substring; "" means success
}{
	{"success", pcpAnswer(0, pcpSample), pcpSample, ""},
	{"refused", pcpAnswer(8, pcpSample)[:24], pcpMap{Result: 8, Lifetime: 120}, ""},
	{"nat-pmp only", []byte{0, 128, 0, 1}, pcpMap{}, "NAT-PMP only"},
	{"empty", nil, pcpMap{}, "too short"},
	{"header only success", pcpAnswer(0, pcpSample)[:30], pcpMap{}, "too short"},
	{"a request", pcpMapRequest(pcpSample), pcpMap{}, "not a MAP response"},
	{"version 3", append([]byte{3}, pcpAnswer(0, pcpSample)[1:]...), pcpMap{}, "not a MAP response"},
}

func TestParsePCPMapResponse(t *testing.T) {
	for _, tc := range pcpCases {
		got, err := parsePCPMapResponse(tc.in)
		switch {
		case tc.err != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.err))):
			t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestPCPMapRequest checks the request bytes against RFC 6887 §7.1 and
// §11.1 by hand: version 2, MAP, lifetime, the client as ::ffff:IPv4,
// then nonce, protocol, ports and an unspecified suggested address.
func TestPCPMapRequest(t *testing.T) {
	m := pcpSample
	m.ExtIP = netip.Addr{}
	m.Client = netip.MustParseAddr("198.18.1.10")
	want := "0201000000000078" + "00000000000000000000ffffc612010a" +
		"0102030405060708090a0b0c" + "06000000" + "a02ca02c" + "00000000000000000000ffff00000000"
	if got := hex.EncodeToString(pcpMapRequest(m)); got != want {
		t.Fatalf("request\n got %s\nwant %s", got, want)
	}
}

func TestPCPErrorWords(t *testing.T) {
	err := error(&pcpError{code: 2})
	if err.Error() != "PCP: not authorized" {
		t.Errorf("got %q", err)
	}
	if got := explain([]error{errors.Join(errors.New("portmap: NAT-PMP: timed out"), &pcpError{code: 8})}); got !=
		"Your router refused to open a port (PCP said: no resources). Forward the port to this computer by hand in the router's settings." {
		t.Errorf("explain: %q", got)
	}
}

func FuzzParsePCPMapResponse(f *testing.F) {
	for _, tc := range pcpCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parsePCPMapResponse(b)
		if err != nil {
			return
		}
		if m.Result == 0 {
			// A success round-trips through the encoder's MAP layout.
			again, err := parsePCPMapResponse(pcpAnswer(0, m))
			if err != nil || again.Nonce != m.Nonce || again.External != m.External || again.Internal != m.Internal {
				t.Fatalf("round trip: %+v -> %+v (%v)", m, again, err)
			}
		}
	})
}
