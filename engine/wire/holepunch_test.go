package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

// holepunchCases seed FuzzParseHolepunch; a nil want means ErrMalformed.
// The wire bytes follow BEP 55's layout: msg_type, addr_type, addr, port,
// err_code.
var holepunchCases = []decodeCase[Holepunch]{
	{"rendezvous IPv4", "\x00\x00\xcb\x00\x71\x0c\xa4\x10\x00\x00\x00\x00",
		&Holepunch{Type: HolepunchRendezvous, Addr: netip.MustParseAddrPort("203.0.113.12:42000")}},
	{"connect IPv6", "\x01\x01\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe1\x00\x00\x00\x00",
		&Holepunch{Type: HolepunchConnect, Addr: netip.MustParseAddrPort("[2001:db8::1]:6881")}},
	{"error not connected", "\x02\x00\xc6\x12\x02\x0a\x1a\xe1\x00\x00\x00\x02",
		&Holepunch{Type: HolepunchError, Addr: netip.MustParseAddrPort("198.18.2.10:6881"), Err: HolepunchNotConnected}},
	{"error unknown code kept", "\x02\x00\xc6\x12\x02\x0a\x1a\xe1\xff\xff\xff\xff",
		&Holepunch{Type: HolepunchError, Addr: netip.MustParseAddrPort("198.18.2.10:6881"), Err: 0xffffffff}},
	{"mapped IPv6 is IPv4", "\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xcb\x00\x71\x32\x00\x50\x00\x00\x00\x00",
		&Holepunch{Type: HolepunchConnect, Addr: netip.MustParseAddrPort("203.0.113.50:80")}},
	{"empty", "", nil},
	{"type only", "\x00", nil},
	{"unknown type", "\x03\x00\xcb\x00\x71\x0c\xa4\x10\x00\x00\x00\x00", nil},
	{"unknown addr type", "\x00\x02\xcb\x00\x71\x0c\xa4\x10\x00\x00\x00\x00", nil},
	{"IPv4 short", "\x00\x00\xcb\x00\x71\x0c\xa4\x10\x00\x00\x00", nil},
	{"IPv4 trailing", "\x00\x00\xcb\x00\x71\x0c\xa4\x10\x00\x00\x00\x00\x00", nil},
	{"IPv6 in IPv4 length", "\x00\x01\xcb\x00\x71\x0c\xa4\x10\x00\x00\x00\x00", nil},
	{"port 0", "\x00\x00\xcb\x00\x71\x0c\x00\x00\x00\x00\x00\x00", nil},
}

func TestParseHolepunch(t *testing.T) {
	t.Parallel()
	checkDecodes(t, holepunchCases, ParseHolepunch)
}

func TestHolepunchMarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range holepunchCases {
		if tc.want == nil || tc.name == "mapped IPv6 is IPv4" {
			continue
		}
		b, err := tc.want.Marshal()
		if err != nil || string(b) != tc.in {
			t.Errorf("%s: Marshal = %q, %v; want %q", tc.name, b, err, tc.in)
		}
	}
	bad := []Holepunch{
		{},
		{Type: 3, Addr: netip.MustParseAddrPort("203.0.113.1:1")},
		{Addr: netip.MustParseAddrPort("[fe80::1%eth0]:1")},
	}
	for _, h := range bad {
		if b, err := h.Marshal(); err == nil {
			t.Errorf("Marshal(%+v) = %q, want an error", h, b)
		}
	}
}

func FuzzParseHolepunch(f *testing.F) {
	for _, tc := range holepunchCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHolepunch(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		b, err := h.Marshal()
		if err != nil {
			t.Fatalf("Marshal of parsed %+v: %v", h, err)
		}
		h2, err := ParseHolepunch(b)
		if err != nil || h2 != h {
			t.Fatalf("round trip: %+v, %v; want %+v", h2, err, h)
		}
		if !h.Addr.Addr().Is4In6() && data[1] == 0 && !bytes.Equal(b, data) {
			t.Fatalf("IPv4 message re-encodes as %q, was %q", b, data)
		}
	})
}
