package overlay

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"
)

// Roles. With SupernodeConfig.Auto the node starts as a leaf (the
// Supernode is inactive: it refuses leaves and neighbours and only answers
// reachability probes) and its role changes at run time:
//
//   - Promotion. A supernode that is filling up (InviteAbove leaves), that
//     knows fewer than MinSupernodes supernodes, or whose network is two
//     thirds full invites one leaf at a time (InviteEvery): the capable,
//     reachable leaf that has been up longest and at least MinUptime. A
//     leaf is reachable once a supernode's probe connection reached it; it
//     is capable when Capable says it has sockets (and bandwidth) to spare.
//     The invited node promotes itself. A node that can link to no
//     supernode at all for AloneAfter (jittered up to twice that, so that
//     a crowd starting together does not promote together) promotes too,
//     if it is known to be reachable (an inbound overlay connection, or
//     Promotion.Reachable); an unreachable one stays a leaf and keeps
//     looking for supernodes.
//   - Demotion. An automatic supernode that has had fewer than DemoteBelow
//     leaves for DemoteAfter, while at least MinSupernodes others with room
//     for its leaves are known, steps down: its leaves get a
//     "not_supernode" error naming the roomiest supernodes and move there.
//   - No promotion within Cooldown of a demotion, and no demotion within
//     DemoteAfter of a promotion.
//
// Without Auto the supernode is active from the start and never steps down
// (the --supernode flag); a node that runs no Supernode at all is a leaf
// for good (--leaf).

// Defaults for Promotion.
const (
	DefaultMinUptime     = 5 * time.Minute
	DefaultAloneAfter    = 30 * time.Second
	DefaultInviteEvery   = 30 * time.Second
	DefaultMinSupernodes = 3
	DefaultDemoteAfter   = 10 * time.Minute
	DefaultRoleCooldown  = 10 * time.Minute
	DefaultRoleCheck     = time.Second
	inviteValid          = time.Minute
	probeTimeout         = 5 * time.Second
)

// CodeNotSupernode refuses a leaf or supernode link: the node is not (or
// no longer) a supernode. Supernodes lists others to try.
const CodeNotSupernode = "not_supernode"

// roleProbe is the hello role of a reachability probe.
const roleProbe = "probe"

// Promotion tunes automatic roles. Zero fields take the defaults.
type Promotion struct {
	MinUptime     time.Duration // up this long before an invitation is taken
	AloneAfter    time.Duration // promote when no supernode could be linked for this long (jittered x1-2)
	InviteAbove   int           // leaves at which a supernode invites; default two thirds of MaxLeaves
	InviteEvery   time.Duration // at most one invitation per interval
	MinSupernodes int           // invite while fewer supernodes are known; demote only with this many others
	DemoteBelow   int           // demote with fewer leaves than this...; default MaxLeaves/20, at least 2
	DemoteAfter   time.Duration // ...for this long
	Cooldown      time.Duration // no promotion this soon after a demotion
	CheckInterval time.Duration // how often the role is reconsidered
	Capable       func() bool   // resources to spare; default: the descriptor limit allows MaxLeaves+MaxNeighbours+256 sockets
	// Reachable tells what the owner knows of our reachability besides
	// inbound overlay connections (a router port mapping, a public address
	// of our own). A node alone promotes only when reachable; nil means the
	// owner vouches for it (loopback tests, simulations).
	Reachable func() bool
}

func (p *Promotion) setDefaults(maxLeaves, maxNeighbours int) {
	setDefault(&p.MinUptime, DefaultMinUptime)
	setDefault(&p.AloneAfter, DefaultAloneAfter)
	setDefault(&p.InviteAbove, max(1, maxLeaves*2/3))
	setDefault(&p.InviteEvery, DefaultInviteEvery)
	setDefault(&p.MinSupernodes, DefaultMinSupernodes)
	setDefault(&p.DemoteBelow, max(2, maxLeaves/20))
	setDefault(&p.DemoteAfter, DefaultDemoteAfter)
	setDefault(&p.Cooldown, DefaultRoleCooldown)
	setDefault(&p.CheckInterval, DefaultRoleCheck)
	if p.Capable == nil {
		need := maxLeaves + maxNeighbours + 256
		p.Capable = func() bool { return descriptorsAllow(need) }
	}
}

// Active reports whether the node is a supernode now.
func (s *Supernode) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// RoleChanged returns a channel that is closed at the next promotion or
// demotion. Take it before reading Active so that no change is missed.
func (s *Supernode) RoleChanged() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roleCh
}

// Reachable reports whether another node has reached us with an inbound
// overlay connection (a probe, a leaf or a supernode).
func (s *Supernode) Reachable() bool { return s.reachable.Load() }

// roleIdleChecks caps roleLoop's back-off: at most this many
// CheckIntervals between looks while looks change nothing.
const roleIdleChecks = 16

// roleLoop reconsiders the role until ctx ends: at once when kicked (a
// role change, an invitation, a leaf linking or leaving or found
// reachable, the leaf's links changing, someone reaching us, a neighbour
// linking or leaving, an advert that changes which supernodes exist or
// their leaves and room), at the next deadline of a pending change
// (promotion when alone, demotion with few leaves, an invitation's
// minimum uptime, a leaf old enough to invite, the cooldown), and
// otherwise every CheckInterval, backing off by doubling to
// roleIdleChecks of them while nothing changes. Every input of a role
// decision kicks or sets a deadline, so the back-off delays nothing but
// what the owner alone knows (Promotion.Reachable, Capable); a node whose
// promotion is due and waits only on those (alone, or invited, but not
// known reachable or capable) does not back off.
func (s *Supernode) roleLoop(ctx context.Context) {
	every := s.cfg.Promotion.CheckInterval
	wait := every
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			wait = min(2*wait, roleIdleChecks*every)
		case <-s.roleKick:
			wait = every
		}
		now := time.Now()
		s.checkRole(now)
		if s.promotionHeld(now) {
			wait = every
		}
		t.Reset(s.nextRoleCheck(time.Now(), wait))
	}
}

// promotionHeld reports a node in leaf mode whose promotion is due (alone
// past its deadline, or invited) but held back by what only polling sees:
// the owner's word on reachability, or spare resources.
func (s *Supernode) promotionHeld(now time.Time) bool {
	if !s.cfg.Auto {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active {
		return false
	}
	alone := !s.aloneSince.IsZero() && now.Sub(s.aloneSince) >= s.aloneWait
	invited := !s.invitedAt.IsZero() && now.Sub(s.invitedAt) < inviteValid
	return alone || invited
}

// nextRoleCheck is how long roleLoop may sleep: wait, or less if a
// pending change falls due sooner.
func (s *Supernode) nextRoleCheck(now time.Time, wait time.Duration) time.Duration {
	p := &s.cfg.Promotion
	s.mu.Lock()
	var due []time.Time
	if s.active {
		if !s.lowSince.IsZero() {
			due = append(due, s.lowSince.Add(p.DemoteAfter), s.activeAt.Add(p.DemoteAfter))
		}
		if len(s.leaves) > 0 {
			due = append(due, s.lastInvite.Add(p.InviteEvery))
		}
		for _, lc := range s.leaves {
			if lc.capable && !lc.invited {
				due = append(due, lc.since.Add(p.MinUptime-lc.uptime)) // old enough to invite
			}
		}
	} else {
		if !s.aloneSince.IsZero() {
			due = append(due, s.aloneSince.Add(s.aloneWait))
		}
		if !s.invitedAt.IsZero() {
			due = append(due, s.started.Add(p.MinUptime))
		}
		if !s.demotedAt.IsZero() {
			due = append(due, s.demotedAt.Add(p.Cooldown))
		}
	}
	s.mu.Unlock()
	for _, d := range due {
		if until := d.Sub(now); until > 0 && until < wait {
			wait = until
		}
	}
	return wait
}

// checkRole reconsiders the role once.
func (s *Supernode) checkRole(now time.Time) {
	s.stats.roleChecks.Add(1)
	switch {
	case s.Active():
		s.maybeInvite(now)
		if s.cfg.Auto {
			s.maybeDemote(now)
		}
	case s.cfg.Auto:
		s.maybePromote(now)
	}
}

// maybeInvite asks one leaf to promote itself when more supernodes are
// needed.
func (s *Supernode) maybeInvite(now time.Time) {
	p := &s.cfg.Promotion
	others, leaves, capacity := s.adv.load()
	s.mu.Lock()
	mine := len(s.leaves)
	need := mine >= p.InviteAbove || others+1 < p.MinSupernodes ||
		3*(leaves+mine) >= 2*(capacity+s.cfg.MaxLeaves)
	if !need || now.Sub(s.lastInvite) < p.InviteEvery {
		s.mu.Unlock()
		return
	}
	var best *leafConn
	for _, lc := range s.leaves {
		up := lc.uptime + now.Sub(lc.since)
		if lc.capable && lc.reachable.Load() && !lc.invited && up >= p.MinUptime &&
			(best == nil || up > best.uptime+now.Sub(best.since)) {
			best = lc
		}
	}
	if best != nil {
		best.invited = true
		s.lastInvite = now
	}
	s.mu.Unlock()
	if best != nil && best.ln.trySend(&message{Type: typeInvite}) {
		s.stats.invites.Add(1)
	}
}

// maybePromote activates the supernode when invited or alone long enough.
func (s *Supernode) maybePromote(now time.Time) {
	p := &s.cfg.Promotion
	s.mu.Lock()
	cooled := s.demotedAt.IsZero() || now.Sub(s.demotedAt) >= p.Cooldown
	invited := !s.invitedAt.IsZero() && now.Sub(s.invitedAt) < inviteValid &&
		s.reachable.Load() && now.Sub(s.started) >= p.MinUptime
	alone := !s.aloneSince.IsZero() && now.Sub(s.aloneSince) >= s.aloneWait
	s.mu.Unlock()
	if alone && !invited && !s.knownReachable() {
		if !s.aloneUnreachable.Swap(true) {
			s.log.Info("overlay: no supernode found, and not reachable from outside: staying a leaf and looking again")
		}
		return
	}
	if cooled && (invited || alone) && p.Capable() {
		s.activate(now)
	}
}

// knownReachable reports whether others can dial us: someone did, or the
// owner knows it (Promotion.Reachable; nil vouches).
func (s *Supernode) knownReachable() bool {
	r := s.cfg.Promotion.Reachable
	return s.reachable.Load() || r == nil || r()
}

// AloneUnreachable reports whether the node found no supernode and, not
// known to be reachable, did not promote itself.
func (s *Supernode) AloneUnreachable() bool {
	s.mu.Lock()
	alone := !s.aloneSince.IsZero()
	s.mu.Unlock()
	return alone && s.aloneUnreachable.Load() && !s.Active()
}

// maybeDemote steps down after DemoteAfter with too few leaves, if others
// can take them.
func (s *Supernode) maybeDemote(now time.Time) {
	p := &s.cfg.Promotion
	others, leaves, capacity := s.adv.load()
	s.mu.Lock()
	mine := len(s.leaves)
	if mine >= p.DemoteBelow {
		s.lowSince = time.Time{}
		s.mu.Unlock()
		return
	}
	if s.lowSince.IsZero() {
		s.lowSince = now
	}
	ready := now.Sub(s.lowSince) >= p.DemoteAfter && now.Sub(s.activeAt) >= p.DemoteAfter &&
		others >= p.MinSupernodes && capacity-leaves >= 2*mine+p.DemoteBelow
	s.mu.Unlock()
	if ready {
		s.deactivate(now)
	}
}

// invite records an invitation received by our leaf.
func (s *Supernode) invite() {
	s.mu.Lock()
	s.invitedAt = time.Now()
	s.mu.Unlock()
	poke(s.roleKick)
}

// noteLeafLinks is told by our leaf how many supernodes it is linked to.
func (s *Supernode) noteLeafLinks(n int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case n > 0 && !s.aloneSince.IsZero():
		s.aloneSince = time.Time{}
		poke(s.roleKick)
	case n == 0 && s.aloneSince.IsZero():
		s.aloneSince = now
		s.aloneWait = s.cfg.Promotion.AloneAfter + rand.N(s.cfg.Promotion.AloneAfter+1)
		poke(s.roleKick) // roleLoop learns the new deadline
	}
}

// addKnown adds supernode addresses to try as neighbours.
func (s *Supernode) addKnown(addrs []string) {
	s.mu.Lock()
	added := false
	for _, a := range addrs {
		if len(s.known) < maxListedSupers && a != s.cfg.Addr && !slices.Contains(s.known, a) {
			s.known = append(s.known, a)
			added = true
		}
	}
	s.mu.Unlock()
	if added {
		s.wake()
	}
}
