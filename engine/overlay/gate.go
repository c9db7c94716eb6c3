package overlay

import "sync"

// dbGate orders the index's one database connection between searches and
// writes: a search waiting for it goes before any write waiting, and a
// search, once in, runs all its statements before a write can start. A
// write in progress is never cut short, so writes are kept short instead
// (put works in chunks of putChunk entries and lets waiting searches in
// between).
//
// Without it, database/sql hands the free connection to a random waiter,
// statement by statement: a search of five statements took its chance
// five times against every share write queued. When a fifth of the
// supernodes died at once, the survivors took in the leaves' shares again
// and their searches waited for seconds, past the searchers' answer
// timeout: in the 1,000- and 3,000-node simulations recall fell to
// 0.1–0.6 for the whole 15 s after the kill.
type dbGate struct {
	mu       sync.Mutex
	cond     sync.Cond
	busy     bool
	waiting  int // searches waiting
	writers  int // writes waiting
	readsRun int // searches in a row since the last write
}

// maxReadsInRow is how many searches in a row may go before a waiting
// write: under a steady stream of searches writes still get in (a new
// leaf's shares get indexed), one chunk per this many searches.
const maxReadsInRow = 8

func newDBGate() *dbGate {
	g := &dbGate{}
	g.cond.L = &g.mu
	return g
}

// enter waits for the connection: a search (read) goes first, a write
// waits until no search is waiting or searches have had their run.
func (g *dbGate) enter(read bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if read {
		g.waiting++
		for g.busy || g.writers > 0 && g.readsRun >= maxReadsInRow {
			g.cond.Wait()
		}
		g.waiting--
		g.readsRun++
	} else {
		g.writers++
		for g.busy || g.waiting > 0 && g.readsRun < maxReadsInRow {
			g.cond.Wait()
		}
		g.writers--
		g.readsRun = 0
	}
	g.busy = true
}

// leave hands the connection on.
func (g *dbGate) leave() {
	g.mu.Lock()
	g.busy = false
	g.mu.Unlock()
	g.cond.Broadcast()
}
