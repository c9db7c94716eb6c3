package swarm

import (
	"fmt"
	"maps"
	"time"

	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/wire"
)

// Fetching piece layers (BEP 52). A v2 torrent opened from a btmh magnet
// link has, once its info dictionary arrived, only each file's pieces
// root. Before any piece is requested, the piece layer of every file
// longer than one piece is asked of v2 peers in chunks (see
// storage.LayerChunks), each reply is checked against the pieces root
// through its uncle hashes, and the layers are installed when all are in.
// A peer that rejects a chunk is not asked for it again; a reply that
// does not prove to its root gets the peer banned.

// layerAskAgain is how long a chunk asked of a peer waits for its answer
// before another peer is asked.
const layerAskAgain = 10 * time.Second

// layerFetch is the piece layers still being fetched.
type layerFetch struct {
	chunks []*layerChunk
	got    map[[32]byte][][32]byte // by pieces root, len = the file's pieces
	left   int                     // chunks not yet proved
}

// layerChunk is one hash request and what became of it.
type layerChunk struct {
	need    storage.LayerNeed
	req     wire.HashMsg
	done    bool
	peer    uint64 // asked of (0: nobody now)
	asked   time.Time
	refused map[uint64]bool // rejected it, or answered wrongly
}

// newLayerFetch plans the requests for the layers l lacks (nil if none).
// Caller holds s.mu.
func (s *Swarm) newLayerFetch(l *storage.Layout) *layerFetch {
	needs := l.NeededLayers()
	if len(needs) == 0 {
		return nil
	}
	f := &layerFetch{got: map[[32]byte][][32]byte{}}
	for _, n := range needs {
		f.got[n.Root] = make([][32]byte, n.Pieces)
		length, count, proof := storage.LayerChunks(n.Pieces)
		for c := range count {
			req := wire.HashMsg{Root: n.Root, BaseLayer: l.PieceLayerBase(), Index: c * length, Length: length, ProofLayers: proof}
			f.chunks = append(f.chunks, &layerChunk{need: n, req: req, refused: map[uint64]bool{}})
		}
	}
	f.left = len(f.chunks)
	s.logger().Info("fetching piece layers from peers", "files", len(needs), "requests", f.left)
	return f
}

// requestLayers asks v2 peers for the chunks nobody is answering, each of
// the peer with the fewest open hash requests that has not refused it.
// Caller holds s.mu.
func (s *Swarm) requestLayers() {
	f := s.layers
	if f == nil {
		return
	}
	now := time.Now()
	open := map[uint64]int{}
	for _, c := range f.chunks {
		if !c.done && c.peer != 0 && now.Sub(c.asked) < layerAskAgain {
			open[c.peer]++
		}
	}
	for _, c := range f.chunks {
		if c.done || (c.peer != 0 && now.Sub(c.asked) < layerAskAgain) {
			continue
		}
		if c.peer != 0 {
			c.refused[c.peer] = true // silent too long: try someone else
			c.peer = 0
		}
		p := s.layerPeer(c, open)
		if p == nil {
			if len(c.refused) > 0 && s.anyLayerPeer() {
				clear(c.refused) // every peer refused: they may have it later
			}
			continue
		}
		c.peer, c.asked = p.id, now
		open[p.id]++
		p.w.send(c.req.Message(wire.HashRequest))
	}
}

// layerPeer picks the v2 peer to ask for c. Caller holds s.mu.
func (s *Swarm) layerPeer(c *layerChunk, open map[uint64]int) *peer {
	var best *peer
	for _, p := range s.peers {
		if !s.speaksV2(p) || p.dead || c.refused[p.id] {
			continue
		}
		if best == nil || open[p.id] < open[best.id] {
			best = p
		}
	}
	return best
}

// speaksV2 reports whether p takes BEP 52 hash requests: every peer of a
// v2-only swarm (found by the v2 infohash: libtorrent does not set the
// reserved bit there), and in a hybrid swarm those that set the bit.
// Caller holds s.mu.
func (s *Swarm) speaksV2(p *peer) bool {
	return p.v2 || s.cfg.V2 || (s.layout != nil && s.layout.IsV2())
}

// anyLayerPeer reports whether a v2 peer is connected. Caller holds s.mu.
func (s *Swarm) anyLayerPeer() bool {
	for _, p := range s.peers {
		if s.speaksV2(p) && !p.dead {
			return true
		}
	}
	return false
}

// findChunk is the open chunk p was asked for that h answers.
func (f *layerFetch) findChunk(p *peer, h wire.HashMsg) *layerChunk {
	for _, c := range f.chunks {
		if !c.done && c.peer == p.id && c.req.Root == h.Root && c.req.BaseLayer == h.BaseLayer &&
			c.req.Index == h.Index && c.req.Length == h.Length && c.req.ProofLayers == h.ProofLayers {
			return c
		}
	}
	return nil
}

// onLayerHashes takes a hashes reply: proved, its hashes are kept, and
// when the last chunk is in the layers go to the layout and pieces are
// requested; not proved, the peer is banned. Unasked replies are
// dropped. Caller holds s.mu.
func (s *Swarm) onLayerHashes(p *peer, h wire.HashMsg) {
	f := s.layers
	if f == nil {
		s.onLeafHashes(p, h)
		return
	}
	c := f.findChunk(p, h)
	if c == nil {
		return
	}
	if !storage.CheckLayerChunk(c.need.Root, c.need.Pieces, h.Hashes, h.Index, h.Length, h.ProofLayers) {
		c.peer = 0
		c.refused[p.id] = true
		s.ban(p.source(), fmt.Sprintf("sent piece-layer hashes that do not match the pieces root of a file (hashes %d to %d)",
			h.Index, h.Index+h.Length-1))
		s.requestLayers()
		return
	}
	c.done = true
	f.left--
	copy(f.got[c.need.Root][h.Index:], h.Hashes[:h.Length])
	if f.left > 0 {
		return
	}
	layers := maps.Clone(s.cfg.PieceLayers)
	if layers == nil {
		layers = map[[32]byte][][32]byte{}
	}
	maps.Copy(layers, f.got)
	s.layout.SetPieceLayers(layers)
	s.fetchedLayers = layers
	s.layers = nil
	s.logger().Info("piece layers received and verified", "files", len(f.got))
	for _, q := range s.peers {
		s.updateInterest(q)
	}
}

// onLayerReject takes a hash reject: the chunk goes to another peer.
// Caller holds s.mu.
func (s *Swarm) onLayerReject(p *peer, h wire.HashMsg) {
	if s.layers == nil {
		s.onLeafReject(p, h)
		return
	}
	if c := s.layers.findChunk(p, h); c != nil {
		c.peer = 0
		c.refused[p.id] = true
		s.requestLayers()
	}
}

// PieceLayers returns the piece layers fetched from peers once all are in
// and verified (nil before, and for torrents whose layers came with
// them), for the owner to keep.
func (s *Swarm) PieceLayers() map[[32]byte][][32]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetchedLayers
}
