package utp

import (
	"testing"
	"time"
)

// TestResendTimeout: the resend timeout follows RFC 6298 (SRTT + 4·RTTVAR)
// with BEP 29's 500 ms floor, so a round trip that varies widens it and a
// steady one brings it down to the floor; 1 s before any sample.
func TestResendTimeout(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	for _, tc := range []struct {
		name         string
		samples      []time.Duration
		srtt, rttvar time.Duration
		rto          time.Duration
	}{
		{"no sample", nil, 0, 0, initialRTO},
		{"one sample: RTTVAR is half of it", []time.Duration{ms(100)}, ms(100), ms(50), minResendTimeout},
		{"a wider second", []time.Duration{ms(100), ms(300)}, ms(125), ms(87.5), minResendTimeout},
		{"variance past the floor", []time.Duration{ms(100), ms(300), ms(900)}, ms(221.875), ms(259.375), ms(1259.375)},
		{"a long steady round trip", []time.Duration{ms(400), ms(400), ms(400), ms(400)}, ms(400), ms(84.375), ms(737.5)},
		{"at most a minute", []time.Duration{100 * time.Second}, 100 * time.Second, 50 * time.Second, maxRTO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Conn{}
			for _, s := range tc.samples {
				c.addLatency(s)
			}
			if c.rtt.srtt != tc.srtt || c.rtt.rttvar != tc.rttvar {
				t.Errorf("SRTT %v, RTTVAR %v; want %v, %v", c.rtt.srtt, c.rtt.rttvar, tc.srtt, tc.rttvar)
			}
			if got := c.resendTimeout(); got != tc.rto {
				t.Errorf("resend timeout %v, want %v", got, tc.rto)
			}
		})
	}
}
