package swarm

import (
	"fmt"
	"github.com/shoalp2p/shoal/engine/wire"
)

// BEP 52 hash messages. A v2-only swarm announces v2 in its handshake and
// answers hash requests: for a file's piece layer (with the uncle hashes
// that prove a chunk to the pieces root, so a peer that came from a btmh
// magnet link can check pieces), and for the 16 KiB leaf hashes of one
// piece it has (so a peer can tell which block of a failed piece was
// bad). Other requests are rejected. Shoal itself asks for piece layers
// it lacks (layers.go) and for the leaves of failed pieces (blame_v2.go).

// reserved is the handshake's reserved bytes: v2 is announced by v2-only
// swarms, which answer hash requests.
func (s *Swarm) reserved() [8]byte {
	if s.cfg.V2 {
		return wire.WithV2(wire.DefaultReserved())
	}
	return wire.DefaultReserved()
}

// onHashMsg handles a hash request, hashes or hash reject message.
func (s *Swarm) onHashMsg(p *peer, m wire.Message) error {
	h, err := wire.ParseHashMsg(m.ID, m.Payload)
	if err != nil {
		return fmt.Errorf("%v: %w", m.ID, err)
	}
	if m.ID == wire.HashRequest && h.BaseLayer == 0 {
		s.serveLeafHashes(p, h)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.ID {
	case wire.Hashes:
		s.onLayerHashes(p, h)
	case wire.HashReject:
		s.onLayerReject(p, h)
	default:
		s.servePieceLayer(p, h)
	}
	return nil
}

// servePieceLayer answers a request for piece-layer hashes. Caller holds s.mu.
func (s *Swarm) servePieceLayer(p *peer, h wire.HashMsg) {
	var ok bool
	if s.layout != nil && s.layers == nil {
		h.Hashes, ok = s.layout.LayerHashes(h.Root, h.BaseLayer, h.Index, h.Length, h.ProofLayers)
	}
	if !ok {
		p.w.send(h.Message(wire.HashReject))
		return
	}
	p.w.send(h.Message(wire.Hashes))
}

// serveLeafHashes answers a request for the leaf hashes of one piece we
// have, hashing its blocks as read from disk (without the swarm lock).
func (s *Swarm) serveLeafHashes(p *peer, h wire.HashMsg) {
	s.mu.Lock()
	layout, files := s.layout, s.files
	piece, ok := -1, false
	if layout != nil && s.pick != nil {
		piece, ok = layout.LeafRequestPiece(h.Root, h.Index, h.Length, h.ProofLayers)
		ok = ok && s.pick.Have(piece)
	}
	s.mu.Unlock()
	if ok {
		buf := make([]byte, layout.PieceSize(piece))
		if _, err := files.ReadAt(buf, layout.PieceOffset(piece)); err == nil {
			h.Hashes = layout.LeafAnswer(piece, buf, h.Index, h.Length)
		} else {
			ok = false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok {
		p.w.send(h.Message(wire.HashReject))
		return
	}
	p.w.send(h.Message(wire.Hashes))
}
