package utp

import (
	"time"
)

// The target is LEDBAT++'s 60 ms (draft-irtf-iccrg-ledbat-plus-plus),
// not libutp's 100 ms: a bottleneck whose queue holds 100 ms or less (the
// bench's lossy link has 100 ms) never shows a delay past a 100 ms
// target, so beside a TCP flow that keeps it full LEDBAT kept growing,
// slower but never yielding by delay, and only overflow losses held it.
//
// LEDBAT (RFC 6817), as libutp does it: the sender's congestion window
// grows while the one-way queuing delay it measures stays below a target
// and shrinks as the delay passes the target, so a uTP flow yields to
// TCP flows that fill a bottleneck's queue. Added to this copy of
// anacrolix/utp, which paced by the peer's receive window alone.
//
// The delay comes from the peer: every packet it sends carries, in its
// timestamp_difference field, its clock at the receipt of our last packet
// minus that packet's timestamp, i.e. our one-way delay plus the clocks'
// offset. The base delay is the smallest such value over the last ten
// minutes (the offset plus the propagation delay); a sample minus the
// base is the queuing delay. The window starts in slow start (one more
// packet per packet acked) until the queuing delay passes half the
// target, then grows by at most ledbatGain bytes per round trip, in
// proportion to how far the delay is under the target, and shrinks in
// proportion to the window and to how far the delay is past it (see
// decrease). A loss (a packet
// resent after three later ones were acked) halves the window at most
// once per window of data (a round trip), unless no queue explains it (a
// random loss, see lost), which leaves the window as it is. A resend
// timeout drops it to the minimum, and, as TCP does after a timeout, slow
// start then brings it back to half the window it had (ssthresh) before
// LEDBAT's slow growth takes over.
const (
	ledbatTarget   = 60 * time.Millisecond // queuing delay aimed at (LEDBAT++'s; libutp's CCONTROL_TARGET is 100 ms, see below)
	ledbatGain     = 3000.0                // most bytes the window grows per round trip (MAX_CWND_INCREASE_BYTES_PER_RTT)
	ledbatMinCwnd  = 2 * maxPayloadSize    // the window never closes below two packets
	ledbatInitCwnd = 10 * maxPayloadSize   // the first window, as TCP's initial window
	ledbatMaxCwnd  = readBufferLen         // above the receive window we never use it
	ledbatSamples  = 4                     // delay samples filtered (the smallest of the last few is used)
	baseHistory    = 10                    // minutes of base delay minima kept (RFC 6817's BASE_HISTORY)
	// venoBacklog: below this backlog of ours (or a sixteenth of the
	// window, if more) a loss may be random (TCP Veno's β, 3 packets)
	venoBacklog = 3 * maxPayloadSize
	// randomLossRate: more losses than this share of a window in a round
	// trip (and more than two) are congestion
	randomLossRate = 0.02
	// randomLossDelay: with this much queued (anyone's data) a loss is
	// taken for congestion whatever our own backlog
	randomLossDelay = 20 * time.Millisecond
)

// ledbat is one connection's sender-side congestion state. The
// package-wide mutex (mu) guards it, like the rest of Conn.
type ledbat struct {
	cwnd      float64 // bytes allowed in flight
	slowStart bool
	ssthresh  float64 // slow start ends at this window (after a timeout), or at half the delay target
	// base delay: the minima of the last baseHistory minutes, a ring
	// whose current minute is baseMins[baseAt]; nBase of them are set
	baseMins                [baseHistory]uint32
	baseAt, nBase           int
	baseMinute              time.Time
	recent                  [ledbatSamples]uint32
	nRecent, next           int
	lastCut                 time.Time
	cuts, timeouts, samples int64
	randomLosses            int64     // losses taken for random ones (no cut)
	roundStart              time.Time // the round trip whose losses roundLosses counts
	roundLosses             int
}

func newLedbat() ledbat {
	return ledbat{cwnd: ledbatInitCwnd, slowStart: true, ssthresh: ledbatMaxCwnd}
}

// window is the congestion window in bytes.
func (l *ledbat) window() uint32 { return uint32(l.cwnd) }

// sample records a timestamp_difference from the peer (0 means it has
// none yet). As RFC 6817 §4 has it, the base delay is kept as one minimum
// per minute over the last baseHistory minutes, so a base learnt on an
// empty queue outlives the minutes a competing flow keeps the queue
// full, and a route that got longer is learnt within ten minutes. The
// field is a difference of two 32-bit clocks in µs and wraps, so values
// are only ever compared by their signed difference.
func (l *ledbat) sample(diff uint32, now time.Time) {
	if diff == 0 {
		return
	}
	l.samples++
	switch {
	case l.nBase == 0:
		l.baseMins[0], l.nBase, l.baseMinute = diff, 1, now
	case now.Sub(l.baseMinute) >= time.Minute:
		l.baseAt = (l.baseAt + 1) % baseHistory
		l.baseMins[l.baseAt], l.baseMinute = diff, now
		l.nBase = min(l.nBase+1, baseHistory)
	case int32(diff-l.baseMins[l.baseAt]) < 0:
		l.baseMins[l.baseAt] = diff
	}
	l.recent[l.next] = diff
	l.next = (l.next + 1) % ledbatSamples
	l.nRecent = min(l.nRecent+1, ledbatSamples)
}

// base is the base delay: the least of the minutes' minima.
func (l *ledbat) base() uint32 {
	b := l.baseMins[l.baseAt]
	for i := 1; i < l.nBase; i++ {
		m := l.baseMins[(l.baseAt+baseHistory-i)%baseHistory]
		if int32(m-b) < 0 {
			b = m
		}
	}
	return b
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

// acked grows or shrinks the window for bytes newly acknowledged, flight
// being the bytes that were in flight when the ack came. The window grows
// only while it was full (flight within a packet of it), as libtorrent's
// cwnd_saturated and RFC 7661 have it: a sender held back by something
// else (the application, the peer's receive window, the cap of
// maxSendPackets packets) would otherwise grow a window it never uses,
// to be let loose all at once later, and a halving of it would not slow
// the sender down at all. It shrinks whenever the queue is past the
// target.
func (l *ledbat) acked(bytes, flight uint32) {
	if bytes == 0 {
		return
	}
	full := float64(flight)+maxPayloadSize > l.cwnd
	qd := l.queuingDelay()
	if l.slowStart {
		if qd < ledbatTarget/2 && l.cwnd < l.ssthresh {
			if full {
				l.cwnd = min(l.cwnd+float64(bytes), ledbatMaxCwnd)
			}
			return
		}
		l.slowStart = false
	}
	if qd < 0 {
		return
	}
	if qd > ledbatTarget {
		l.cwnd += float64(bytes) * decrease(l.cwnd, qd)
	} else if full {
		off := float64(ledbatTarget-qd) / float64(ledbatTarget)
		l.cwnd += ledbatGain * off * float64(bytes) / l.cwnd
	}
	l.cwnd = min(max(l.cwnd, ledbatMinCwnd), ledbatMaxCwnd)
}

// decrease is the change of a window cwnd per byte acked while qd, past
// the target, is queued: LEDBAT++'s multiplicative decrease
// (draft-irtf-iccrg-ledbat-plus-plus §4.2), per round trip
// max(gain - cwnd·(qd/target - 1), -cwnd/2), spread over a window's
// acks. RFC 6817's decrease, like its increase, is at most ledbatGain
// bytes a round trip: a window of 200 packets took over a hundred round
// trips to give way to a TCP flow filling the queue, so what LEDBAT
// yielded depended on whether the queue overflowed (a loss halves the
// window) rather than on the delay, and it varied from run to run.
func decrease(cwnd float64, qd time.Duration) float64 {
	over := float64(qd-ledbatTarget) / float64(ledbatTarget)
	return max(ledbatGain/cwnd-over, -0.5)
}

// lost reacts to a packet first sent at sent and found lost at now, rtt
// being the connection's smoothed round trip (SRTT, rtt.go). A congestion
// loss halves the window, once per window of data, so the losses of
// packets sent before the last cut (the same round trip's burst) do not
// cut again, and ends slow start. A random loss changes nothing: LEDBAT's congestion signal
// is the queuing delay, and a loss that no queue explains did not come
// from congestion. A loss is random by TCP Veno's test (Fu and Liew 2003;
// Linux's tcp_veno) and two more: the backlog, the bytes of ours waiting
// in the bottleneck's queue (the window times the queuing delay over the
// round trip), is under venoBacklog or a sixteenth of the window,
// whichever is more; the queuing delay of anyone's data is under
// randomLossDelay (a scavenger's test: beside a TCP flow that keeps the
// queue full, our own backlog is small because our window is, and Veno's
// test alone took the overflow losses for random ones); and losses are
// rare, at most randomLossRate of a window's packets in a round trip
// (BBRv2's 2% threshold) or two if that is more, so a bottleneck whose
// buffer is too shallow to show a queue still cuts us by its drops. A loss before any
// delay sample counts as congestion.
//
// Any cut for a random loss bounds the window at a given loss rate
// whatever the link's speed: with a cut by a fifth and 3,000 bytes of
// growth a round trip, 0.5% loss held a 100 ms round trip to about 45
// packets (0.6 MB/s on a 5 MB/s link); halving held it to 25.
func (l *ledbat) lost(now, sent time.Time, rtt time.Duration) {
	if l.random(now, rtt) {
		l.randomLosses++
		return
	}
	l.slowStart = false
	if !sent.After(l.lastCut) {
		return
	}
	l.lastCut = now
	l.cuts++
	l.cwnd = max(l.cwnd/2, ledbatMinCwnd)
	l.ssthresh = l.cwnd
}

// random counts a loss at now in its round trip and reports whether it is
// a random one (see lost).
func (l *ledbat) random(now time.Time, rtt time.Duration) bool {
	if rtt <= 0 {
		return false
	}
	if now.Sub(l.roundStart) >= rtt {
		l.roundStart, l.roundLosses = now, 0
	}
	l.roundLosses++
	qd := l.queuingDelay()
	if qd < 0 || qd >= randomLossDelay || l.cwnd*float64(qd)/float64(rtt) >= max(venoBacklog, l.cwnd/16) {
		return false
	}
	return float64(l.roundLosses) <= max(2, randomLossRate*l.cwnd/maxPayloadSize)
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
