package overlay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"
)

// neighbour is a link to another supernode.
type neighbour struct {
	addr   string // its advertised address: the key in Supernode.neighbours
	dialer string // advertised address of the side that dialled this link
	dialed string // the address we dialled, when we did (may differ from addr)
	ln     *link
	lim    *rate.Limiter
}

func (n *neighbour) deliver(id uuid.UUID, hits []Hit) { sendHits(n.ln, id, hits) }

// Run keeps links to the supernodes the Finder names (never to ourselves),
// asking it again every RefindInterval and soon after a neighbour drops. It
// returns nil once ctx ends and every link it opened has stopped.
func (s *Supernode) Run(ctx context.Context) error {
	s.idx.startCount() // the kept entries' keys are counted from now on
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.advertLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		s.roleLoop(ctx)
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			t.Reset(s.cfg.RefindInterval)
		case <-s.kick:
		}
		if s.Active() {
			s.refresh(ctx, &wg)
		}
	}
}

// refresh dials candidates we are not linked to until we have
// MinNeighbours: supernodes the Finder names and those known from adverts,
// in random order so that the supernode graph stays a random graph.
func (s *Supernode) refresh(ctx context.Context, wg *sync.WaitGroup) {
	s.rememberNeighbours(ctx)
	if s.linkCount() >= s.cfg.MinNeighbours {
		return
	}
	var found []string
	if s.cfg.Finder != nil {
		fctx, cancel := context.WithTimeout(ctx, finderTimeout)
		var err error
		found, err = s.cfg.Finder.FindSupernodes(fctx)
		cancel()
		if err != nil {
			s.log.Debug("overlay: find supernodes", "err", err)
		}
		s.setKnown(found)
	}
	if s.cfg.Dial == nil {
		return
	}
	s.mu.Lock()
	cands := append(slices.Clone(s.known), found...)
	s.mu.Unlock()
	cands = append(cands, s.adv.origins()...)
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	for _, addr := range s.pickDials(cands, time.Now()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.connectNeighbour(ctx, addr)
		}()
	}
}

// linkCount is the number of neighbours plus dials in progress.
func (s *Supernode) linkCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.neighbours) + len(s.dialing)
}

// setKnown records the Finder's last answer.
func (s *Supernode) setKnown(found []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := slices.Clone(found)
	for _, a := range s.known {
		if !slices.Contains(known, a) {
			known = append(known, a)
		}
	}
	s.known = known[:min(len(known), maxListedSupers)]
}

// pickDials marks the addresses to dial now.
func (s *Supernode) pickDials(found []string, now time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range found {
		busy := len(s.neighbours) + len(s.dialing)
		switch {
		case s.closed || busy >= min(s.cfg.MinNeighbours, s.cfg.MaxNeighbours):
			return out
		case a == s.cfg.Addr || s.dialing[a] || s.linkedTo(a) || now.Before(s.backoff[a]):
			continue
		case checkHostPort(a) != nil:
			continue
		}
		s.dialing[a] = true
		out = append(out, a)
	}
	return out
}

// connectNeighbour dials addr and serves the link until it ends.
func (s *Supernode) connectNeighbour(ctx context.Context, addr string) {
	hello := &message{Type: typeHello, Role: roleSuper, Addr: s.cfg.Addr}
	ln, welcome, err := dialOverlay(ctx, s.cfg.Dial, addr, hello)
	s.mu.Lock()
	delete(s.dialing, addr)
	if err != nil {
		s.backoff[addr] = time.Now().Add(dialBackoff)
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Debug("overlay: link to supernode", "addr", addr, "err", err)
		return
	}
	if welcome.Addr == s.cfg.Addr {
		ln.close() // we reached ourselves under another name
		return
	}
	ln.count = &s.sent
	if !s.track() {
		ln.close()
		return
	}
	defer s.conns.Done()
	if !s.Active() {
		ln.close() // demoted while dialling
		return
	}
	s.serveNeighbour(ctx, &neighbour{addr: welcome.Addr, dialer: s.cfg.Addr, dialed: addr, ln: ln})
}

// linkedTo reports whether a neighbour is known by addr; s.mu is held.
func (s *Supernode) linkedTo(addr string) bool {
	if s.neighbours[addr] != nil {
		return true
	}
	for _, n := range s.neighbours {
		if n.dialed == addr {
			return true
		}
	}
	return false
}

// serveInboundNeighbour handles a supernode that dialled us.
func (s *Supernode) serveInboundNeighbour(ctx context.Context, ln *link, hello *message) {
	if hello.Addr == s.cfg.Addr {
		ln.fail(CodeSelf, "that is my own address", nil)
		return
	}
	n := &neighbour{addr: hello.Addr, dialer: hello.Addr, ln: ln}
	if !s.register(n) {
		return
	}
	if err := ln.write(&message{Type: typeWelcome, Addr: s.cfg.Addr}, writeTimeout); err != nil {
		ln.close() // run below returns at once and unregisters
	}
	s.runNeighbour(ctx, n)
}

// serveNeighbour registers n and runs its link until it ends.
func (s *Supernode) serveNeighbour(ctx context.Context, n *neighbour) {
	if s.register(n) {
		s.runNeighbour(ctx, n)
	}
}

// register adds n to the neighbours or refuses it with an error frame.
func (s *Supernode) register(n *neighbour) bool {
	n.lim = newLimiter(neighbourRate, neighbourBurst)
	if code, others := s.addNeighbour(n); code != "" {
		n.ln.fail(code, "link refused", others)
		return false
	}
	return true
}

// runNeighbour serves a registered neighbour until its link ends.
func (s *Supernode) runNeighbour(ctx context.Context, n *neighbour) {
	s.log.Debug("overlay: supernode linked", "addr", n.addr)
	s.sendDigest(n)
	s.kickAdvert()
	poke(s.roleKick)
	var wg sync.WaitGroup
	err := n.ln.run(ctx, func(m *message) error { return s.handleNeighbour(ctx, n, m, &wg) })
	wg.Wait()
	s.log.Debug("overlay: supernode link ended", "addr", n.addr, "err", err)
	s.dropNeighbour(n)
	s.kickAdvert()
	poke(s.roleKick)
}

// addNeighbour registers n, or returns the error code to refuse it with.
// When two links join the same pair of supernodes, both sides keep the one
// dialled by the lower address, so they agree without talking.
func (s *Supernode) addNeighbour(n *neighbour) (code string, others []string) {
	s.mu.Lock()
	old := s.neighbours[n.addr]
	switch {
	case s.closed:
		code = CodeFull
	case !s.active:
		code = CodeNotSupernode
	case old != nil:
		preferred := min(s.cfg.Addr, n.addr)
		if old.dialer == preferred && n.dialer != preferred {
			code = CodeDuplicate
		}
	case len(s.neighbours) >= s.cfg.MaxNeighbours:
		code = CodeFull
	}
	if code == "" {
		s.neighbours[n.addr] = n
		s.nbVersion++
	}
	s.mu.Unlock()
	if code == CodeFull {
		others = s.otherSupernodes()
	}
	if code == "" && old != nil {
		old.ln.close()
	}
	return code, others
}

// dropNeighbour forgets n (if it is still the registered link).
func (s *Supernode) dropNeighbour(n *neighbour) {
	s.mu.Lock()
	if s.neighbours[n.addr] == n {
		delete(s.neighbours, n.addr)
		s.nbVersion++
		s.backoff[n.addr] = time.Now().Add(dialBackoff)
	}
	s.mu.Unlock()
	s.wake()
}

// handleNeighbour processes one frame from a neighbour supernode.
func (s *Supernode) handleNeighbour(ctx context.Context, n *neighbour, m *message, wg *sync.WaitGroup) error {
	switch m.Type {
	case typeQuery:
		if !n.lim.Allow() {
			s.stats.limited.Add(1)
			return nil
		}
		if _, err := ftsQuery(m.Words); err != nil {
			return nil // not forwarded either
		}
		s.process(ctx, queryIn{id: m.qid, words: m.Words, keys: m.QKeys, hops: min(m.Hops, s.cfg.MaxHops), route: m.Route}, n)
		return nil
	case typeHits:
		s.routeHits(m)
		return nil
	case typeAdvert:
		s.handleAdvert(n, m)
		return nil
	case typeDigest:
		s.handleDigest(ctx, n, m, wg)
		return nil
	case typeTableReq:
		s.handleTableReq(n, m)
		return nil
	case typeError:
		if m.Code == CodeRateLimited || m.Code == CodeBadQuery || m.Code == CodeTableTooLarge || m.Code == CodeMalformed {
			return nil
		}
		return fmt.Errorf("overlay: neighbour %s: %w", n.addr, remoteError(m))
	}
	n.ln.fail(CodeProtocol, "unexpected "+m.Type, nil)
	return fmt.Errorf("overlay: neighbour %s sent %q: %w", n.addr, m.Type, errors.ErrUnsupported)
}

// rememberNeighbours tells the Finder's cache, if it has one, about our
// neighbours when they changed.
func (s *Supernode) rememberNeighbours(ctx context.Context) {
	rememberChanged(ctx, s.cfg.Finder, &s.mu, &s.cached, s.Neighbours())
}
