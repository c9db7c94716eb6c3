package swarm

import (
	"context"
	"net"
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/engine/wire"
)

// BEP 55 hole punching. A peer we cannot dial, which a connected peer (the
// relay) told us about by PEX, is asked for through that relay with a
// rendezvous message; the relay sends connect to both of us at once, and
// both ends open their NATs toward each other (see Puncher). As a relay,
// we introduce two of our peers that both speak ut_holepunch.

// Puncher makes the transport's part of a hole punch toward addr after a
// BEP 55 connect. With initiator set (we asked for the rendezvous) it
// dials as an outgoing connection would, handshake included, and returns
// the connection. Otherwise it only opens our NAT toward addr (the
// initiator dials us); a connection that forms then arrives through the
// owner's accept path (AcceptConn) and it returns nil, nil.
type Puncher func(ctx context.Context, addr string, out wire.Handshake, initiator bool) (*transport.Conn, wire.Handshake, error)

const (
	// extHolepunch is the extended message ID we receive ut_holepunch on.
	extHolepunch = 3
	// punchWindow is how long a connect may follow our rendezvous, and
	// how long an introduced peer may take to reach us.
	punchWindow = 30 * time.Second
	// rendezvousFirst is how soon one address may be asked for again
	// after a first rendezvous: a punch can fail on a loaded machine or
	// through a refusing router (see the engine's doc) and a second one
	// usually forms. The gap doubles with each ask up to rendezvousEvery.
	rendezvousFirst = 15 * time.Second
	// rendezvousEvery is the longest gap between asks for one address.
	rendezvousEvery = time.Minute
	// maxPunches bounds the punches in progress per swarm: a relay may
	// send connects for any address, and each costs dials.
	maxPunches = 4
	// relayRate and relayBurst bound the rendezvous a peer may make us
	// relay, so that it cannot use us to make two peers dial each other
	// without end, and the connects it may make us act on.
	relayRate  = rate.Limit(1.0 / 5)
	relayBurst = 3
)

// punch is a hole punch in progress toward one address.
type punch struct {
	relay     string // the relay's address, for the peers pane
	initiator bool
	until     time.Time
	cancel    context.CancelFunc
	done      bool // its own attempts are over
}

// rendezvousSent is a rendezvous we asked for.
type rendezvousSent struct {
	at    time.Time
	relay string
	asks  int // asks for this address in a row, each within the last's gap
}

// gap is how long after r another rendezvous for its address may be asked:
// rendezvousFirst, doubled per ask in a row, at most rendezvousEvery.
func (r rendezvousSent) gap() time.Duration {
	g := rendezvousFirst
	for i := 1; i < r.asks && g < rendezvousEvery; i++ {
		g *= 2
	}
	return min(g, rendezvousEvery)
}

// holepunchID is the peer's ut_holepunch extension ID (0 = none).
// Caller holds s.mu.
func (p *peer) holepunchID() uint8 {
	id := p.theirExt[wire.ExtHolepunchName]
	if id <= 0 || id > 255 {
		return 0
	}
	return uint8(id)
}

// sendHolepunch sends one ut_holepunch message. Caller holds s.mu.
func (p *peer) sendHolepunch(h wire.Holepunch) {
	id := p.holepunchID()
	if id == 0 {
		return
	}
	if b, err := h.Marshal(); err == nil {
		p.w.sendExtended(id, b)
	}
}

// onHolepunch handles a ut_holepunch message. Malformed ones are ignored:
// hole punching is advisory. Caller holds s.mu.
func (s *Swarm) onHolepunch(p *peer, payload []byte) error {
	h, err := wire.ParseHolepunch(payload)
	if err != nil {
		s.logger().Debug("ut_holepunch message ignored", "peer", p.addr, "err", err)
		return nil
	}
	if h.Type != wire.HolepunchError && !p.holepunchAllowed() {
		return nil // over its budget: no answer, no dial
	}
	switch h.Type {
	case wire.HolepunchRendezvous:
		s.relay(p, h.Addr)
	case wire.HolepunchConnect:
		s.onConnect(p, h.Addr)
	case wire.HolepunchError:
		s.logger().Info("hole punch relay refused", "relay", p.addr, "target", h.Addr.String(), "reason", h.Err.String())
	}
	return nil
}

// relay introduces p to the peer listening at target, or tells p why not.
// Caller holds s.mu.
func (s *Swarm) relay(p *peer, target netip.AddrPort) {
	from, ok := p.listenAddr()
	reply := wire.Holepunch{Type: wire.HolepunchError, Addr: target}
	t := s.peerListeningAt(target)
	switch {
	case !ok:
		reply.Err = wire.HolepunchNoSuchPeer // we cannot tell the target where p listens
	case target == from || s.isSelf(p, target) || s.isOwnAddr(target):
		reply.Err = wire.HolepunchNoSelf
	case t == nil:
		reply.Err = wire.HolepunchNotConnected
	case t.holepunchID() == 0:
		reply.Err = wire.HolepunchNoSupport
	default:
		p.sendHolepunch(wire.Holepunch{Type: wire.HolepunchConnect, Addr: target})
		t.sendHolepunch(wire.Holepunch{Type: wire.HolepunchConnect, Addr: from})
		s.logger().Info("hole punch relayed", "from", from.String(), "to", target.String())
		return
	}
	p.sendHolepunch(reply)
}

// holepunchAllowed takes one rendezvous or connect from p's budget: a
// peer may not make us relay, or dial, without bound. Caller holds s.mu.
func (p *peer) holepunchAllowed() bool {
	if p.relayLimit == nil {
		p.relayLimit = rate.NewLimiter(relayRate, relayBurst)
	}
	return p.relayLimit.Allow()
}

// peerListeningAt is the live peer whose listen address is ap, or nil.
// Caller holds s.mu.
func (s *Swarm) peerListeningAt(ap netip.AddrPort) *peer {
	for _, q := range s.peers {
		if la, ok := q.listenAddr(); ok && la == ap && !q.dead {
			return q
		}
	}
	return nil
}

// isSelf reports whether ap is our own address as p sees us (BEP 10
// yourip with our advertised port). Caller holds s.mu.
func (s *Swarm) isSelf(p *peer, ap netip.AddrPort) bool {
	return p.yourIP.IsValid() && ap == netip.AddrPortFrom(p.yourIP, s.advertisedPort())
}

// isOwnAddr reports whether ap is one of our own addresses: our listen or
// advertised port on an IP that is ours (a local interface's, the
// router's mapped external one, any connected peer's yourip for us, or
// the IP the node's votes agree on).
// A relay lists us in its PEX like any of its peers; dialing, or asking
// for a punch to, ourselves only wastes a dial or gets a refusal.
// Caller holds s.mu.
func (s *Swarm) isOwnAddr(ap netip.AddrPort) bool {
	port := ap.Port()
	if port == 0 || (port != uint16(s.cfg.ListenPort) && port != s.advertisedPort()) {
		return false
	}
	ip := ap.Addr().Unmap()
	if m := s.cfg.MappedAddr; m != nil {
		if a := m.Load(); a != nil && a.Addr().Unmap() == ip {
			return true
		}
	}
	for _, p := range s.peers {
		if p.yourIP.IsValid() && p.yourIP.Unmap() == ip {
			return true
		}
	}
	if v, _, ok := s.cfg.IPVotes.Agreed(ip.Is6()); ok && v == ip {
		return true
	}
	return isLocalIP(ip)
}

// isLocalIP reports whether ip belongs to one of this host's interfaces.
func isLocalIP(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if pfx, err := netip.ParsePrefix(a.String()); err == nil && pfx.Addr().Unmap() == ip {
			return true
		}
	}
	return false
}

// advertisedPort is the listen port we tell peers. Caller holds s.mu.
func (s *Swarm) advertisedPort() uint16 {
	if ep := s.cfg.ExternalPort; ep != nil && ep.Load() > 0 {
		return uint16(ep.Load())
	}
	return uint16(s.cfg.ListenPort)
}

// onConnect starts a punch toward addr, which relay p introduced. Exactly
// one end dials: the one whose address, as the relay sees both, sorts
// first (our IP from the relay's BEP 10 yourip, with our advertised
// port). Each end computes the same answer whoever asked for the
// rendezvous, and both may have asked, each having failed to dial the
// other. Without yourip, the end that asked dials. Caller holds s.mu.
func (s *Swarm) onConnect(p *peer, addr netip.AddrPort) {
	key := addr.String()
	if s.cfg.Punch == nil || s.isOwnAddr(addr) || s.stopping || s.runCtx == nil || s.connectedTo(key) || s.punches[key] != nil {
		return
	}
	if len(s.punches) >= maxPunches || s.paused || s.err != nil {
		return
	}
	asked, ok := s.rendezvous[key]
	initiator := ok && time.Since(asked.at) < punchWindow
	if p.yourIP.IsValid() {
		initiator = netip.AddrPortFrom(p.yourIP, s.advertisedPort()).Compare(addr) < 0
	}
	ctx, cancel := context.WithTimeout(s.runCtx, punchWindow)
	put(&s.punches, key, &punch{relay: p.addr, initiator: initiator, until: time.Now().Add(punchWindow), cancel: cancel})
	s.logger().Info("hole punch", "peer", key, "relay", p.addr, "initiator", initiator)
	s.wg.Add(1)
	go s.runPunch(ctx, cancel, key, initiator)
}

// runPunch runs one punch and, as initiator, the connection it makes.
func (s *Swarm) runPunch(ctx context.Context, cancel context.CancelFunc, key string, initiator bool) {
	defer s.wg.Done()
	defer cancel()
	out := wire.Handshake{Reserved: s.reserved(), InfoHash: s.cfg.InfoHash, PeerID: s.cfg.PeerID}
	c, in, err := s.cfg.Punch(ctx, key, out, initiator)
	if err != nil || c == nil {
		if err != nil {
			s.logger().Info("hole punch failed", "peer", key, "err", err)
		}
		s.endPunch(key, false)
		return
	}
	p, err := s.addPeer(c, key, in, true)
	if err != nil {
		c.Close()
		s.endPunch(key, false)
		return
	}
	s.mu.Lock()
	s.markPunched(p, key)
	s.mu.Unlock()
	s.endPunch(key, true)
	s.runPeer(p, c.Reader)
}

// endPunch marks a punch's own attempts over; its record stays until it
// expires, so that a peer arriving through it is still named.
func (s *Swarm) endPunch(key string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pu := s.punches[key]; pu != nil {
		pu.done = true
	}
	if c := s.cands[key]; c != nil && ok {
		c.failures = 0
	}
}

// punching reports whether a punch toward addr still makes its own
// attempts: no ordinary dial meanwhile. Caller holds s.mu.
func (s *Swarm) punching(addr string) bool {
	pu := s.punches[addr]
	return pu != nil && !pu.done
}

// markPunched names p's relay if p came through a punch. Caller holds s.mu.
func (s *Swarm) markPunched(p *peer, key string) {
	pu := s.punches[key]
	if pu == nil {
		return
	}
	p.via = pu.relay
	pu.cancel() // the other transport's attempts may stop
	s.logger().Info("hole punched", "peer", key, "relay", pu.relay, "network", p.network)
}

// expirePunches forgets old punches and rendezvous. Caller holds s.mu.
func (s *Swarm) expirePunches(now time.Time) {
	for k, pu := range s.punches {
		if now.After(pu.until) {
			delete(s.punches, k)
		}
	}
	for k, r := range s.rendezvous {
		if now.Sub(r.at) > 2*rendezvousEvery { // kept past its gap, to count asks in a row
			delete(s.rendezvous, k)
		}
	}
}

// earlyRendezvous is how long a dial may go unanswered before we ask a
// relay for a rendezvous, without waiting for the dial to fail: a peer
// behind a router that drops unsolicited packets leaves both transports
// silent for their whole connect timeout (15 s), while a reachable one
// answers within a round trip. A dial whose connection opened (the peer
// answered; only its handshake is slow) asks for none. If a slow answer
// comes after the rendezvous, the punched connection and the dialled one
// may both form: addPeer keeps one, the same at both ends (a second
// connection in the same direction replaces the first; of two in opposite
// directions, the one dialled by the peer with the lower ID stays).
const earlyRendezvous = 3 * time.Second

// askRendezvousEarly asks for a rendezvous with c's peer while its dial is
// still unanswered (see earlyRendezvous).
func (s *Swarm) askRendezvousEarly(c *candidate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.dialing && !s.stopping && !s.connectedTo(c.addr) {
		s.askRendezvous(c.addr)
	}
}

// askRendezvous asks a relay to introduce us to the peer at addr, after a
// dial to it failed: a connected ut_holepunch peer that listed addr in
// its PEX. None while we are connected to that peer (our dial lost to
// its connection to us). Caller holds s.mu.
func (s *Swarm) askRendezvous(addr string) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || s.cfg.Punch == nil || s.isOwnAddr(ap) || s.connectedTo(addr) || s.peerListeningAt(ap) != nil {
		return
	}
	last, asked := s.rendezvous[addr]
	if asked && time.Since(last.at) < last.gap() {
		return
	}
	for _, p := range s.peers {
		if p.dead || p.holepunchID() == 0 || !p.pexHas[ap] {
			continue
		}
		p.sendHolepunch(wire.Holepunch{Type: wire.HolepunchRendezvous, Addr: ap})
		put(&s.rendezvous, addr, rendezvousSent{at: time.Now(), relay: p.addr, asks: last.asks + 1})
		s.logger().Info("hole punch rendezvous asked", "peer", addr, "relay", p.addr)
		return
	}
}
