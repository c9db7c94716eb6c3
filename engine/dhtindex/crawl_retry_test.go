package dhtindex

import (
	"errors"
	"testing"
	"time"
)

// TestCrawlRetriesSilentNode: a node that does not answer a
// sample_infohashes is asked again after failedRetryGap, then after twice
// that, up to failedGap; an answer resets the count.
func TestCrawlRetriesSilentNode(t *testing.T) {
	cs := newCrawlState(IndexerConfig{CrawlRate: 1})
	const key = "198.51.100.7:6881"
	now := time.Now()
	lost := errors.New("timeout")
	for i, want := range []time.Duration{failedRetryGap, 2 * failedRetryGap, 4 * failedRetryGap, 8 * failedRetryGap, 16 * failedRetryGap, failedGap, failedGap} {
		cs.record(key, SampleAnswer{}, lost, now)
		if got := cs.nextAt[key].Sub(now); got != want {
			t.Fatalf("after %d silences in a row: asked again in %v, want %v", i+1, got, want)
		}
	}
	if !cs.record(key, SampleAnswer{Samples: [][20]byte{{1}}, Interval: time.Minute}, nil, now) {
		t.Fatal("an answer with samples was not taken")
	}
	cs.record(key, SampleAnswer{}, lost, now)
	if got := cs.nextAt[key].Sub(now); got != failedRetryGap {
		t.Fatalf("a silence after an answer: asked again in %v, want %v", got, failedRetryGap)
	}
}
