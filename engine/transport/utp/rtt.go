package utp

import "time"

// The resend timeout as RFC 6298 computes it, with BEP 29's and libutp's
// floor of 500 ms (minResendTimeout). Upstream took three times the mean
// of the last ten round trips, jittered: a mean ignores how much the
// round trip varies, so on a link whose queue comes and goes (a TCP flow
// beside us) a timeout either fired on a late ack, dropping the window
// to two packets, or waited far longer than needed on a steady one.
const (
	initialRTO = time.Second      // before any sample (RFC 6298 §2.1)
	maxRTO     = 60 * time.Second // RFC 6298 §2.5's upper bound
)

// rttEstimator keeps the smoothed round trip (SRTT) and its variation
// (RTTVAR) of RFC 6298 §2. Samples come from packets acked on their
// first send only (Karn's rule, applied by the caller).
type rttEstimator struct {
	srtt, rttvar time.Duration
	samples      int64
}

// add folds a round-trip sample in: the first sets SRTT to it and RTTVAR
// to half of it; later ones move RTTVAR by a quarter of the way towards
// |SRTT - r| and SRTT by an eighth of the way towards r.
func (e *rttEstimator) add(r time.Duration) {
	if r <= 0 {
		r = time.Microsecond // a sample is never below the clock's granularity
	}
	if e.samples == 0 {
		e.srtt, e.rttvar = r, r/2
	} else {
		e.rttvar = (3*e.rttvar + (e.srtt - r).Abs()) / 4
		e.srtt = (7*e.srtt + r) / 8
	}
	e.samples++
}

// rtt is the smoothed round trip, or initialLatency before any sample.
func (e *rttEstimator) rtt() time.Duration {
	if e.samples == 0 {
		return initialLatency
	}
	return e.srtt
}

// rto is the resend timeout: SRTT + 4·RTTVAR, at least minResendTimeout
// and at most maxRTO; initialRTO before any sample.
func (e *rttEstimator) rto() time.Duration {
	if e.samples == 0 {
		return initialRTO
	}
	return min(max(e.srtt+4*e.rttvar, minResendTimeout), maxRTO)
}
