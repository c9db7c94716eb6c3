package swarm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/engine/wire"
	"github.com/shoalp2p/shoal/internal/netguard"
)

// candidate is a peer address we may dial.
type candidate struct {
	addr     string
	nextTry  time.Time
	failures int
	dialing  bool
	explicit bool // named by the user or a search hit, not found by discovery
	// punchFirst: a relay's PEX named it as a ut_holepunch peer it did
	// not dial (it may sit behind a NAT). It is dialled over TCP only,
	// and not at all with uTP alone: its uTP comes through a hole punch,
	// which a direct uTP SYN could spoil (transport.WithTCPOnly).
	punchFirst bool
}

// backoff grows with the square of the failures: 5 s, 20 s, 45 s ... up
// to 10 minutes for peers discovery found, but at most 10 s for a peer the
// user named, which is worth insisting on.
func (c *candidate) backoff() time.Duration {
	limit := 10 * time.Minute
	if c.explicit {
		limit = 10 * time.Second
	}
	return min(time.Duration(c.failures*c.failures)*5*time.Second, limit)
}

// AddExplicitPeers adds peers the user named; they are retried persistently.
func (s *Swarm) AddExplicitPeers(addrs ...string) {
	s.AddPeers(addrs...)
	s.mu.Lock()
	for _, a := range addrs {
		if c := s.cands[a]; c != nil {
			c.explicit = true
		}
	}
	s.mu.Unlock()
}

// AddPeers adds addresses (host:port) to dial, except our own (a tracker
// or the DHT lists us among the peers).
func (s *Swarm) AddPeers(addrs ...string) {
	s.mu.Lock()
	for _, a := range addrs {
		if ap, err := netip.ParseAddrPort(a); err == nil && s.isOwnAddr(ap) {
			continue
		}
		if _, ok := s.cands[a]; !ok && len(s.cands) < 2000 {
			put(&s.cands, a, &candidate{addr: a})
		}
	}
	s.mu.Unlock()
	s.poke()
}

// Candidates lists the known peer addresses (for resume data).
func (s *Swarm) Candidates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.cands))
}

func (s *Swarm) connectCandidates(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused || s.err != nil {
		return
	}
	now := time.Now()
	for _, c := range s.cands {
		if len(s.peers)+s.dialing() >= s.cfg.MaxPeers {
			return
		}
		if c.dialing || now.Before(c.nextTry) || s.connectedTo(c.addr) || s.punching(c.addr) {
			continue
		}
		if s.stopping {
			return
		}
		c.dialing = true
		s.wg.Add(1)
		go s.dial(ctx, c)
	}
}

func (s *Swarm) dialing() int {
	n := 0
	for _, c := range s.cands {
		if c.dialing {
			n++
		}
	}
	return n
}

func (s *Swarm) connectedTo(addr string) bool {
	for _, p := range s.peers {
		if p.addr == addr {
			return true
		}
	}
	return false
}

func (s *Swarm) dial(ctx context.Context, c *candidate) {
	defer s.wg.Done()
	var answered atomic.Bool
	ctx = transport.WithTrace(ctx, &transport.Trace{Opened: func(string) { answered.Store(true) }})
	if c.punchFirst {
		ctx = transport.WithTCPOnly(ctx)
	}
	early := time.AfterFunc(earlyRendezvous, func() {
		if !answered.Load() {
			s.askRendezvousEarly(c)
		}
	})
	err := s.dialAndRun(ctx, c.addr)
	early.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	c.dialing = false
	if err != nil {
		c.failures++
		c.nextTry = time.Now().Add(c.backoff())
		s.logger().Debug("peer connection failed", "peer", c.addr, "failures", c.failures, "err", err)
		if !errors.Is(err, errAlreadyConnected) { // else it reached us: no punch needed
			s.askRendezvous(c.addr)
		}
		return
	}
	c.failures = 0
	c.nextTry = time.Now().Add(15 * time.Second)
}

// dialAndRun connects, handshakes, and (once up) runs the peer to the end.
func (s *Swarm) dialAndRun(ctx context.Context, addr string) error {
	out := wire.Handshake{Reserved: s.reserved(), InfoHash: s.cfg.InfoHash, PeerID: s.cfg.PeerID}
	c, in, err := s.cfg.Connect(ctx, addr, out)
	if err != nil {
		return err
	}
	p, err := s.addPeer(c, addr, in, true)
	if err != nil {
		c.Close()
		return err
	}
	s.runPeer(p, c.Reader)
	return nil
}

// Accept takes over an incoming plain TCP connection whose handshake head
// (reserved bits and infohash) the owner already read from br.
func (s *Swarm) Accept(conn net.Conn, br *bufio.Reader, reserved [8]byte) error {
	return s.AcceptConn(&transport.Conn{Conn: conn, Reader: br, Network: "tcp", Encryption: transport.EncNone}, reserved)
}

// AcceptConn takes over an incoming connection whose handshake head
// (reserved bits and infohash) the owner already read from c.Reader. It
// replies, reads the peer ID, and runs the peer until it ends.
func (s *Swarm) AcceptConn(c *transport.Conn, reserved [8]byte) error {
	return s.AcceptConnAs(c, reserved, s.cfg.InfoHash)
}

// AcceptConnAs is AcceptConn for a peer that named the swarm by ih: a
// hybrid torrent's swarm answers to its v1 infohash and to its v2
// infohash cut to 20 bytes (BEP 52), and the reply names what the peer
// named.
func (s *Swarm) AcceptConnAs(c *transport.Conn, reserved [8]byte, ih [20]byte) error {
	s.mu.Lock()
	stopped := s.runCtx == nil || s.runCtx.Err() != nil || s.paused
	s.mu.Unlock()
	if stopped {
		c.Close()
		return errors.New("swarm: not running")
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	out := wire.Handshake{Reserved: s.reserved(), InfoHash: ih, PeerID: s.cfg.PeerID}
	if err := wire.WriteHandshake(c, out); err != nil {
		c.Close()
		return err
	}
	id, err := wire.ReadPeerID(c.Reader)
	if err != nil {
		c.Close()
		return err
	}
	c.SetDeadline(time.Time{})
	in := wire.Handshake{Reserved: reserved, InfoHash: s.cfg.InfoHash, PeerID: id}
	addr := c.RemoteAddr().String()
	p, err := s.addPeer(c, addr, in, false)
	if err != nil {
		c.Close()
		return err
	}
	s.mu.Lock()
	s.markPunched(p, addr)
	s.mu.Unlock()
	s.poke() // an idle swarm's loop starts again: choking, rates, timeouts
	s.runPeer(p, c.Reader)
	return nil
}

// errAlreadyConnected refuses a second connection to a connected peer.
var errAlreadyConnected = errors.New("swarm: already connected to this peer")

// addPeer registers a handshaken connection (outgoing if we opened it),
// refusing banned peers, duplicates and ourselves. The peer counts in s.wg
// from here: run it with runPeer.
func (s *Swarm) addPeer(c *transport.Conn, addr string, h wire.Handshake, outgoing bool) (*peer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.PeerID == s.cfg.PeerID {
		return nil, errors.New("swarm: connected to ourselves")
	}
	ip := netguard.Host(c.RemoteAddr().String())
	for _, key := range []PeerKey{PeerKeyFromIP(ip), PeerKeyFromID(h.PeerID)} {
		if reason, ok := s.banned[key]; ok {
			return nil, fmt.Errorf("%w: %s", ErrBanned, reason)
		}
	}
	for _, old := range s.peers {
		if old.peerID != h.PeerID {
			continue
		}
		switch {
		case restarted(old, ip, outgoing):
			s.logger().Info("peer came back: its old connection is dropped", "peer", addr, "old", old.addr, "network", old.network)
			old.close(errors.New("replaced by a new connection from the same peer"))
		case outgoing == s.keepsOutgoing(h.PeerID):
			s.logger().Debug("crossed connections: the one both ends keep replaces ours", "peer", addr, "old", old.addr)
			old.close(errors.New("crossed by the connection both ends keep"))
		default:
			return nil, errAlreadyConnected
		}
		s.removePeer(old)
	}
	if s.stopping || s.runCtx == nil || s.runCtx.Err() != nil {
		return nil, errors.New("swarm: not running")
	}
	if len(s.peers) >= s.cfg.MaxPeers+10 {
		return nil, errors.New("swarm: too many peers")
	}
	s.wg.Add(1) // under mu, before shutdown can wait

	s.nextID++
	p := &peer{
		s: s, id: s.nextID, conn: c.Conn, addr: addr, ip: ip, peerID: h.PeerID,
		network: c.Network, encryption: c.Encryption,
		client: clientName(h.PeerID), fast: h.SupportsFast(), ext: h.SupportsExtended(), v2: h.SupportsV2(),
		start: time.Now(), outgoing: outgoing, amChoking: true, peerChoking: true, lastPiece: time.Now(),
		requests: make(map[picker.Block]time.Time),
	}
	p.w.init(c.Conn)
	put(&s.peers, p.id, p)
	return p, nil
}

// restarted reports whether a connection from a peer ID we are already
// connected to (old) is that peer come back after a restart or a crash,
// rather than a second connection to a live one. Clients keep their peer
// ID across restarts (Shoal does), and a crashed peer's old connection can
// outlive it for minutes: a uTP connection gets no FIN or RST, so only the
// 2-minute keep-alive timeout would end it, and until then the peer could
// not come back. It is a restart when the new connection comes from the
// same IP in the same direction: a live peer never opens a second one that
// way, while both sides dialing each other at once (opposite directions)
// keep the one keepsOutgoing picks.
func restarted(old *peer, ip string, outgoing bool) bool {
	return old.ip == ip && old.outgoing == outgoing
}

// keepsOutgoing reports whether, of two connections with the peer id in
// opposite directions, ours (outgoing) is the one to keep. Both ends must
// keep the same one, and each may see the two in either order (dials that
// cross, a hole punch beside a slow dial): keeping the first one seen
// could keep a different one at each end, and each end then closed the
// one the other kept, leaving none. So the connection dialled by the peer
// with the lower ID is kept, as both ends can work out.
func (s *Swarm) keepsOutgoing(id [20]byte) bool {
	return bytes.Compare(s.cfg.PeerID[:], id[:]) < 0
}

// removePeer forgets a closed connection. Caller holds s.mu.
func (s *Swarm) removePeer(p *peer) {
	if _, ok := s.peers[p.id]; !ok {
		return
	}
	delete(s.peers, p.id)
	if s.pick != nil {
		s.pick.PeerGone(p.id, p.hasPiece)
	}
	if !p.amChoking {
		s.fillSlots()
	}
	s.closedTraffic = append(s.closedTraffic, Traffic{PeerID: p.peerID, Key: p.banKey(),
		Up: p.unloggedUp.Swap(0), Down: p.unloggedDown.Swap(0)})
}

// banKey is how a peer is remembered for bans: by IP on the Internet, by
// peer ID on loopback (where every peer shares 127.0.0.1).
func (p *peer) banKey() PeerKey {
	if ip := net.ParseIP(p.ip); ip != nil && ip.IsLoopback() {
		return PeerKeyFromID(p.peerID)
	}
	return PeerKeyFromIP(p.ip)
}

// clientName decodes Azureus-style peer IDs ("-qB4500-...").
func clientName(id [20]byte) string {
	if id[0] == '-' && id[7] == '-' {
		return string(id[1:7])
	}
	return ""
}
