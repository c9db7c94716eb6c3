package swarm

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/wire"
)

// Extension message IDs we assign in our BEP 10 handshake.
const (
	extMetadata = 1
	extPEX      = 2
	maxMsgLen   = 1<<20 + 64
	maxUploadQ  = 512
)

// peer is one connection. Fields under "guarded by s.mu" are only touched
// with the swarm lock held; counters are atomic; the writer has its own lock.
type peer struct {
	s      *Swarm
	id     uint64
	conn   net.Conn
	addr   string
	ip     string
	peerID [20]byte
	client string
	fast   bool
	ext    bool
	v2     bool // announced BEP 52 in its handshake
	start  time.Time

	network    string // "tcp" or "utp"
	encryption string // transport.EncNone, EncObfuscated or EncRC4

	// guarded by s.mu
	has            wire.Bitfield
	rawBitfield    []byte // bitfield received before metadata was known
	haveAll        bool
	numHave        int
	amChoking      bool
	amInterested   bool
	peerChoking    bool
	peerInterested bool
	theirExt       map[string]int
	metadataSize   int
	requests       map[picker.Block]time.Time
	depth          int         // request pipeline depth, see pipelineDepth
	reqq           int         // the peer's request queue, see queueLimit (0 = not known)
	src            blockSource // see source
	leech          bool
	refusedSecs    int // seconds it choked us while we wanted its data
	leechLimit     *rate.Limiter
	lastPiece      time.Time
	lastStall      time.Time     // when its oldest request was last given up for silence
	turnMean       time.Duration // running mean of request-to-block times, see noteTurnaround
	turnDev        time.Duration // their mean deviation
	snubbed        bool
	dead           bool
	note           string
	strikes        int
	outgoing       bool
	listenPort     uint16
	pexSent        map[netip.AddrPort]bool
	pexHas         map[netip.AddrPort]bool // listen addresses its PEX named, see askRendezvous
	yourIP         netip.Addr              // our IP as it sees us (BEP 10 yourip)
	relayLimit     *rate.Limiter           // rendezvous and connects it may send, see holepunchAllowed
	via            string                  // the relay whose hole punch brought it, if any
	weAllow        map[int]bool            // BEP 6 allowed-fast pieces we granted
	theyAllow      map[int]bool            // allowed-fast pieces the peer granted us

	downRate, upRate rateMeter
	down, up         atomic.Int64 // payload bytes this connection
	unloggedDown     atomic.Int64 // not yet drained to the ledger
	unloggedUp       atomic.Int64

	w writer
}

// rateMeter is an exponentially smoothed bytes/s figure sampled once a second.
type rateMeter struct {
	last  int64
	value float64
}

func (r *rateMeter) sample(total int64) {
	delta := float64(total - r.last)
	r.last = total
	r.value = 0.6*r.value + 0.4*delta
}

func (p *peer) sampleRates() {
	p.downRate.sample(p.down.Load())
	p.upRate.sample(p.up.Load())
	if p.amInterested && p.peerChoking {
		p.refusedSecs++ // it had what we wanted and would not give it
	}
}

// hasPiece reports whether the peer has piece i. Caller holds s.mu.
func (p *peer) hasPiece(i int) bool {
	if p.haveAll {
		return true
	}
	return p.has != nil && i < len(p.has)*8 && p.has.Has(i)
}

// close ends the connection once; its goroutines clean up. Caller holds s.mu.
func (p *peer) close(reason error) {
	if p.dead {
		return
	}
	p.dead = true
	if reason != nil {
		p.note = reason.Error()
	}
	p.conn.Close()
	p.w.stop()
}

// runPeer starts a connection whose handshake is done: the extension handshake,
// our bitfield, then the reader loop (here) and the writer (its own goroutine).
func (s *Swarm) runPeer(p *peer, br *bufio.Reader) {
	defer s.wg.Done()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		p.w.run(p)
	}()
	s.greet(p)
	err := s.readLoop(p, br)
	s.mu.Lock()
	p.close(err)
	s.removePeer(p)
	// Why a connection ended is otherwise lost with it: a punched one
	// that closes at once looked, in a test's logs, like one that never
	// carried a byte.
	attrs := []any{"peer", p.addr, "network", p.network, "outgoing", p.outgoing,
		"up", time.Since(p.start).Round(time.Millisecond), "reason", p.note}
	s.mu.Unlock()
	s.logger().Debug("peer disconnected", attrs...)
	s.poke()
}

// greet sends the extension handshake and our pieces.
func (s *Swarm) greet(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ext {
		p.w.send(wire.Message{ID: wire.Extended, ExtendedID: 0, Payload: s.extHandshake(p)})
	}
	switch {
	case s.have == nil || s.pick.NumHave() == 0:
		if p.fast {
			p.w.send(wire.Message{ID: wire.HaveNone})
		}
	case s.pick.NumHave() == s.pick.NumPieces() && p.fast:
		p.w.send(wire.Message{ID: wire.HaveAll})
	default:
		p.w.send(wire.Message{ID: wire.BitfieldMsg, Payload: append([]byte(nil), s.have...)})
	}
	s.grantAllowedFast(p)
	if s.speaksV2(p) {
		s.requestLayers()
	}
}

// extHandshake is our BEP 10 handshake to p: our listen port (the
// router's mapped one when known) and p's address as we see it (yourip).
func (s *Swarm) extHandshake(p *peer) []byte {
	h := wire.ExtHandshake{
		M:      map[string]int{"ut_metadata": extMetadata, "ut_pex": extPEX, wire.ExtHolepunchName: extHolepunch},
		V:      "Shoal 0.1",
		P:      s.cfg.ListenPort,
		Reqq:   maxUploadQ,
		YourIP: remoteIP(p.conn),
	}
	if ep := s.cfg.ExternalPort; ep != nil && ep.Load() > 0 {
		h.P = int(ep.Load())
	}
	if s.infoBytes != nil {
		h.MetadataSize = len(s.infoBytes)
	}
	b, err := h.Marshal()
	if err != nil {
		panic(fmt.Sprintf("swarm: marshal own extension handshake: %v", err))
	}
	return b
}

func (s *Swarm) readLoop(p *peer, br *bufio.Reader) error {
	dec := wire.NewDecoder(br, maxMsgLen)
	var deadline deadline
	for {
		deadline.extend(p.conn.SetReadDeadline, 3*time.Minute)
		m, err := dec.Next()
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if m.KeepAlive {
			continue
		}
		if err := s.handle(p, m); err != nil {
			return err
		}
	}
}

// handle applies one message. Piece payloads are written to disk without
// the swarm lock held.
func (s *Swarm) handle(p *peer, m wire.Message) error {
	if m.ID == wire.Piece {
		return s.onPiece(p, m)
	}
	if m.ID == wire.Extended {
		return s.onExtended(p, m)
	}
	if m.ID >= wire.HashRequest && m.ID <= wire.HashReject {
		return s.onHashMsg(p, m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.ID {
	case wire.Choke:
		p.peerChoking = true
		if !p.fast { // without BEP 6, a choke discards our requests
			s.dropRequests(p)
		}
	case wire.Unchoke:
		p.peerChoking = false
		s.fillRequests(p)
	case wire.Interested:
		p.peerInterested = true
		s.fillSlots()
	case wire.NotInterested:
		p.peerInterested = false
		if !p.amChoking {
			// Its slot goes to someone who wants data. It is choked, or
			// when it wants data again the unchoked would outnumber the
			// slots, and every upload spread thin.
			s.setChoking(p, true)
			p.note = "choked: wants nothing we have"
			s.fillSlots()
		}
	case wire.Have:
		return s.onHave(p, int(m.Index))
	case wire.BitfieldMsg:
		return s.onBitfield(p, m.Payload)
	case wire.HaveAll:
		return s.onHaveAll(p)
	case wire.HaveNone:
		if s.pick != nil && p.has == nil {
			p.has = wire.NewBitfield(s.pick.NumPieces())
		}
	case wire.Request:
		return s.onRequest(p, m)
	case wire.Cancel:
		p.w.cancelUpload(m.Index, m.Begin, m.Length)
	case wire.Reject:
		s.onReject(p, m)
	case wire.AllowedFast:
		s.onAllowedFast(p, int(m.Index))
	}
	return nil
}

func (s *Swarm) onHave(p *peer, i int) error {
	if s.pick == nil {
		if p.rawBitfield == nil {
			p.rawBitfield = make([]byte, 0)
		}
		need := i/8 + 1
		for len(p.rawBitfield) < need && need <= 1<<20 {
			p.rawBitfield = append(p.rawBitfield, 0)
		}
		if i/8 < len(p.rawBitfield) {
			p.rawBitfield[i/8] |= 0x80 >> (i % 8)
		}
		return nil
	}
	if i < 0 || i >= s.pick.NumPieces() {
		return fmt.Errorf("have: piece %d out of range", i)
	}
	if p.hasPiece(i) {
		return nil
	}
	if p.has == nil { // after HaveNone, or Have before any bitfield
		p.has = wire.NewBitfield(s.pick.NumPieces())
	}
	p.has.Set(i)
	p.numHave++
	s.pick.PeerHas(i)
	s.updateInterest(p)
	return nil
}

func (s *Swarm) onBitfield(p *peer, payload []byte) error {
	if s.pick == nil {
		p.rawBitfield = append([]byte(nil), payload...)
		return nil
	}
	bf, err := wire.ParseBitfield(payload, s.pick.NumPieces())
	if err != nil {
		return fmt.Errorf("bitfield: %w", err)
	}
	s.adoptBitfield(p, bf)
	return nil
}

func (s *Swarm) adoptBitfield(p *peer, bf wire.Bitfield) {
	if p.has != nil && !p.haveAll {
		s.pick.PeerGone(0, p.hasPiece) // replace, not add, if sent twice
	}
	p.has = bf
	p.numHave = bf.Count(s.pick.NumPieces())
	s.pick.PeerBitfield(p.hasPiece)
	s.updateInterest(p)
}

func (s *Swarm) onHaveAll(p *peer) error {
	p.haveAll = true
	if s.pick != nil {
		p.numHave = s.pick.NumPieces()
		s.pick.PeerBitfield(p.hasPiece)
		s.updateInterest(p)
	}
	return nil
}

// updateInterest tells the peer whether we want something it has and
// requests if we may. Caller holds s.mu.
func (s *Swarm) updateInterest(p *peer) {
	if s.pick == nil || s.paused {
		return
	}
	want := s.pick.Interesting(p.hasPiece)
	if want != p.amInterested {
		p.amInterested = want
		id := wire.NotInterested
		if want {
			id = wire.Interested
		}
		p.w.send(wire.Message{ID: id})
	}
	if want {
		s.fillRequests(p)
	}
}

// isSeed reports whether a peer has every piece. Caller holds s.mu.
func (p *peer) isSeed(numPieces int) bool {
	return p.haveAll || (numPieces > 0 && p.numHave == numPieces)
}

// remoteIP is c's remote IP as 4 (IPv4) or 16 bytes, nil if unknown.
func remoteIP(c net.Conn) []byte {
	// Parsed from the string form, which every transport gives: a uTP
	// connection's address is a UDP one (a *net.TCPAddr assertion gave uTP
	// peers no yourip, and a NATed node then rarely got two to agree).
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return nil
	}
	return ap.Addr().Unmap().AsSlice()
}
