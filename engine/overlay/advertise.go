package overlay

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"
)

// ownAdvert is what we last advertised about ourselves.
type ownAdvert struct {
	seq    uint64
	table  *kwTable
	enc    []byte // the whole table, encoded, once asked for
	added  uint64 // keyCounts.added when the table was built
	links  []string
	leaves int
	sent   time.Time
	past   []heardSeq // earlier adverts and when they were sent, newest last
}

// advertIdleTick is how often advertLoop looks while there is nobody to
// advertise to (a leaf, or a supernode without neighbours): activation
// and each new neighbour kick it (kickAdvert), so it need not poll.
const advertIdleTick = 30 * time.Second

// advertLoop sends our advert when something changed (at most once per
// AdvertInterval, at least every advertRefresh) and forgets silent origins.
func (s *Supernode) advertLoop(ctx context.Context) {
	tick := time.NewTimer(s.cfg.AdvertInterval / 4)
	defer tick.Stop()
	lastDigest := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.advKick:
		}
		if s.Active() && len(s.Neighbours()) > 0 {
			tick.Reset(s.cfg.AdvertInterval / 4)
		} else {
			tick.Reset(advertIdleTick)
		}
		if !s.Active() {
			continue
		}
		now := time.Now()
		if s.adv.expire(now.Add(-advertExpire)) {
			poke(s.roleKick) // fewer supernodes known: roles may change
		}
		if m := s.nextAdvert(now); m != nil {
			s.broadcast(m, nil)
		}
		if now.Sub(lastDigest) >= digestInterval {
			lastDigest = now
			for _, n := range s.neighbourList() {
				s.sendDigest(n)
			}
		}
	}
}

// neighbourList returns the registered neighbours.
func (s *Supernode) neighbourList() []*neighbour {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.neighbours))
}

// nextAdvert returns our next advert, or nil if none is due.
func (s *Supernode) nextAdvert(now time.Time) *message {
	v := s.advertView()
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	o := &s.own
	changed := v.changedSince(o)
	due := o.seq == 0 || now.Sub(o.sent) >= advertRefresh
	if !due && !(changed && now.Sub(o.sent) >= s.cfg.AdvertInterval) {
		return nil
	}
	keys := s.idx.kw.keys()
	var prevBits uint8
	if o.table != nil {
		prevBits = o.table.bits
	}
	t := buildTable(keys, chooseBits(len(keys), prevBits))
	m := &message{Type: typeAdvert, Origin: s.cfg.Addr, Seq: o.seq + 1, Bits: int(t.bits),
		Links: v.links, Leaves: v.leaves, Cap: s.cfg.MaxLeaves}
	if o.seq == 0 {
		m.Seq = uint64(now.UnixNano()) // above any seq of an earlier run
	}
	if o.table != nil && o.table.bits == t.bits {
		m.Base = o.seq
		m.Table = encodePositions(t.positions(o.table))
	} else {
		m.Table = encodePositions(t.positions(nil))
	}
	past := o.past
	if o.seq != 0 {
		past = append(past, heardSeq{o.seq, o.sent})
		past = past[max(0, len(past)-seqHistory):]
	}
	*o = ownAdvert{seq: m.Seq, table: t, added: v.added, links: v.links, leaves: v.leaves, sent: now, past: past}
	s.stats.advertsSent.Add(1)
	return m
}

// leavesChanged reports a change in leaf count worth an advert: any change
// near zero, a tenth of the count above.
func leavesChanged(was, now int) bool {
	d := now - was
	if d < 0 {
		d = -d
	}
	return d > 0 && d >= 1+was/10
}

// AdvertCurrent reports whether our last advert describes our keyword
// table, links and leaves as they are now: no advert of ours is due for a
// change (a refresh may still be).
func (s *Supernode) AdvertCurrent() bool {
	v := s.advertView()
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	return s.own.seq != 0 && !v.changedSince(&s.own)
}

// advertView is what an advert of ours describes, read before ownMu is
// taken: the keyword table's added counter, our links and our leaf count.
type advertView struct {
	added  uint64
	links  []string
	leaves int
}

func (s *Supernode) advertView() advertView {
	_, added := s.idx.kw.versions()
	return advertView{added: added, links: s.Neighbours(), leaves: s.Leaves()}
}

// changedSince reports whether v differs enough from what advert o
// described to call for a new advert.
func (v advertView) changedSince(o *ownAdvert) bool {
	return v.added != o.added || !slices.Equal(v.links, o.links) || leavesChanged(o.leaves, v.leaves)
}

// ownFull returns our current advert with the whole table, and when it
// was sent.
func (s *Supernode) ownFull() (*message, time.Time) {
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	o := &s.own
	if o.table == nil {
		return nil, time.Time{}
	}
	st := &originState{seq: o.seq, table: o.table, links: o.links, leaves: o.leaves, cap: s.cfg.MaxLeaves, enc: o.enc}
	m := fullAdvert(s.cfg.Addr, st)
	o.enc = st.enc
	return m, o.sent
}

// AdvertSeq returns the sequence number of our last advert (0: none yet).
func (s *Supernode) AdvertSeq() uint64 { return s.ownSeq() }

// KnownAdverts returns, for every other supernode known through adverts,
// the sequence number of the newest advert held and whether its keyword
// table is known.
func (s *Supernode) KnownAdverts() map[string]AdvertView {
	a := s.adv
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]AdvertView, len(a.m))
	for o, st := range a.m {
		out[o] = AdvertView{Seq: st.seq, TableKnown: st.table != nil}
	}
	return out
}

// AdvertView is what a supernode holds of another's advert.
type AdvertView struct {
	Seq        uint64
	TableKnown bool
}

// ownSeq returns the seq of our last advert (0: none yet).
func (s *Supernode) ownSeq() uint64 {
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	return s.own.seq
}

// broadcast queues m to every neighbour but except.
func (s *Supernode) broadcast(m *message, except *link) {
	for _, ln := range s.neighbourLinks() {
		if ln != except {
			ln.trySend(m)
		}
	}
}

// handleAdvert stores a neighbour's advert and floods it on if it is new.
func (s *Supernode) handleAdvert(n *neighbour, m *message) {
	if m.Origin == s.cfg.Addr {
		return
	}
	res, changed, err := s.adv.apply(m, time.Now())
	if err != nil {
		s.stats.tablesRefused.Add(1)
		code := CodeMalformed
		if errors.Is(err, ErrTableTooLarge) {
			code = CodeTableTooLarge
		}
		n.ln.sendError(code, "advert of "+m.Origin+": "+err.Error())
		return
	}
	if res == advertStale {
		return
	}
	s.stats.advertsReceived.Add(1)
	if changed {
		// A supernode appeared, or its links, leaves or room changed:
		// invitations and demotion are decided on these.
		poke(s.roleKick)
	}
	if res == advertGap {
		n.ln.trySend(&message{Type: typeTableReq, Origin: m.Origin})
	}
	s.spread(m, n.ln)
}

// spread passes a new advert on down the broadcast tree rooted at its
// origin (as our view, this advert applied, has it): one copy per
// supernode instead of one per link. It floods only when the origin is not
// in our view. Whatever a tree misses while views differ is caught by the
// next change (a gap asks for the whole table), by the digests neighbours
// exchange every digestInterval, and, for routes through links that are
// gone, by the relay's repair.
func (s *Supernode) spread(m *message, from *link) {
	kids, ok := s.broadcastKids(m.Origin)
	if !ok {
		s.broadcast(m, from)
		return
	}
	links := s.neighbourLinks()
	for _, c := range kids {
		if ln := links[c]; ln != nil && ln != from {
			ln.trySend(m)
		}
	}
}

// sendDigest tells a new neighbour which adverts we hold.
func (s *Supernode) sendDigest(n *neighbour) {
	d := s.adv.digest()
	if seq := s.ownSeq(); seq != 0 {
		d = append(d, digestEntry{Origin: s.cfg.Addr, Seq: seq})
	}
	n.ln.trySend(&message{Type: typeDigest, Digest: d})
}

// handleDigest sends a neighbour every advert it lacks, from a goroutine
// of its own so that the reader never blocks on a full queue.
func (s *Supernode) handleDigest(ctx context.Context, n *neighbour, m *message, wg *sync.WaitGroup) {
	now := time.Now()
	out := s.adv.newerThan(m.Digest, now, digestGrace)
	if own, _ := s.ownFull(); own != nil && !digestHas(m.Digest, own.Origin, s.ownSentBy(now.Add(-digestGrace))) {
		out = append(out, own)
	}
	if len(out) == 0 {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, a := range out {
			if n.ln.send(ctx, a) != nil {
				return
			}
		}
	}()
}

// ownSentBy returns the seq of the newest advert of ours sent by t (0:
// none): a neighbour behind it missed it; one behind only newer adverts
// has them on their way.
func (s *Supernode) ownSentBy(t time.Time) uint64 {
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	o := &s.own
	st := originState{seq: o.seq, heard: o.sent, past: o.past}
	return st.heldSince(t)
}

// digestHas reports whether d holds an advert of origin numbered seq or
// later.
func digestHas(d []digestEntry, origin string, seq uint64) bool {
	for _, e := range d {
		if e.Origin == origin && e.Seq >= seq {
			return true
		}
	}
	return false
}

// handleTableReq answers with the whole table of the origin asked for.
func (s *Supernode) handleTableReq(n *neighbour, m *message) {
	var a *message
	if m.Origin == s.cfg.Addr {
		a, _ = s.ownFull()
	} else {
		a = s.adv.full(m.Origin)
	}
	if a != nil {
		n.ln.trySend(a)
	}
}

// kickAdvert asks the advert loop to look now.
func (s *Supernode) kickAdvert() { poke(s.advKick) }
