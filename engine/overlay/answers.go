package overlay

import (
	"fmt"

	"github.com/google/uuid"
)

// A search knows when it is over. The first supernode a query reaches (its
// origin) tells the searcher which supernodes it sent the query to (the
// "asked" list: itself and its delivery tree), and every supernode that
// processes the query says so once it has answered, with or without hits
// (the "answered" mark). Both ride on hits frames, after the hits they
// follow, and travel back along the query's reverse path like hits. The
// searcher's Leaf ends the search as soon as every asked supernode has
// answered, or when its answer timeout passes.

// answer is the end-of-answer part of a hits frame.
type answer struct {
	From  string   // the supernode that has finished answering, if any
	Asked []string // set by the origin: every supernode the query went to
}

// answerer is an origin that can carry answer marks back to the searcher.
type answerer interface {
	answered(id uuid.UUID, a answer)
}

// validateAnswer checks the addresses of a hits frame's answer part.
func (m *message) validateAnswer() error {
	if m.Answered != "" {
		if err := checkHostPort(m.Answered); err != nil {
			return fmt.Errorf("answered: %w", err)
		}
	}
	if len(m.Asked) > maxAskedListed {
		return fmt.Errorf("%d supernodes asked", len(m.Asked))
	}
	for _, a := range m.Asked {
		if err := checkHostPort(a); err != nil {
			return fmt.Errorf("asked: %w", err)
		}
	}
	return nil
}

// answerOf returns the answer part of a hits frame, and whether it has one.
func answerOf(m *message) (answer, bool) {
	return answer{From: m.Answered, Asked: m.Asked}, m.Answered != "" || len(m.Asked) > 0
}

func (n *neighbour) answered(id uuid.UUID, a answer) { sendAnswer(n.ln, id, a) }

func (lc *leafConn) answered(id uuid.UUID, a answer) { sendAnswer(lc.ln, id, a) }

// sendAnswer queues an answer mark (a hits frame with no hits) on ln.
func sendAnswer(ln *link, id uuid.UUID, a answer) {
	ln.trySend(&message{Type: typeHits, ID: id.String(), Answered: a.From, Asked: a.Asked})
}

// tell passes a to o, if o can carry answer marks.
func tell(o origin, id uuid.UUID, a answer) {
	if ao, ok := o.(answerer); ok {
		ao.answered(id, a)
	}
}

// tellPlan tells the searcher which supernodes a query we are the origin of
// went to: us and every node of its delivery tree.
func (s *Supernode) tellPlan(o origin, id uuid.UUID, tree map[string]string) {
	asked := make([]string, 0, len(tree)+1)
	asked = append(asked, s.cfg.Addr)
	for n := range tree {
		if n != s.cfg.Addr {
			asked = append(asked, n)
		}
	}
	tell(o, id, answer{Asked: asked})
}

// tellAnswered says we have finished answering query id.
func (s *Supernode) tellAnswered(o origin, id uuid.UUID) {
	tell(o, id, answer{From: s.cfg.Addr})
}
