package choker

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

// Peer is the choker's view of one connection.
type Peer struct {
	ID         uint64
	Interested bool    // the peer wants our data
	DownRate   float64 // bytes/s it sends us
	UpRate     float64 // bytes/s we send it
	Credit     float64 // long-run give/take ratio from the credit ledger; 1 is neutral
	New        bool    // connected recently: favoured for the optimistic slot
	Unchoked   bool    // we upload to it now (a slot may be given between rounds)
}

// Choker holds the state that persists across rounds.
type Choker struct {
	// Slots is the number of regular (tit-for-tat) upload slots.
	Slots      int
	round      int
	optimistic uint64
	rng        *rand.Rand
	// unchoked is the round each connected peer was last unchoked in,
	// which orders the turns when seeding.
	unchoked map[uint64]int
}

// New returns a choker with the given number of regular upload slots.
func New(slots int) *Choker {
	if slots < 1 {
		slots = 4
	}
	return &Choker{Slots: slots, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// Round returns the IDs to unchoke; everything else is choked.
func (c *Choker) Round(peers []Peer, seeding bool) map[uint64]bool {
	unchoke := make(map[uint64]bool)
	interested := make([]Peer, 0, len(peers))
	for _, p := range peers {
		if p.Interested {
			interested = append(interested, p)
		}
	}
	c.noteUnchoked(peers)
	slices.SortStableFunc(interested, func(a, b Peer) int {
		if seeding {
			if by := cmp.Compare(c.waited(b), c.waited(a)); by != 0 {
				return by
			}
		}
		return cmp.Compare(score(b, seeding), score(a, seeding))
	})
	slots := c.Slots
	if seeding {
		slots++ // turns do the optimistic slot's work: it is one more turn
	}
	for i := 0; i < len(interested) && len(unchoke) < slots; i++ {
		if !seeding && interested[i].Leech() {
			break // sorted: only leeches are left; they may get the optimistic slot
		}
		unchoke[interested[i].ID] = true
	}
	c.unchokeOptimistic(interested, unchoke, seeding)
	c.remember(peers, unchoke)
	c.round++
	return unchoke
}

// unchokeOptimistic adds the optimistic unchoke, kept three rounds, when
// leeching.
func (c *Choker) unchokeOptimistic(interested []Peer, unchoke map[uint64]bool, seeding bool) {
	if seeding {
		c.optimistic = 0
		return
	}
	if c.round%3 == 0 || !slices.ContainsFunc(interested, func(p Peer) bool { return p.ID == c.optimistic }) || unchoke[c.optimistic] {
		c.optimistic = c.pickOptimistic(interested, unchoke)
	}
	if c.optimistic != 0 {
		unchoke[c.optimistic] = true
	}
}

// waited is how many rounds ago p was last unchoked; a peer never
// unchoked has waited longest.
func (c *Choker) waited(p Peer) int {
	if last, ok := c.unchoked[p.ID]; ok {
		return c.round - last
	}
	return c.round + 1
}

// noteUnchoked counts a peer unchoked now, perhaps given a free slot
// between rounds, as served in the round just ended.
func (c *Choker) noteUnchoked(peers []Peer) {
	if c.unchoked == nil {
		c.unchoked = make(map[uint64]int)
	}
	for _, p := range peers {
		if last, ok := c.unchoked[p.ID]; p.Unchoked && (!ok || last < c.round-1) {
			c.unchoked[p.ID] = c.round - 1
		}
	}
}

// remember notes this round's unchokes and forgets peers that have gone.
func (c *Choker) remember(peers []Peer, unchoke map[uint64]bool) {
	next := make(map[uint64]int, len(peers))
	for _, p := range peers {
		if unchoke[p.ID] {
			next[p.ID] = c.round
		} else if last, ok := c.unchoked[p.ID]; ok {
			next[p.ID] = last
		}
	}
	c.unchoked = next
}

// score ranks peers: rate first, scaled by remembered credit, so a peer
// that has given us much is served before one that never gave.
func score(p Peer, seeding bool) float64 {
	rate := p.DownRate
	if seeding {
		rate = p.UpRate
	}
	credit := p.Credit
	if credit <= 0 {
		credit = 0.1 // free-rider: last, but not starved forever
	}
	return (rate + 1) * credit
}

// pickOptimistic draws the optimistic unchoke. Newcomers get three tickets,
// as in mainline; leeches (took much, gave nothing) get one only when
// nobody else is waiting: served last.
func (c *Choker) pickOptimistic(interested []Peer, unchoke map[uint64]bool) uint64 {
	var pool, leeches []uint64
	for _, p := range interested {
		switch {
		case unchoke[p.ID]:
		case p.Leech():
			leeches = append(leeches, p.ID)
		case p.New:
			pool = append(pool, p.ID, p.ID, p.ID)
		default:
			pool = append(pool, p.ID)
		}
	}
	if len(pool) == 0 {
		pool = leeches
	}
	if len(pool) == 0 {
		return 0
	}
	return pool[c.rng.IntN(len(pool))]
}

// LeechCredit is the credit below which a peer counts as a leech: it took
// well beyond the free allowance and gave back less than half of it.
const LeechCredit = 0.5

// Leech reports whether the peer takes and does not give.
func (p Peer) Leech() bool { return p.Credit < LeechCredit }
