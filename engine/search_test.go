package engine

import (
	"slices"
	"testing"

	"github.com/shoalp2p/shoal/engine/overlay"
)

// TestSearchRanking: hits are ranked by sources that never served bad
// data; banned sources go last within a hit; our own address is dropped.
func TestSearchRanking(t *testing.T) {
	t.Parallel()
	e := &Engine{banned: map[PeerKey]string{PeerKeyFromIP("198.51.100.66"): "hash fail", PeerKeyFromID([20]byte{0xab, 0xcd}): "hash fail"}}
	self := "198.51.100.1:6881"
	h := e.hitOf(overlay.Hit{InfoHash: [20]byte{1}, Name: "x",
		Sources: []string{"198.51.100.66:1", self, "198.51.100.2:1"}}, self)
	if !slices.Equal(h.Sources, []string{"198.51.100.2:1", "198.51.100.66:1"}) || e.BadSources(h) != 1 {
		t.Fatalf("sources %v, bad %d", h.Sources, e.BadSources(h))
	}
	hits := []Hit{
		{InfoHash: [20]byte{1}, Name: "three, two of them bad", Sources: []string{"198.51.100.66:1", "198.51.100.66:2", "198.51.100.3:1"}},
		{InfoHash: [20]byte{2}, Name: "two good", Sources: []string{"198.51.100.4:1", "198.51.100.5:1"}},
		{InfoHash: [20]byte{3}, Name: "one good", Sources: []string{"198.51.100.6:1"}},
		{InfoHash: [20]byte{4}, Name: "one good, one bad", Sources: []string{"198.51.100.7:1", "198.51.100.66:3"}},
		{InfoHash: [20]byte{5}, Name: "only bad", Sources: []string{"198.51.100.66:4", "198.51.100.66:5", "198.51.100.66:6", "198.51.100.66:7"}},
	}
	e.RankHits(hits)
	var names []string
	for _, h := range hits {
		names = append(names, h.Name)
	}
	want := []string{"two good", "three, two of them bad", "one good, one bad", "one good", "only bad"}
	if !slices.Equal(names, want) {
		t.Fatalf("ranked %q, want %q", names, want)
	}
}

// TestSearchResultsSupersede: a later hit for an infohash replaces the
// earlier one (the overlay has merged them), and Add reports only real
// changes.
func TestSearchResultsSupersede(t *testing.T) {
	t.Parallel()
	e := &Engine{banned: map[PeerKey]string{}}
	r := e.NewSearchResults()
	steps := []struct {
		h       Hit
		changed bool
	}{
		{Hit{InfoHash: [20]byte{1}, Name: "a", Sources: []string{"198.18.0.1:1"}}, true},
		{Hit{InfoHash: [20]byte{1}, Name: "a", Sources: []string{"198.18.0.1:1"}}, false},
		{Hit{InfoHash: [20]byte{2}, Name: "b", Sources: []string{"198.18.0.1:1"}}, true},
		{Hit{InfoHash: [20]byte{2}, Name: "b", Sources: []string{"198.18.0.2:1", "198.18.0.1:1"}}, true},
	}
	for i, s := range steps {
		if got := r.Add(s.h); got != s.changed {
			t.Fatalf("step %d: changed %v", i, got)
		}
	}
	ranked := r.Ranked()
	if r.Len() != 2 || ranked[0].Name != "b" || len(ranked[0].Sources) != 2 {
		t.Fatalf("ranked %+v", ranked)
	}
}
