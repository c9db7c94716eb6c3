package swarm

import (
	"fmt"

	"github.com/shoalp2p/shoal/engine/wire"
)

// BEP 52 hash messages. A v2-only swarm announces v2 in its handshake and
// answers hash requests for its files' piece layers, so a v2 peer that came
// from a btmh magnet link can check pieces. Requests for other layers or
// with proof layers are rejected. Shoal gets its own piece layers from the
// .torrent file and sends no hash requests, so hashes and hash rejects that
// arrive answer nothing and are dropped.

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
	if m.ID != wire.HashRequest {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ok bool
	if s.layout != nil && h.ProofLayers == 0 {
		h.Hashes, ok = s.layout.LayerHashes(h.Root, h.BaseLayer, h.Index, h.Length)
	}
	if !ok {
		p.w.send(h.Message(wire.HashReject))
		return nil
	}
	p.w.send(h.Message(wire.Hashes))
	return nil
}
