package overlay

import (
	"context"
	"time"
)

// activate makes the node a supernode.
func (s *Supernode) activate(now time.Time) {
	s.mu.Lock()
	if s.active || s.closed {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), dropLeafTimeout)
	defer cancel()
	if err := s.idx.clear(ctx); err != nil {
		s.log.Warn("overlay: clear index", "err", err)
	}
	s.ownMu.Lock()
	s.own = ownAdvert{}
	s.ownMu.Unlock()
	s.mu.Lock()
	s.active, s.activeAt = true, now
	s.lowSince, s.invitedAt, s.aloneSince = time.Time{}, time.Time{}, time.Time{}
	s.stats.promotions.Add(1) // with the flip, so Stats agrees with Active
	s.signalRoleLocked()
	s.mu.Unlock()
	s.log.Info("overlay: promoted to supernode")
	s.wake()
	s.kickAdvert()
}

// deactivate makes the node a leaf again: leaves are told where to go,
// neighbour links close, and the adverts and the remote leaves' entries
// are dropped (entries from the DHT and our own shares stay).
func (s *Supernode) deactivate(now time.Time) {
	s.mu.Lock()
	if !s.active {
		s.mu.Unlock()
		return
	}
	s.active, s.demotedAt = false, now
	s.stats.demotions.Add(1) // with the flip, so Stats agrees with Active
	s.signalRoleLocked()
	var leaves, nbs []*link
	for _, lc := range s.leaves {
		leaves = append(leaves, lc.ln)
	}
	for _, n := range s.neighbours {
		nbs = append(nbs, n.ln)
	}
	s.mu.Unlock()
	others := s.adv.roomiest(maxListedSupers)
	for _, ln := range leaves {
		if s.track() {
			go func() {
				defer s.conns.Done()
				ln.fail(CodeNotSupernode, "this supernode stepped down", others)
			}()
		}
	}
	for _, ln := range nbs {
		ln.close()
	}
	s.adv.forget()
	ctx, cancel := context.WithTimeout(context.Background(), dropLeafTimeout)
	defer cancel()
	if err := s.idx.clear(ctx); err != nil {
		s.log.Warn("overlay: clear index", "err", err)
	}
	s.log.Info("overlay: stepped down to leaf")
}

// markReachable notes that someone reached us; the first time, roleLoop
// looks at once (a node alone waits for that to promote itself).
func (s *Supernode) markReachable() {
	if !s.reachable.Swap(true) {
		poke(s.roleKick)
	}
}

// signalRoleLocked wakes RoleChanged waiters; s.mu is held.
func (s *Supernode) signalRoleLocked() {
	close(s.roleCh)
	s.roleCh = make(chan struct{})
	poke(s.roleKick)
}

// serveProbe answers a reachability probe: we are reachable.
func (s *Supernode) serveProbe(ln *link) {
	s.markReachable()
	_ = ln.write(&message{Type: typeWelcome, Addr: s.cfg.Addr}, writeTimeout)
	ln.close()
}

// probeLeaf dials a capable leaf back at its advertised port; if the probe
// is welcomed, the leaf is reachable and may be invited.
func (s *Supernode) probeLeaf(ctx context.Context, lc *leafConn) {
	if s.cfg.Dial == nil || !s.track() {
		return
	}
	go func() {
		defer s.conns.Done()
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		ln, _, err := dialOverlay(ctx, s.cfg.Dial, lc.source, &message{Type: typeHello, Role: roleProbe})
		if err != nil {
			s.log.Debug("overlay: probe leaf", "source", lc.source, "err", err)
			return
		}
		ln.close()
		lc.reachable.Store(true)
		poke(s.roleKick) // it may be invited now
	}()
}

// refuseInactive turns away a leaf or supernode while we are not a
// supernode, naming others to try.
func (s *Supernode) refuseInactive(ln *link) {
	ln.fail(CodeNotSupernode, "not a supernode now", s.otherSupernodes())
}
