package engine

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/shoalp2p/shoal/engine/overlay"
)

// SearchHistoryLen is how many past searches the engine keeps.
const SearchHistoryLen = 20

// historyTimeout bounds the SQLite calls of the search history.
const historyTimeout = 5 * time.Second

// SearchProgress says how far a search got.
type SearchProgress struct {
	Asked    int  // supernodes the query went to (known once the first one answers)
	Answered int  // how many of them have answered
	Done     bool // every asked supernode answered, or the answer timeout passed
	TimedOut bool // done, but some supernodes did not answer in time
	Refused  bool // a supernode refused the query (too many searches at once)
	Stopped  bool // stopped (SearchRun.Stop or its context) before it was done
}

// SearchRun is one running search.
type SearchRun struct {
	// Hits streams the hits as Engine.Search does; it is closed when the
	// search is done or stopped.
	Hits <-chan Hit
	// Progress returns how far the search got.
	Progress func() SearchProgress
	// Stop ends the search; Hits is closed soon after.
	Stop func()
}

// StartSearch sends a keyword query into the supernode overlay, records
// the words in the search history, and returns the running search. It is
// done as soon as every supernode the query went to has answered, or after
// a few seconds (overlay.DefaultAnswerTimeout) without some answers.
//
// Words that are one hash (a v1 or v2 infohash, a btmh multihash, a
// file's pieces root, or a magnet link) search by that hash: the
// torrents of the library that have it come first (Hit.Local), then
// those the overlay finds. With no supernode to ask, a hash search still
// gives the library's hits.
func (e *Engine) StartSearch(ctx context.Context, words string) (*SearchRun, error) {
	if err := e.closedErr(); err != nil {
		return nil, err
	}
	words = strings.Join(strings.Fields(words), " ")
	if words == "" {
		return nil, errEmptyQuery
	}
	var local []Hit
	if h, ok := searchHash(words); ok {
		words, local = h, e.libraryHits(h)
	}
	ctx, cancel := context.WithCancel(ctx)
	q, err := e.leaf.Query(ctx, words)
	if err != nil && len(local) == 0 {
		cancel()
		return nil, err
	}
	e.recordSearch(words)
	var once sync.Once
	stop := func() { once.Do(cancel) }
	out := make(chan Hit)
	if q == nil { // the library's hits only
		go func() {
			defer stop()
			e.forwardHits(ctx, local, nil, out)
		}()
		progress := func() SearchProgress { return SearchProgress{Done: true} }
		return &SearchRun{Hits: out, Progress: progress, Stop: stop}, nil
	}
	go func() {
		defer stop()
		e.forwardHits(ctx, local, q.Hits(), out)
	}()
	progress := func() SearchProgress {
		p := q.Progress()
		return SearchProgress{Asked: p.Asked, Answered: p.Answered, Done: p.Done, TimedOut: p.TimedOut,
			Refused: p.Refused, Stopped: !p.Done && ctx.Err() != nil}
	}
	return &SearchRun{Hits: out, Progress: progress, Stop: stop}, nil
}

// forwardHits sends the library's hits (local), then converts overlay
// hits for callers, leaving out hits only we have unless they are in
// local, until in is closed (a nil in: at once) or ctx ends; it closes out.
func (e *Engine) forwardHits(ctx context.Context, local []Hit, in <-chan overlay.Hit, out chan<- Hit) {
	defer close(out)
	mine := make(map[InfoHash]bool, len(local))
	for _, hit := range local {
		mine[hit.InfoHash] = true
		select {
		case out <- hit:
		case <-ctx.Done():
			if in != nil {
				for range in {
				}
			}
			return
		}
	}
	if in == nil {
		return
	}
	self := e.advertised()
	for h := range in {
		hit := e.hitOf(h, self)
		hit.Local = mine[hit.InfoHash]
		if len(hit.Sources) == 0 && !hit.DHT {
			continue // only we have it (sent above if it is in the library)
		}
		select {
		case out <- hit:
		case <-ctx.Done():
			for range in { // let the sender finish and close
			}
			return
		}
	}
}

// recordSearch adds words to the search history; a failure is only logged.
func (e *Engine) recordSearch(words string) {
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	if err := e.db.AddSearch(ctx, words, SearchHistoryLen); err != nil {
		e.log.Warn("search history not saved", "err", err)
	}
}

// SearchHistory returns the last searches, newest first (at most
// SearchHistoryLen).
func (e *Engine) SearchHistory() []string {
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	words, err := e.db.RecentSearches(ctx, SearchHistoryLen)
	if err != nil {
		e.log.Warn("search history not read", "err", err)
	}
	return words
}

// ClearSearchHistory forgets the past searches.
func (e *Engine) ClearSearchHistory() error {
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	return e.db.ClearSearches(ctx)
}
