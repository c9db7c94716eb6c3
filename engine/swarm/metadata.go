package swarm

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/wire"
)

// maxMetadataSize bounds what a peer may make us allocate for metadata.
const maxMetadataSize = 8 << 20

// metaFetch assembles the info dictionary from ut_metadata pieces (BEP 9).
type metaFetch struct {
	size      int
	data      []byte
	got       []bool
	requested map[int]time.Time
	progress  time.Time // when size was chosen or a piece last arrived
}

// metaStall is how long the metadata_size first claimed may go without a
// piece before another peer's size is tried: the first peer may have lied.
const metaStall = 10 * time.Second

func newMetaFetch() *metaFetch { return &metaFetch{requested: make(map[int]time.Time)} }

func (s *Swarm) onExtended(p *peer, m wire.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.ExtendedID {
	case 0:
		return s.onExtHandshake(p, m.Payload)
	case extMetadata:
		return s.onMetadataMsg(p, m.Payload)
	case extPEX:
		return s.onPEX(p, m.Payload)
	case extHolepunch:
		return s.onHolepunch(p, m.Payload)
	}
	return nil
}

func (s *Swarm) onExtHandshake(p *peer, payload []byte) error {
	h, err := wire.ParseExtHandshake(payload)
	if err != nil {
		return fmt.Errorf("extension handshake: %w", err)
	}
	p.theirExt = h.M
	p.metadataSize = h.MetadataSize
	if h.Reqq > 0 {
		p.reqq = h.Reqq
	}
	if h.V != "" {
		p.client = h.V
	}
	if h.P > 0 && h.P < 65536 {
		p.listenPort = uint16(h.P)
	}
	if ip, ok := netip.AddrFromSlice(h.YourIP); ok {
		p.yourIP = ip.Unmap()
		s.cfg.IPVotes.Note(mustAddr(p.ip), p.yourIP)
	}
	if ip := mustAddr(p.ip); h.P > 0 && h.P < 65536 && ip.IsValid() {
		// Remember where the peer listens (for resume data), but we are
		// already connected: do not dial it now.
		addr := netip.AddrPortFrom(ip, uint16(h.P)).String()
		if _, known := s.cands[addr]; !known && len(s.cands) < 2000 {
			put(&s.cands, addr, &candidate{addr: addr, nextTry: time.Now().Add(time.Minute)})
		}
	}
	s.requestMetadata(p)
	return nil
}

func mustAddr(ip string) netip.Addr {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}
	}
	return a
}

// requestMetadata asks p for metadata pieces we still need. Caller holds s.mu.
func (s *Swarm) requestMetadata(p *peer) {
	mf := s.meta
	id := p.theirExt["ut_metadata"]
	if mf == nil || id <= 0 || p.metadataSize <= 0 || p.metadataSize > maxMetadataSize {
		return
	}
	if mf.size != 0 && p.metadataSize != mf.size && time.Since(mf.progress) > metaStall {
		*mf = *newMetaFetch()
	}
	if mf.size == 0 {
		mf.size, mf.progress = p.metadataSize, time.Now()
		n := (mf.size + wire.MetadataPieceSize - 1) / wire.MetadataPieceSize
		mf.data = make([]byte, mf.size)
		mf.got = make([]bool, n)
	}
	if p.metadataSize != mf.size {
		return
	}
	now := time.Now()
	for i, ok := range mf.got {
		if ok || now.Sub(mf.requested[i]) < 10*time.Second {
			continue
		}
		mf.requested[i] = now
		b, _ := wire.MetadataMsg{Type: wire.MetadataRequest, Piece: i}.Marshal()
		p.w.send(wire.Message{ID: wire.Extended, ExtendedID: uint8(id), Payload: b})
	}
}

func (s *Swarm) onMetadataMsg(p *peer, payload []byte) error {
	msg, err := wire.ParseMetadataMsg(payload)
	if err != nil {
		return fmt.Errorf("ut_metadata: %w", err)
	}
	switch msg.Type {
	case wire.MetadataRequest:
		s.serveMetadata(p, msg.Piece)
	case wire.MetadataData:
		s.storeMetadataPiece(msg)
	case wire.MetadataReject:
		if s.meta != nil {
			delete(s.meta.requested, msg.Piece)
		}
	}
	return nil
}

func (s *Swarm) serveMetadata(p *peer, piece int) {
	id := p.theirExt["ut_metadata"]
	if id <= 0 {
		return
	}
	reply := wire.MetadataMsg{Type: wire.MetadataReject, Piece: piece}
	start := piece * wire.MetadataPieceSize
	if s.infoBytes != nil && piece >= 0 && start < len(s.infoBytes) {
		end := min(start+wire.MetadataPieceSize, len(s.infoBytes))
		reply = wire.MetadataMsg{Type: wire.MetadataData, Piece: piece, TotalSize: len(s.infoBytes), Data: s.infoBytes[start:end]}
	}
	b, err := reply.Marshal()
	if err == nil {
		p.w.send(wire.Message{ID: wire.Extended, ExtendedID: uint8(id), Payload: b})
	}
}

// storeMetadataPiece keeps a piece; when all are in and the SHA-1 matches the
// infohash, the torrent switches to downloading. Caller holds s.mu.
func (s *Swarm) storeMetadataPiece(msg wire.MetadataMsg) {
	mf := s.meta
	if mf == nil || mf.got == nil || msg.Piece < 0 || msg.Piece >= len(mf.got) {
		return
	}
	start := msg.Piece * wire.MetadataPieceSize
	want := min(wire.MetadataPieceSize, mf.size-start)
	if len(msg.Data) != want {
		return
	}
	copy(mf.data[start:], msg.Data)
	mf.got[msg.Piece] = true
	mf.progress = time.Now()
	for _, ok := range mf.got {
		if !ok {
			return
		}
	}
	if !matchesInfoHash(mf.data, s.cfg.InfoHash) {
		s.logger().Warn("metadata failed its hash; fetching again")
		s.meta = newMetaFetch()
		return
	}
	if err := s.setInfo(mf.data, nil); err != nil {
		s.err = err
		return
	}
	s.logger().Info("metadata received", "name", s.info.Name, "bytes", s.layout.TotalLength)
	s.adoptEarlyBitfields()
}

// adoptEarlyBitfields applies what peers announced before we knew the piece
// count. Caller holds s.mu.
func (s *Swarm) adoptEarlyBitfields() {
	for _, p := range s.peers {
		switch {
		case p.haveAll:
			s.onHaveAll(p)
		case p.rawBitfield != nil:
			raw := make([]byte, (s.pick.NumPieces()+7)/8)
			copy(raw, p.rawBitfield)
			if bf, err := wire.ParseBitfield(raw, s.pick.NumPieces()); err == nil {
				s.adoptBitfield(p, bf)
			}
			p.rawBitfield = nil
		}
	}
}

func (s *Swarm) onPEX(p *peer, payload []byte) error {
	px, err := wire.ParsePEX(payload)
	if err != nil {
		return nil // PEX is advisory; ignore junk rather than drop the peer
	}
	notePEX(p, px)
	for i, a := range px.Added {
		s.pexCandidate(a, px.AddedFlags[i])
	}
	return nil
}

// pexCandidate adds a peer a PEX message named, using its flags: a seed
// is no use to us while we seed. A ut_holepunch peer flagged as not
// dialled by its relay is still dialled directly first, over TCP (a
// punch toward a peer that is in fact reachable can form a TCP connection
// that both ends take as incoming), but not over uTP: a uTP SYN that
// reaches a router answering it spoils the punch that follows for 30 s
// (candidate.punchFirst). Caller holds s.mu.
func (s *Swarm) pexCandidate(a netip.AddrPort, f wire.PEXFlags) {
	addr := a.String()
	if _, ok := s.cands[addr]; ok || len(s.cands) >= 2000 || (s.seeding && f&wire.PEXSeed != 0) || s.isOwnAddr(a) {
		return
	}
	punchFirst := f&wire.PEXHolepunch != 0 && f&wire.PEXReachable == 0
	put(&s.cands, addr, &candidate{addr: addr, punchFirst: punchFirst})
}

// Info returns the torrent's metadata once known.
func (s *Swarm) Info() (*metainfo.Info, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info, s.infoBytes
}

// matchesInfoHash reports whether info bytes hash to ih: their SHA-1 (v1,
// hybrid), or their SHA-256 cut to 20 bytes (v2 from a btmh magnet).
func matchesInfoHash(b []byte, ih [20]byte) bool {
	if sha1.Sum(b) == ih {
		return true
	}
	v2 := sha256.Sum256(b)
	return [20]byte(v2[:20]) == ih
}
