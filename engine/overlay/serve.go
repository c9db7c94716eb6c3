package overlay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"
)

// leafConn is a registered remote leaf.
type leafConn struct {
	id        int64
	source    string // observed IP + advertised BitTorrent port
	ln        *link
	lim       *rate.Limiter
	since     time.Time     // when it linked
	uptime    time.Duration // its uptime when it linked
	capable   bool          // it could become a supernode
	reachable atomic.Bool   // it said so, or our probe reached it
	invited   bool          // guarded by Supernode.mu
	// The leaf's latest "mode" frame (primary: counted in our keyword
	// table), applied by applyModes off the link's reader.
	primary  atomic.Bool
	modeKick chan struct{}
	stored   atomic.Bool // a share frame came: the index may hold entries of it
}

func (lc *leafConn) deliver(id uuid.UUID, hits []Hit) { sendHits(lc.ln, id, hits) }

// ServeConn serves one accepted overlay connection (a leaf or a supernode)
// whose first bytes are Magic, and returns when it ends. It closes c.
func (s *Supernode) ServeConn(ctx context.Context, c net.Conn) {
	if !s.track() {
		c.Close()
		return
	}
	defer s.conns.Done()
	ln, hello, err := acceptOverlay(c)
	if err != nil {
		s.log.Debug("overlay: accept", "remote", c.RemoteAddr(), "err", err)
		c.Close()
		return
	}
	ln.count = &s.sent
	s.markReachable() // someone reached us
	switch {
	case s.cfg.DialBack != nil && s.cfg.DialBack.serve(ctx, ln, hello, s.cfg.Addr):
	case hello.Role == roleProbe:
		s.serveProbe(ln)
	case hello.Role == roleDialBack:
		ln.fail(CodeProtocol, "no dial-back here", nil)
	case !s.Active():
		s.refuseInactive(ln)
	case hello.Role == roleSuper:
		s.serveInboundNeighbour(ctx, ln, hello)
	default:
		s.serveLeaf(ctx, ln, hello)
	}
}

// serveLeaf registers a leaf, runs its link, and deletes its entries when
// the link ends.
func (s *Supernode) serveLeaf(ctx context.Context, ln *link, hello *message) {
	lc, ok := s.addLeaf(ln, observedSource(ln.conn, hello.Port))
	if ok {
		// lc is in s.leaves already: the role loop reads these under s.mu.
		s.mu.Lock()
		lc.capable, lc.uptime = hello.Capable, time.Duration(hello.Uptime)*time.Second
		s.mu.Unlock()
		lc.reachable.Store(hello.Reachable)
	}
	if !ok {
		ln.fail(CodeFull, "no room for another leaf", s.otherSupernodes())
		return
	}
	defer s.dropLeaf(lc)
	if hello.Standby {
		s.idx.newStandby(lc.id)
	}
	if err := ln.write(&message{Type: typeWelcome, Addr: s.cfg.Addr}, writeTimeout); err != nil {
		ln.close()
		return
	}
	s.log.Debug("overlay: leaf registered", "source", lc.source)
	if lc.capable && !hello.Reachable {
		s.probeLeaf(ctx, lc)
	}
	modes := make(chan struct{})
	go func() {
		defer close(modes)
		s.applyModes(ctx, lc)
	}()
	err := ln.run(ctx, func(m *message) error { return s.handleLeaf(ctx, lc, m) })
	<-modes
	s.log.Debug("overlay: leaf left", "source", lc.source, "err", err)
}

// applyModes applies the leaf's mode changes to the keyword table until
// its link ends. It runs beside the link's reader because the change is a
// write that waits its turn behind the other leaves' writes: a leaf whose
// primary supernode died makes its standby (us) the primary and sends its
// searches here right after the "mode" frame, and those searches must not
// wait behind the whole write queue of a supernode taking over the leaves
// of dead ones. Only the latest mode counts, so frames that pile up are
// applied once.
func (s *Supernode) applyModes(ctx context.Context, lc *leafConn) {
	for {
		select {
		case <-lc.ln.done:
			return
		case <-lc.modeKick:
		}
		if err := s.idx.setCounted(ctx, lc.id, lc.primary.Load()); err != nil {
			s.log.Debug("overlay: leaf mode", "source", lc.source, "err", err)
			lc.ln.close()
			return
		}
	}
}

// observedSource is the peer's IP as seen on c, with the port it advertised.
func observedSource(c net.Conn, port int) string {
	host := c.RemoteAddr().String()
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		host = a.IP.String()
	} else if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func (s *Supernode) addLeaf(ln *link, source string) (*leafConn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.leaves) >= s.cfg.MaxLeaves {
		return nil, false
	}
	if !s.active {
		return nil, false
	}
	lc := &leafConn{id: s.nextLeaf, source: source, ln: ln, lim: newLimiter(s.cfg.QueryRate, s.cfg.QueryBurst), since: time.Now(),
		modeKick: make(chan struct{}, 1)}
	s.nextLeaf++
	s.leaves[lc.id] = lc
	poke(s.roleKick) // an invitation may be due
	return lc, true
}

// dropLeaf deletes a leaf's entries and forgets it. The deletion has no
// deadline: it waits its turn behind the other writes however long that
// is (a supernode taking over the leaves of dead ones queues many), as a
// leaf whose entries stayed would be offered as a source for good and
// keep its keys in our table.
//
// A leaf that never sent a share frame has nothing to delete, and costs
// no write: on a starved machine leaves whose handshakes time out come
// and go by the thousand, and their empty deletions queued ahead of the
// shares of the leaves that stay.
func (s *Supernode) dropLeaf(lc *leafConn) {
	if !lc.stored.Load() {
		s.idx.setUncounted(lc.id, false)
	} else if err := s.idx.removeLeaf(context.Background(), lc.id); err != nil {
		s.log.Warn("overlay: drop leaf entries", "source", lc.source, "err", err)
	}
	s.mu.Lock()
	delete(s.leaves, lc.id)
	s.mu.Unlock()
	poke(s.roleKick)
}

// handleLeaf processes one frame from a leaf.
func (s *Supernode) handleLeaf(ctx context.Context, lc *leafConn, m *message) error {
	switch m.Type {
	case typeShare:
		return s.handleShare(ctx, lc, m)
	case typeQuery:
		if _, err := ftsQuery(m.Words); err != nil {
			lc.ln.trySend(&message{Type: typeError, Code: CodeBadQuery, ID: m.ID, Text: err.Error()})
			return nil
		}
		if !lc.lim.Allow() {
			s.stats.limited.Add(1)
			lc.ln.trySend(&message{Type: typeError, Code: CodeRateLimited, ID: m.ID, Text: "too many queries"})
			return nil
		}
		s.process(ctx, queryIn{id: m.qid, words: m.Words, hops: s.cfg.MaxHops, origin: true}, lc)
		return nil
	case typeMode:
		lc.primary.Store(!m.Standby)
		poke(lc.modeKick)
		return nil
	case typeError:
		s.log.Debug("overlay: leaf error frame", "source", lc.source, "code", m.Code, "text", m.Text)
		return nil
	}
	lc.ln.fail(CodeProtocol, "unexpected "+m.Type, nil)
	return fmt.Errorf("overlay: leaf %s sent %q: %w", lc.source, m.Type, errors.ErrUnsupported)
}

// handleShare applies a leaf's additions and removals to the index.
func (s *Supernode) handleShare(ctx context.Context, lc *leafConn, m *message) error {
	good := make([]Entry, 0, len(m.Add))
	for _, w := range m.Add {
		e := fromWireEntry(w)
		if err := checkEntry(e); err != nil {
			lc.ln.sendError(CodeBadEntry, err.Error())
			continue
		}
		good = append(good, e)
	}
	del := make([][20]byte, len(m.Del))
	for i, h := range m.Del {
		del[i] = h
	}
	lc.stored.Store(true)
	if err := s.idx.remove(ctx, lc.id, del); err != nil {
		return err
	}
	refused, err := s.idx.put(ctx, lc.id, lc.source, good, s.cfg.MaxEntriesPerLeaf)
	if err != nil {
		return err
	}
	if refused > 0 {
		lc.ln.sendError(CodeTooManyEntries, fmt.Sprintf("%d entries over the limit of %d ignored", refused, s.cfg.MaxEntriesPerLeaf))
	}
	return nil
}

// routeHits passes hits back towards the query's origin.
func (s *Supernode) routeHits(m *message) {
	from, ok := s.routes.lookup(m.qid, time.Now())
	if !ok {
		s.stats.unroutable.Add(1)
		return
	}
	hits := make([]Hit, len(m.Hits))
	for i, w := range m.Hits {
		hits[i] = fromWireHit(w)
	}
	if len(hits) > 0 {
		s.stats.routed.Add(1)
		from.deliver(m.qid, hits)
	}
	if a, ok := answerOf(m); ok {
		tell(from, m.qid, a)
	}
}

// sendHits queues hits for id on ln, split into frames of bounded size.
func sendHits(ln *link, id uuid.UUID, hits []Hit) {
	wire := make([]wireHit, len(hits))
	for i, h := range hits {
		wire[i] = toWireHit(h)
	}
	for _, b := range batchBySize(wire, hitsFrameBudget, maxHitsPerFrame) {
		ln.trySend(&message{Type: typeHits, ID: id.String(), Hits: b})
	}
}

// batchBySize splits items into runs whose JSON stays under budget bytes
// and count items.
func batchBySize[T any](items []T, budget, count int) [][]T {
	var out [][]T
	var cur []T
	size := 0
	for _, it := range items {
		b, _ := json.Marshal(it)
		if len(cur) > 0 && (size+len(b)+1 > budget || len(cur) >= count) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, it)
		size += len(b) + 1
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
