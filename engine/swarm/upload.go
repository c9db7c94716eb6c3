package swarm

import (
	"errors"
	"time"

	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/engine/choker"
	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/wire"
)

// onRequest queues a block upload if the peer may have it. Caller holds s.mu.
func (s *Swarm) onRequest(p *peer, m wire.Message) error {
	mayServe := !p.amChoking || p.weAllow[int(m.Index)]
	ok := mayServe && s.budget != 0 && s.pick != nil && int(m.Index) < s.pick.NumPieces() &&
		s.pick.Have(int(m.Index)) && m.Length > 0 && m.Length <= 2*picker.BlockSize &&
		int64(m.Begin)+int64(m.Length) <= s.layout.PieceSize(int(m.Index))
	if ok && p.w.queueUpload(m) {
		return nil
	}
	if p.fast {
		p.w.send(wire.Message{ID: wire.Reject, Index: m.Index, Begin: m.Begin, Length: m.Length})
	}
	return nil
}

// serveBlock adds one requested block to the outbox. It runs on the
// peer's writer goroutine, which holds p.w.wmu.
func (s *Swarm) serveBlock(p *peer, o *outbox, m wire.Message) error {
	if !o.views && s.cacheable(int(m.Index)) {
		// Load the piece before spending tokens on it; the block is then
		// copied from the cache.
		if err := s.warmCache(int(m.Index)); err != nil {
			s.logger().Warn("read piece for upload", "err", err)
			return err
		}
	}
	if err := s.throttleUpload(p, o, int(m.Length)); err != nil {
		return err
	}
	if !s.spendBudget(int64(m.Length)) {
		return nil // target reached: the block is dropped and everyone choked
	}
	var hdr [13]byte
	o.write(wire.AppendPieceHeader(hdr[:0], m.Index, m.Begin, int(m.Length)))
	if err := s.writeBlock(o, int(m.Index), int64(m.Begin), int(m.Length)); err != nil {
		s.logger().Warn("read block for upload", "err", err)
		return err
	}
	n := int64(m.Length)
	p.up.Add(n)
	p.unloggedUp.Add(n)
	s.totalUp.Add(n)
	return nil
}

// throttleUpload waits until the upload limits allow n more bytes to p.
// While it sleeps, what is buffered goes out and the reader may send our
// requests itself: a tight upload limit must not hold back our downloads.
func (s *Swarm) throttleUpload(p *peer, o *outbox, n int) error {
	var resume func() error
	err := throttle(s.ctx(), s.upChain(p), n, func() { resume = p.w.pause(o) })
	if resume != nil {
		err = errors.Join(err, resume())
	}
	return err
}

// runChoker applies one choking round. Caller holds s.mu.
func (s *Swarm) runChoker() {
	var cands []choker.Peer
	for _, p := range s.peers {
		credit := s.creditOf(p)
		cands = append(cands, choker.Peer{
			ID:         p.id,
			Interested: p.peerInterested,
			DownRate:   p.downRate.value,
			UpRate:     p.upRate.value,
			Credit:     credit,
			New:        time.Since(p.start) < time.Minute,
			Unchoked:   !p.amChoking,
		})
	}
	unchoke := s.choke.Round(cands, s.seeding)
	if s.budget == 0 {
		clear(unchoke)
	}
	for _, p := range s.peers {
		s.setChoking(p, !unchoke[p.id])
	}
}

func (s *Swarm) setChoking(p *peer, choke bool) {
	if p.amChoking == choke {
		return
	}
	p.amChoking = choke
	if !choke {
		p.note = ""
		p.w.send(wire.Message{ID: wire.Unchoke})
		return
	}
	p.note = "choked: not among the fastest uploaders"
	p.w.send(wire.Message{ID: wire.Choke})
	for _, m := range p.w.dropUploads() {
		if p.fast {
			p.w.send(wire.Message{ID: wire.Reject, Index: m.Index, Begin: m.Begin, Length: m.Length})
		}
	}
}

// fillSlots gives free upload slots to waiting peers at once instead of at
// the next round: a slot frees up when an unchoked peer loses interest or
// leaves, and a newcomer may take a slot that is still free. The best
// waiting peer (by what it sends us, times its credit) goes first.
// Caller holds s.mu.
func (s *Swarm) fillSlots() {
	if s.budget == 0 {
		return
	}
	used := 0
	for _, q := range s.peers {
		if !q.amChoking && q.peerInterested {
			used++
		}
	}
	for ; used < s.choke.Slots+1; used++ {
		best := s.bestWaiting()
		if best == nil {
			return
		}
		s.setChoking(best, false)
	}
}

// bestWaiting is the choked, interested peer that deserves a slot most.
// Caller holds s.mu.
func (s *Swarm) bestWaiting() *peer {
	var best *peer
	bestScore := -1.0
	for _, q := range s.peers {
		if !q.amChoking || !q.peerInterested || q.dead {
			continue
		}
		credit := s.creditOf(q)
		if credit < choker.LeechCredit && !s.seeding {
			continue // a leech waits for the optimistic slot, like everyone else
		}
		if score := (q.downRate.value + 1) * credit; score > bestScore {
			best, bestScore = q, score
		}
	}
	return best
}

// SetUploadBudget caps how many more bytes this swarm may upload (a share
// ratio target); n < 0 removes the cap. A zero budget chokes every peer.
func (s *Swarm) SetUploadBudget(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget = n
	if n == 0 {
		s.chokeAll("share ratio target reached")
	}
}

// BudgetSpent reports whether a set upload budget has run out.
func (s *Swarm) BudgetSpent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget == 0
}

// spendBudget takes n bytes from the upload budget, if there is one.
func (s *Swarm) spendBudget(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.budget < 0:
		return true
	case s.budget == 0:
		return false
	}
	s.budget = max(s.budget-n, 0)
	if s.budget == 0 {
		s.chokeAll("share ratio target reached")
	}
	return true
}

// chokeAll stops uploading to everyone. Caller holds s.mu.
func (s *Swarm) chokeAll(note string) {
	for _, p := range s.peers {
		s.setChoking(p, true)
		p.note = note
	}
}

// unlimitedLeechRate is what a leech may get from us when we have no upload
// limit of our own.
const unlimitedLeechRate = 128 << 10

// upChain is the limiters an upload to p passes: ours, plus a tight one if
// p is a leech (served last, and slower).
func (s *Swarm) upChain(p *peer) []*rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !p.leech {
		return s.cfg.UpLimits
	}
	if p.leechLimit == nil {
		p.leechLimit = NewLimiter(s.leechRate())
	}
	return append(append([]*rate.Limiter(nil), s.cfg.UpLimits...), p.leechLimit)
}

// leechRate is a quarter of one upload slot's share of our tightest limit.
// Caller holds s.mu.
func (s *Swarm) leechRate() int64 {
	tightest := rate.Inf
	for _, l := range s.cfg.UpLimits {
		if l != nil && l.Limit() < tightest {
			tightest = l.Limit()
		}
	}
	if tightest == rate.Inf {
		return unlimitedLeechRate
	}
	return max(int64(float64(tightest)/float64(4*(s.choke.Slots+1))), 1)
}

// markLeeches refreshes which peers are leeches, from their credit.
// Caller holds s.mu.
func (s *Swarm) markLeeches() {
	if s.credits == nil {
		return // nothing pushed yet: everyone is a stranger
	}
	for _, p := range s.peers {
		// Nobody gives a seed anything, so a seed alone cannot tell a leech
		// from a newcomer: it judges only peers that refused us data for a
		// full choking round while we were downloading.
		judged := !s.seeding || p.refusedSecs >= 10
		p.leech = judged && s.creditOf(p) < choker.LeechCredit
		if p.leech {
			p.note = "leech: takes and does not give (served last and slower)"
			if p.leechLimit != nil {
				SetLimit(p.leechLimit, s.leechRate())
			}
		}
	}
}

// creditOf is p's long-run give/take standing as the owner last pushed it
// (1, neutral, for a peer it has not judged yet). Caller holds s.mu.
func (s *Swarm) creditOf(p *peer) float64 {
	if c, ok := s.credits[p.banKey()]; ok {
		return c
	}
	return 1
}

// PeerRef names a connected peer for its owner's credit table.
type PeerRef struct {
	PeerID [20]byte
	Key    PeerKey // ban/credit key
}

// PeerRefs lists the connected peers.
func (s *Swarm) PeerRefs() []PeerRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PeerRef, 0, len(s.peers))
	for _, p := range s.peers {
		out = append(out, PeerRef{PeerID: p.peerID, Key: p.banKey()})
	}
	return out
}

// SetCredits replaces the credit table (by ban key; 1 is neutral, below
// choker.LeechCredit a leech). The owner pushes it; the swarm never calls
// out for it while holding its lock.
func (s *Swarm) SetCredits(credits map[PeerKey]float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credits = credits
}

// DrainReports returns the hash failures and bans since the previous call.
func (s *Swarm) DrainReports() []HashReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.reports
	s.reports = nil
	return out
}
