package utp

import (
	"time"
)

// LEDBAT (RFC 6817), as libutp does it: the sender's congestion window
// grows while the one-way queuing delay it measures stays below a target
// and shrinks as the delay passes the target, so a uTP flow yields to
// TCP flows that fill a bottleneck's queue. Added to this copy of
// anacrolix/utp, which paced by the peer's receive window alone.
//
// The delay comes from the peer: every packet it sends carries, in its
// timestamp_difference field, its clock at the receipt of our last packet
// minus that packet's timestamp, i.e. our one-way delay plus the clocks'
// offset. The base delay is the smallest such value over the last two
// minutes (the offset plus the propagation delay); a sample minus the
// base is the queuing delay. The window starts in slow start (one more
// packet per packet acked) until the queuing delay passes half the
// target, then moves by at most ledbatGain bytes per round trip, in
// proportion to how far the delay is off the target. A loss (a packet
// resent after three later ones were acked) cuts the window at most
// once per window of data (a round trip): by half, or by a fifth when
// almost none of our data was queued (a random loss, see lost). A resend
// timeout drops it to the minimum, and, as TCP does after a timeout, slow
// start then brings it back to half the window it had (ssthresh) before
// LEDBAT's slow growth takes over.
const (
	ledbatTarget   = 100 * time.Millisecond // queuing delay aimed at (libutp's CCONTROL_TARGET)
	ledbatGain     = 3000.0                 // most bytes the window grows per round trip (MAX_CWND_INCREASE_BYTES_PER_RTT)
	ledbatMinCwnd  = 2 * maxPayloadSize     // the window never closes below two packets
	ledbatInitCwnd = 10 * maxPayloadSize    // the first window, as TCP's initial window
	ledbatMaxCwnd  = readBufferLen          // above the receive window we never use it
	ledbatSamples  = 4                      // delay samples filtered (the smallest of the last few is used)
	venoBacklog    = 3 * maxPayloadSize     // below this backlog a loss is random (TCP Veno's β, 3 packets)
	randomLossCut  = 0.8                    // the window after a random loss, as a fraction (Veno's 4/5)
	// randomLossDelay: with this much queued (anyone's data) a loss is
	// taken for congestion whatever our own backlog
	randomLossDelay = ledbatTarget / 5
)

// ledbat is one connection's sender-side congestion state. The socket's
// mutex guards it, like the rest of Conn.
type ledbat struct {
	cwnd      float64 // bytes allowed in flight
	slowStart bool
	ssthresh  float64 // slow start ends at this window (after a timeout), or at half the delay target
	// base delay: the minima of the current and the previous minute
	baseCur, basePrev       uint32
	haveCur, havePrev       bool
	baseMinute              time.Time
	recent                  [ledbatSamples]uint32
	nRecent, next           int
	lastCut                 time.Time
	cuts, timeouts, samples int64
	randomCuts              int64 // cuts taken for random losses (by a fifth)
}

func newLedbat() ledbat {
	return ledbat{cwnd: ledbatInitCwnd, slowStart: true, ssthresh: ledbatMaxCwnd}
}

// window is the congestion window in bytes.
func (l *ledbat) window() uint32 { return uint32(l.cwnd) }

// sample records a timestamp_difference from the peer (0 means it has
// none yet).
func (l *ledbat) sample(diff uint32, now time.Time) {
	if diff == 0 {
		return
	}
	l.samples++
	if l.baseMinute.IsZero() || now.Sub(l.baseMinute) >= time.Minute {
		l.basePrev, l.havePrev = l.baseCur, l.haveCur
		l.haveCur, l.baseMinute = false, now
	}
	if !l.haveCur || int32(diff-l.baseCur) < 0 {
		l.baseCur, l.haveCur = diff, true
	}
	l.recent[l.next] = diff
	l.next = (l.next + 1) % ledbatSamples
	l.nRecent = min(l.nRecent+1, ledbatSamples)
}

// base is the base delay: the smaller of the two minutes' minima.
func (l *ledbat) base() uint32 {
	if l.havePrev && int32(l.basePrev-l.baseCur) < 0 {
		return l.basePrev
	}
	return l.baseCur
}

// queuingDelay is the filtered queuing delay, or -1 before any sample.
func (l *ledbat) queuingDelay() time.Duration {
	if l.nRecent == 0 {
		return -1
	}
	b := l.base()
	least := int32(l.recent[0] - b)
	for _, s := range l.recent[1:l.nRecent] {
		least = min(least, int32(s-b))
	}
	return time.Duration(max(least, 0)) * time.Microsecond
}

// acked grows or shrinks the window for bytes newly acknowledged.
func (l *ledbat) acked(bytes uint32) {
	if bytes == 0 {
		return
	}
	qd := l.queuingDelay()
	if l.slowStart {
		if qd < ledbatTarget/2 && l.cwnd < l.ssthresh {
			l.cwnd = min(l.cwnd+float64(bytes), ledbatMaxCwnd)
			return
		}
		l.slowStart = false
	}
	if qd < 0 {
		return
	}
	off := float64(ledbatTarget-qd) / float64(ledbatTarget) // as libutp: no floor, a long queue backs off fast
	l.cwnd += ledbatGain * off * float64(bytes) / l.cwnd
	l.cwnd = min(max(l.cwnd, ledbatMinCwnd), ledbatMaxCwnd)
}

// lost cuts the window for a packet first sent at sent and found lost at
// now, rtt being the connection's mean round trip: once per window of
// data, so the losses of packets sent before the last cut (the same round
// trip's burst) do not cut again. The cut is TCP Veno's (Fu and Liew
// 2003; Linux's tcp_veno): the backlog, the bytes of ours waiting in the
// bottleneck's queue, is the window times the queuing delay over the
// round trip. A loss with fewer than venoBacklog bytes of ours queued,
// and less than randomLossDelay of queuing delay at all, did not come
// from a full queue but from the link (a random loss), and cuts the
// window by a fifth; a loss with a queue behind it, or before any delay
// sample, halves it. The second test is a scavenger's: beside a TCP flow
// that keeps the queue full, our own backlog is small because our window
// is, and Veno's test alone took the overflow losses for random ones (TCP
// kept 78% of the link in the yield bench, 93% before). Halving on every random loss held a flow at 0.5%
// loss and a 100 ms round trip to a window of about 25 packets
// (0.4 MB/s on a 5 MB/s link); beside a TCP flow that fills the queue
// the queue is long and the window still halves.
func (l *ledbat) lost(now, sent time.Time, rtt time.Duration) {
	l.slowStart = false
	if !sent.After(l.lastCut) {
		return
	}
	l.lastCut = now
	l.cuts++
	cut := 0.5
	if qd := l.queuingDelay(); qd >= 0 && qd < randomLossDelay && rtt > 0 && l.cwnd*float64(qd)/float64(rtt) < venoBacklog {
		cut = randomLossCut
		l.randomCuts++
	}
	l.cwnd = max(l.cwnd*cut, ledbatMinCwnd)
	l.ssthresh = l.cwnd
}

// timedOut drops the window to its minimum after a resend timeout.
func (l *ledbat) timedOut(now time.Time) {
	if l.cwnd > ledbatMinCwnd { // the first of a burst of timeouts remembers the window
		l.ssthresh = max(l.cwnd/2, ledbatMinCwnd)
	}
	l.slowStart = true
	l.lastCut = now
	l.timeouts++
	l.cwnd = ledbatMinCwnd
}
