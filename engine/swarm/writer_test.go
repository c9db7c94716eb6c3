package swarm

import (
	"testing"
	"time"
)

// TestDeadlineExtend: a deadline is set on first use, left alone while it
// is within a second of d ahead, and moved once it falls further behind.
func TestDeadlineExtend(t *testing.T) {
	var sets []time.Time
	set := func(at time.Time) error { sets = append(sets, at); return nil }
	var dl deadline
	const d = 3 * time.Minute
	dl.extend(set, d)
	if len(sets) != 1 || time.Until(sets[0]) < d-time.Second {
		t.Fatalf("first extend set %v, want one deadline about %v ahead", sets, d)
	}
	dl.extend(set, d)
	if len(sets) != 1 {
		t.Fatalf("extend right after set the deadline again: %v", sets)
	}
	dl.at = dl.at.Add(-2 * time.Second) // as if two seconds passed
	dl.extend(set, d)
	if len(sets) != 2 || time.Until(sets[1]) < d-time.Second {
		t.Fatalf("extend after 2 s set %v, want a second deadline about %v ahead", sets, d)
	}
}
