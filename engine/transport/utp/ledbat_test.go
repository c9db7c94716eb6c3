package utp

import (
	"testing"
	"time"
)

// feed gives l n acks of one packet each, every one measuring the given
// one-way delay (in µs) on top of an offset between the clocks.
func feed(l *ledbat, n int, delayUS uint32, now time.Time) {
	const offset = 0xfffff000 // the clocks' offset wraps the field around
	for range n {
		l.sample(offset+delayUS, now)
		l.acked(maxPayloadSize)
	}
}

// TestLedbatSlowStartThenTarget: the window grows by a packet per packet
// while the queue is empty, leaves slow start once the queuing delay
// passes half the target, then shrinks while the delay stays above it.
func TestLedbatSlowStartThenTarget(t *testing.T) {
	l := newLedbat()
	now := time.Unix(1000, 0)
	feed(&l, 1, 20000, now) // the base: 20 ms of propagation
	feed(&l, 100, 20000, now)
	if !l.slowStart || l.window() < 100*maxPayloadSize {
		t.Fatalf("empty queue: slow start %v, window %d; want still in slow start, ≥100 packets", l.slowStart, l.window())
	}
	feed(&l, ledbatSamples+1, 20000+150000, now) // 150 ms queued: past the 100 ms target, once the filter has only such samples
	if l.slowStart {
		t.Fatal("still in slow start with 150 ms queued")
	}
	grown := l.window()
	feed(&l, 50, 20000+150000, now)
	if l.window() >= grown {
		t.Fatalf("window %d with 150 ms queued, want below %d", l.window(), grown)
	}
	acks := 0
	for ; l.window() > ledbatMinCwnd && acks < 100000; acks++ {
		feed(&l, 1, 20000+500000, now) // half a second queued
	}
	if l.window() != ledbatMinCwnd || acks > 2000 {
		t.Fatalf("window %d after %d acks with 500 ms queued, want the minimum %d within 2000", l.window(), acks, ledbatMinCwnd)
	}
	// The queue drains: the window grows again, by at most ledbatGain per window's worth of acks.
	before := l.window()
	feed(&l, 2, 20000, now)
	if l.window() <= before || l.window() > before+uint32(ledbatGain)+1 {
		t.Fatalf("window %d → %d with the queue drained", before, l.window())
	}
}

// TestLedbatLoss: a loss halves the window once per window of data (a
// loss of a packet sent before the last cut does not cut again); a
// resend timeout drops it to the minimum.
func TestLedbatLoss(t *testing.T) {
	l := newLedbat()
	now := time.Unix(1000, 0)
	l.cwnd = 100 * maxPayloadSize
	l.lost(now, now.Add(-50*time.Millisecond), 100*time.Millisecond)
	l.lost(now.Add(10*time.Millisecond), now.Add(-40*time.Millisecond), 100*time.Millisecond) // sent before the cut: same round trip
	if l.window() != 50*maxPayloadSize {
		t.Fatalf("window %d after two losses in one round trip, want %d", l.window(), 50*maxPayloadSize)
	}
	l.lost(now.Add(60*time.Millisecond), now.Add(time.Millisecond), 100*time.Millisecond) // sent after the cut
	if l.window() != 25*maxPayloadSize {
		t.Fatalf("window %d after a loss in the next round trip, want %d", l.window(), 25*maxPayloadSize)
	}
	l.timedOut(now)
	l.timedOut(now) // a burst of timeouts counts once
	if l.window() != ledbatMinCwnd {
		t.Fatalf("window %d after a timeout, want %d", l.window(), ledbatMinCwnd)
	}
	// Slow start brings it back to half the window it had (12.5 packets), then stops.
	for acks := 0; l.slowStart && acks < 50; acks++ {
		feed(&l, 1, 20000, now)
	}
	if want := uint32(25 * maxPayloadSize / 2); l.slowStart || l.window() < want || l.window() > want+2*maxPayloadSize {
		t.Fatalf("after a timeout: slow start %v, window %d; want slow start to end at %d", l.slowStart, l.window(), want)
	}
}

// TestLedbatRandomLoss drives the controller through a scripted loss
// pattern: losses while nothing of ours is queued (a random loss, as on a
// lossy radio link) cut the window by a fifth, once per round trip; a
// loss while the queue holds many packets of ours, or while the queue is
// long though few of them are ours (beside a TCP flow that fills it),
// halves it, as does a loss before any delay sample.
func TestLedbatRandomLoss(t *testing.T) {
	const rtt = 100 * time.Millisecond
	now := time.Unix(1000, 0)
	l := newLedbat()
	l.slowStart, l.cwnd = false, 100*maxPayloadSize
	feed(&l, ledbatSamples+1, 50000, now) // every sample at the base: an empty queue
	l.cwnd = 100 * maxPayloadSize
	l.lost(now, now.Add(-rtt), rtt)
	l.lost(now.Add(5*time.Millisecond), now.Add(-rtt+time.Millisecond), rtt) // the same round trip's burst
	if want := uint32(80 * maxPayloadSize); l.window() != want || l.randomCuts != 1 {
		t.Fatalf("random losses in one round trip: window %d (%d random cuts), want %d after one cut by a fifth", l.window(), l.randomCuts, want)
	}
	l.lost(now.Add(rtt), now.Add(time.Millisecond), rtt) // the next round trip
	if want := uint32(64 * maxPayloadSize); l.window() != want {
		t.Fatalf("a random loss a round trip later: window %d, want %d", l.window(), want)
	}

	// 60 ms queued on a 160 ms round trip with 64 packets in flight: 24 packets of ours wait in the queue.
	feed(&l, ledbatSamples, 50000+60000, now)
	l.cwnd = 64 * maxPayloadSize
	l.lost(now.Add(2*rtt), now.Add(rtt+time.Millisecond), 160*time.Millisecond)
	if want := uint32(32 * maxPayloadSize); l.window() != want || l.randomCuts != 2 {
		t.Fatalf("a loss with a full queue: window %d (%d random cuts), want halved to %d", l.window(), l.randomCuts, want)
	}

	// Beside a TCP flow that keeps the queue full: 60 ms queued, but our
	// window is small (4 packets on a 110 ms round trip, about 2 of them
	// queued). The queue, not the link, lost the packet: halve.
	feed(&l, ledbatSamples, 50000+60000, now)
	l.cwnd = 4 * maxPayloadSize
	l.lost(now.Add(3*rtt), now.Add(2*rtt+time.Millisecond), 110*time.Millisecond)
	if want := uint32(2 * maxPayloadSize); l.window() != want || l.randomCuts != 2 {
		t.Fatalf("a loss beside a queue-filling flow: window %d (%d random cuts), want halved to %d", l.window(), l.randomCuts, want)
	}

	fresh := newLedbat() // no delay sample yet: the queue is unknown
	fresh.cwnd = 40 * maxPayloadSize
	fresh.lost(now, now.Add(-rtt), rtt)
	if want := uint32(20 * maxPayloadSize); fresh.window() != want {
		t.Fatalf("a loss before any delay sample: window %d, want halved to %d", fresh.window(), want)
	}
}

// TestLedbatBaseDelayAges: the base delay is the minimum over the last two
// minutes, so a route that got longer is learnt within two minutes.
func TestLedbatBaseDelayAges(t *testing.T) {
	l := newLedbat()
	now := time.Unix(1000, 0)
	l.sample(10000, now)
	l.sample(50000, now.Add(61*time.Second))
	if l.base() != 10000 {
		t.Fatalf("base %d a minute later, want 10000 still", l.base())
	}
	l.sample(50000, now.Add(122*time.Second))
	if l.base() != 50000 {
		t.Fatalf("base %d two minutes later, want 50000", l.base())
	}
}
