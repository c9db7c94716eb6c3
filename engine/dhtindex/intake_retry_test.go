package dhtindex

import (
	"testing"
	"time"
)

// TestIntakeRetriesFailedFetch: an infohash whose peers failed to give the
// metadata is taken in again after failedTTL, one indexed (or refreshed)
// only after recentTTL.
func TestIntakeRetriesFailedFetch(t *testing.T) {
	in := newIntake(1000)
	now := time.Now()
	failed, ok := [20]byte{1}, [20]byte{2}
	for _, ih := range [][20]byte{failed, ok} {
		if !in.offer(ih, "198.51.100.1", "", now) {
			t.Fatal("first offer refused")
		}
		in.next()
	}
	in.done(failed, false, true, now)
	in.done(ok, false, false, now)
	later := now.Add(failedTTL - time.Second)
	if in.offer(failed, "198.51.100.1", "", later) || in.offer(ok, "198.51.100.1", "", later) {
		t.Fatal("taken in again before failedTTL")
	}
	later = now.Add(failedTTL + time.Second)
	if !in.offer(failed, "198.51.100.1", "", later) {
		t.Fatal("failed fetch not retried after failedTTL")
	}
	if in.offer(ok, "198.51.100.1", "", later) {
		t.Fatal("handled infohash taken in again before recentTTL")
	}
}
