package portmap

import (
	"net/netip"
	"testing"
)

var routeCases = []struct {
	name, text, want string // want "" = error
}{
	{"lab host", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010112C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
		"eth0\t000112C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", "198.18.1.1"},
	{"lowest metric wins", "h\n" +
		"wlan0\t00000000\t010212C6\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
		"eth0\t00000000\t010112C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n", "198.18.1.1"},
	{"no default route", "h\neth0\t000112C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", ""},
	{"default without gateway flag", "h\neth0\t00000000\t010112C6\t0001\t0\t0\t0\t00000000\t0\t0\t0\n", ""},
	{"garbage", "h\nx y z\n\x00\xff\neth0\tZZZZZZZZ\t010112C6\t0003\t0\t0\t0\t00000000\n", ""},
	{"empty", "", ""},
}

func TestParseRoutes(t *testing.T) {
	for _, c := range routeCases {
		got, err := parseRoutes([]byte(c.text))
		if c.want == "" {
			if err == nil {
				t.Errorf("%s: got %v, want an error", c.name, got)
			}
			continue
		}
		if err != nil || got != netip.MustParseAddr(c.want) {
			t.Errorf("%s: got %v, %v; want %s", c.name, got, err, c.want)
		}
	}
}

func FuzzParseRoutes(f *testing.F) {
	for _, c := range routeCases {
		f.Add([]byte(c.text))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		gw, err := parseRoutes(b)
		if err == nil && (!gw.Is4() || gw.IsUnspecified()) {
			t.Fatalf("parseRoutes gave %v without an error", gw)
		}
	})
}
