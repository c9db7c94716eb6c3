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
	e.RankHits("", hits)
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
	ranked := r.Ranked("")
	if r.Len() != 2 || ranked[0].Name != "b" || len(ranked[0].Sources) != 2 {
		t.Fatalf("ranked %+v", ranked)
	}
}

// TestRankHealth: ranking weighs swarm health. A seed a BEP 33 scrape
// counted weighs as a good Shoal source (2), a leecher or a peer of an
// unscraped swarm 1, and a source that served bad data nothing.
func TestRankHealth(t *testing.T) {
	t.Parallel()
	e := &Engine{banned: map[PeerKey]string{PeerKeyFromIP("198.51.100.66"): "hash fail"}}
	hits := []Hit{
		{InfoHash: [20]byte{1}, Name: "12 leechers", DHT: true, Swarm: 12, Scraped: true, Leechers: 12},
		{InfoHash: [20]byte{2}, Name: "7 seeds", DHT: true, Swarm: 7, Scraped: true, Seeds: 7},
		{InfoHash: [20]byte{3}, Name: "13 peers, not scraped", DHT: true, Swarm: 13},
		{InfoHash: [20]byte{4}, Name: "5 good sources, 1 bad", Sources: []string{"198.51.100.1:1", "198.51.100.2:1", "198.51.100.3:1", "198.51.100.4:1", "198.51.100.5:1", "198.51.100.66:1"}},
		{InfoHash: [20]byte{5}, Name: "2 seeds, 1 leecher, 1 good source", DHT: true, Swarm: 3, Scraped: true, Seeds: 2, Leechers: 1, Sources: []string{"198.51.100.9:1"}},
	}
	e.RankHits("", hits)
	var names []string
	for _, h := range hits {
		names = append(names, h.Name)
	}
	want := []string{"7 seeds", "13 peers, not scraped", "12 leechers", "5 good sources, 1 bad", "2 seeds, 1 leecher, 1 good source"}
	if !slices.Equal(names, want) {
		t.Fatalf("ranked %q, want %q", names, want)
	}
}
