package overlay

import (
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shoalp2p/shoal/internal/locks"
)

// DefaultAnswerTimeout is how long a search waits for the supernodes it
// went to before it calls itself done without the missing answers.
const DefaultAnswerTimeout = 5 * time.Second

// Query is one running search: its hits and how far it got.
type Query struct {
	id       uuid.UUID
	hits     <-chan Hit
	mu       locks.Mutex
	p        Progress
	asked    []string // supernodes the query went to, once it is done
	answered []string // those of them that answered, once it is done
}

// Progress says how far a search got.
type Progress struct {
	Asked    int  // supernodes the query went to (known once the first supernode answers)
	Answered int  // how many of them have answered
	Done     bool // every asked supernode answered, or the answer timeout passed
	TimedOut bool // done because the answer timeout passed before every answer came
	Refused  bool // a supernode refused the query (too many searches, or bad words)
}

// ID returns the query's UUID, as it travels on the wire.
func (q *Query) ID() uuid.UUID { return q.id }

// Hits streams the hits (see Leaf.Query); it is closed when the search is
// done or stopped.
func (q *Query) Hits() <-chan Hit { return q.hits }

// Progress returns how far the search got.
func (q *Query) Progress() Progress {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.p
}

func (q *Query) set(p Progress) {
	q.mu.Lock()
	q.p = p
	q.mu.Unlock()
}

// Supernodes returns, once the search is done, the addresses of the
// supernodes it went to and of those that answered, each sorted; both are
// empty before. A search that timed out shows here who stayed silent.
func (q *Query) Supernodes() (asked, answered []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.asked), slices.Clone(q.answered)
}

// finish records the final progress and who was asked and answered.
func (q *Query) finish(t *answerTracker, timedOut bool) {
	p := t.progress(timedOut)
	asked, answered := sortedKeys(t.asked), sortedKeys(t.answered)
	q.mu.Lock()
	q.p, q.asked, q.answered = p, asked, answered
	q.mu.Unlock()
}

// searchEvent is what reaches a running search: hits, an answer mark, a
// refusal, or the news that the query went again to a new supernode.
type searchEvent struct {
	hits    []Hit
	ans     *answer
	refused bool // a supernode we sent the query to refused it
	reset   bool // the query went again, to the supernode taking over
}

// answerTracker counts a search's answers: it is complete once every
// supernode the query went to has answered, counting only after each
// supernode the leaf sent it to has told its asked list (or refused).
type answerTracker struct {
	plans    int // asked lists (or refusals) still awaited
	refused  bool
	asked    map[string]bool
	answered map[string]bool
}

func newAnswerTracker(origins int) *answerTracker {
	return &answerTracker{plans: origins, asked: map[string]bool{}, answered: map[string]bool{}}
}

// add records ev's answer part; it reports whether ev had one.
func (t *answerTracker) add(ev searchEvent) bool {
	switch {
	case ev.refused:
		t.plans--
		t.refused = true
		return true
	case ev.ans == nil:
		return false
	}
	if len(ev.ans.Asked) > 0 {
		t.plans--
		for _, a := range ev.ans.Asked {
			t.asked[a] = true
		}
	}
	if ev.ans.From != "" {
		t.answered[ev.ans.From] = true
	}
	return true
}

// progress returns the counts; timedOut marks a search ended by its timeout.
func (t *answerTracker) progress(timedOut bool) Progress {
	p := Progress{Asked: len(t.asked), Refused: t.refused}
	for a := range t.asked {
		if t.answered[a] {
			p.Answered++
		}
	}
	p.Done = timedOut || (t.plans <= 0 && p.Answered == p.Asked)
	p.TimedOut = timedOut && !(t.plans <= 0 && p.Answered == p.Asked)
	return p
}

// answerTimeout is the leaf's configured answer timeout.
func (l *Leaf) answerTimeout() time.Duration {
	if l.cfg.AnswerTimeout > 0 {
		return l.cfg.AnswerTimeout
	}
	return DefaultAnswerTimeout
}

// refuseSearch tells a running search that a supernode refused it.
func (l *Leaf) refuseSearch(m *message) {
	if m.ID == "" {
		return
	}
	if srch := l.running(m.qid); srch != nil {
		srch.post(searchEvent{refused: true})
	}
}
