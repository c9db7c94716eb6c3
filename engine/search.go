package engine

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/internal/netguard"
)

// Search sends a keyword query into the supernode overlay (see
// StartSearch). Hits stream on the channel as they arrive, grouped by
// infohash with their sources merged (a later Hit for an infohash
// supersedes the earlier one); the channel is closed when the search is
// done (every supernode asked has answered, or a few seconds passed) or
// ctx ends. In each Hit, sources that served us bad data (peers we banned)
// come last; BadSources counts them and RankHits ranks by the others.
func (e *Engine) Search(ctx context.Context, words string) (<-chan Hit, error) {
	run, err := e.StartSearch(ctx, words)
	if err != nil {
		return nil, err
	}
	return run.Hits, nil
}

// hitOf converts an overlay hit, leaving out our own address as a source
// and putting banned sources last.
func (e *Engine) hitOf(h overlay.Hit, self string) Hit {
	var good, bad []string
	isBad := e.badSourceFunc()
	for _, s := range h.Sources {
		switch {
		case s == self:
		case isBad(s):
			bad = append(bad, s)
		default:
			good = append(good, s)
		}
	}
	return Hit{InfoHash: h.InfoHash, Name: h.Name, Size: h.Size, Files: h.Files, V2: h.V2, Roots: h.Roots,
		Sources: append(good, bad...), Magnet: magnetOf(h.InfoHash, h.V2, h.Name), DHT: h.DHT, Swarm: h.Swarm,
		Scraped: h.Scraped, Seeds: h.Seeds, Leechers: h.Leechers}
}

// badSourceFunc returns a test for "this peer address served us bad data":
// its IP is banned (an IP ban key). It reads the bans once.
func (e *Engine) badSourceFunc() func(addr string) bool {
	e.mu.Lock()
	ips := make(map[string]bool)
	for key := range e.banned {
		if ip, ok := key.IP(); ok {
			ips[ip] = true
		}
	}
	e.mu.Unlock()
	return func(addr string) bool { return ips[netguard.Host(addr)] }
}

// BadSources counts the sources of h that served us bad data before.
func (e *Engine) BadSources(h Hit) int {
	isBad := e.badSourceFunc()
	n := 0
	for _, s := range h.Sources {
		if isBad(s) {
			n++
		}
	}
	return n
}

// RankHits sorts the hits of a search for query best first: hits with
// some health (see health) before dead ones; then how well the name
// matches the query (see nameMatch); then healthiest, most sources, name
// and infohash. The Search tab and `shoal search` order their results
// with it. An empty query ranks by health alone.
func (e *Engine) RankHits(query string, hits []Hit) {
	isBad := e.badSourceFunc()
	words := nameWords(query)
	type ranked struct {
		h           Hit
		good, match int
	}
	rs := make([]ranked, len(hits))
	for i, h := range hits {
		rs[i] = ranked{h, health(h, isBad), nameMatch(words, h.Name)}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(min(b.good, 1), min(a.good, 1)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.match, a.match); c != 0 {
			return c
		}
		if c := cmp.Compare(b.good, a.good); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b.h.Sources), len(a.h.Sources)); c != 0 {
			return c
		}
		if c := strings.Compare(a.h.Name, b.h.Name); c != 0 {
			return c
		}
		return slices.Compare(a.h.InfoHash[:], b.h.InfoHash[:])
	})
	for i, r := range rs {
		hits[i] = r.h
	}
}

// health weighs how available h is. A Shoal source that never served us
// bad data holds the whole torrent, as a seed does: each counts 2. So does
// each seed a BEP 33 scrape counted in its BitTorrent swarm, and each
// leecher counts 1 (leechers hold parts). A DHT hit without a scrape
// counts the peers its supernode saw, 1 each: they may be either.
func health(h Hit, isBad func(string) bool) int {
	n := h.Swarm
	if h.Scraped {
		n = 2*h.Seeds + h.Leechers
	}
	for _, s := range h.Sources {
		if !isBad(s) {
			n += 2
		}
	}
	return n
}

// SearchResults gathers the streamed hits of one search for display, one
// per infohash in the order first seen. The overlay merges the hits of a
// search (overlay.Leaf's mergeHit, the one merge of sources, names and
// swarm sizes), so a later Hit for an infohash supersedes the earlier one.
// It is not safe for concurrent use.
type SearchResults struct {
	e      *Engine
	byHash map[InfoHash]int
	hits   []Hit
}

// NewSearchResults returns an empty result set.
func (e *Engine) NewSearchResults() *SearchResults {
	return &SearchResults{e: e, byHash: make(map[InfoHash]int)}
}

// Add records h, superseding an earlier hit for its infohash, and reports
// whether anything changed.
func (r *SearchResults) Add(h Hit) bool {
	i, ok := r.byHash[h.InfoHash]
	if !ok {
		r.byHash[h.InfoHash] = len(r.hits)
		r.hits = append(r.hits, h)
		return true
	}
	if sameHit(r.hits[i], h) {
		return false
	}
	r.hits[i] = h
	return true
}

// sameHit reports whether a and b would show the same.
func sameHit(a, b Hit) bool {
	return a.Name == b.Name && a.Size == b.Size && a.DHT == b.DHT && a.Swarm == b.Swarm && a.V2 == b.V2 && a.Local == b.Local &&
		a.Scraped == b.Scraped && a.Seeds == b.Seeds && a.Leechers == b.Leechers &&
		slices.Equal(a.Sources, b.Sources) && slices.Equal(a.Files, b.Files) && slices.Equal(a.Roots, b.Roots)
}

// Hits returns the results in the order first seen, with SameFiles and
// AlsoIn set across them.
func (r *SearchResults) Hits() []Hit {
	out := slices.Clone(r.hits)
	markSameFiles(out)
	return out
}

// Len returns the number of distinct infohashes found.
func (r *SearchResults) Len() int { return len(r.hits) }

// Ranked returns a copy of the results, ranked by RankHits for query.
func (r *SearchResults) Ranked(query string) []Hit {
	out := r.Hits()
	r.e.RankHits(query, out)
	return out
}

// markSameFiles sets each hit's SameFiles and AlsoIn: BEP 52 aligns files
// to pieces, so a file's pieces root names its content whatever torrent
// holds it, and a root that two hits carry is one file in both.
func markSameFiles(hits []Hit) {
	holders := make(map[[32]byte][]InfoHash)
	for _, h := range hits {
		for _, r := range h.Roots {
			if !slices.Contains(holders[r], h.InfoHash) {
				holders[r] = append(holders[r], h.InfoHash)
			}
		}
	}
	for i := range hits {
		h := &hits[i]
		others := make(map[InfoHash]bool)
		h.SameFiles = 0
		for _, r := range h.Roots {
			shared := false
			for _, ih := range holders[r] {
				if ih != h.InfoHash {
					others[ih], shared = true, true
				}
			}
			if shared {
				h.SameFiles++
			}
		}
		h.AlsoIn = len(others)
	}
}
