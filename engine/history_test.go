package engine

import (
	"testing"
	"time"
)

// TestRateHistoryPadsIdleSeconds: the flush skips idle seconds, so the
// history fills them with zeros, one per second up to now, and stops
// changing once the whole window is zeros (an idle graph redraws nothing).
func TestRateHistoryPadsIdleSeconds(t *testing.T) {
	var h rateHistory
	start := time.Unix(1700000000, 0)
	h.add(start, 10, 20)
	h.padTo(start.Add(5*time.Second + time.Millisecond))
	if len(h.samples) != 6 {
		t.Fatalf("5 idle seconds gave %d samples, want 6", len(h.samples))
	}
	for i, s := range h.samples[1:] {
		if s.Up != 0 || s.Down != 0 || !s.At.Equal(start.Add(time.Duration(i+1)*time.Second)) {
			t.Fatalf("padded sample %d = %+v", i, s)
		}
	}
	h.add(start.Add(6*time.Second), 1, 1) // the next flush: no double second
	if n := len(h.samples); n != 7 || h.samples[6].Up != 1 {
		t.Fatalf("after a flush: %d samples, last %+v; want 7 ending with the flush", n, h.samples[n-1])
	}
	h.padTo(start.Add(time.Hour))
	if n := len(h.samples); n != historyLen {
		t.Fatalf("an hour idle: %d samples, want %d", n, historyLen)
	}
	last := h.samples[historyLen-1].At
	h.padTo(start.Add(2 * time.Hour))
	if got := h.samples[historyLen-1].At; !got.Equal(last) {
		t.Fatalf("an all-zero history kept changing: last sample %v, was %v", got, last)
	}
	var empty rateHistory
	empty.padTo(start)
	if len(empty.samples) != 0 {
		t.Fatal("an empty history was padded")
	}
}
