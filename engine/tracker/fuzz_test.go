package tracker

import (
	"errors"
	"testing"
)

func FuzzParseHTTPResponse(f *testing.F) {
	for _, tc := range httpParseCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseHTTPResponse(body)
		if err != nil && !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrTrackerFailure) {
			t.Fatalf("unclassified error: %v", err)
		}
		// Every peer needs at least 6 input bytes (compact) or more (dict).
		if len(r.Peers) > len(body)/6 {
			t.Fatalf("%d peers from %d bytes", len(r.Peers), len(body))
		}
		for _, p := range r.Peers {
			if !p.Addr().IsValid() || p.Port() == 0 {
				t.Fatalf("unusable peer %v", p)
			}
		}
		if r.Interval < 0 || r.MinInterval < 0 || r.Seeders < 0 || r.Leechers < 0 {
			t.Fatalf("negative value in %+v", r)
		}
	})
}

func FuzzParseUDPResponse(f *testing.F) {
	for _, tc := range udpParseCases {
		f.Add([]byte(tc.pkt), uint32(testTx), tc.ipv6)
	}
	f.Fuzz(func(t *testing.T, pkt []byte, tx uint32, ipv6 bool) {
		r, err := ParseUDPResponse(pkt, tx, ipv6)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrTrackerFailure) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if len(pkt) < 20 || len(r.Peers) > (len(pkt)-20)/6 {
			t.Fatalf("%d peers from %d bytes", len(r.Peers), len(pkt))
		}
		for _, p := range r.Peers {
			if !p.Addr().IsValid() || p.Port() == 0 || p.Addr().Is6() != ipv6 {
				t.Fatalf("bad peer %v (ipv6=%v)", p, ipv6)
			}
		}
		if r.Interval < 0 || r.Seeders < 0 || r.Leechers < 0 {
			t.Fatalf("negative value in %+v", r)
		}
	})
}
