package swarm

import (
	"fmt"
	"time"

	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/wire"
)

// Per-block blame for v2 torrents (BEP 52). When a piece that came from
// several peers fails its hash, Shoal asks a v2 peer that has the piece
// for its 16 KiB leaf hashes, checks them against the piece's entry in
// the piece layer (or the file's pieces root), and compares each block
// received with its leaf: the peer that sent a block that differs is
// banned at once, the others are not even struck. When no peer answers,
// blame falls back to the v1 rule (remember, compare once the piece
// verifies, strikes). A peer whose leaf hashes do not prove to the piece
// layer is banned.
//
// The failed piece's data stays on disk while the leaves are awaited, and
// the picker holds the piece (all its blocks received, none picked). The
// leaves then name the bad blocks: only those are fetched again, the good
// ones are kept. Without leaves the whole piece is fetched again.

// leafAsk is an open request for a failed piece's leaf hashes.
type leafAsk struct {
	req     storage.LeafRequest
	peer    uint64
	asked   time.Time
	refused map[uint64]bool
	senders map[PeerKey]blockSource // struck if the leaves never come
	hashes  map[int][32]byte        // SHA-256 of each block as received
	kept    bool                    // the piece is held for a partial refetch
}

// askLeaves asks a v2 peer for piece's leaf hashes and reports whether it
// could. Caller holds s.mu.
func (s *Swarm) askLeaves(piece int, senders map[PeerKey]blockSource, hashes map[int][32]byte, kept bool) bool {
	req, ok := s.layout.PieceLeaves(piece)
	if !ok {
		return false
	}
	a := &leafAsk{req: req, refused: map[uint64]bool{}, senders: senders, hashes: hashes, kept: kept}
	if !s.sendLeafAsk(piece, a) {
		return false
	}
	if s.leaves == nil {
		s.leaves = map[int]*leafAsk{}
	}
	s.leaves[piece] = a
	return true
}

// sendLeafAsk sends a's request to a v2 peer that has the piece and has
// not refused it, preferring one that sent none of it. Caller holds s.mu.
func (s *Swarm) sendLeafAsk(piece int, a *leafAsk) bool {
	var best *peer
	for _, p := range s.peers {
		if !s.speaksV2(p) || p.dead || a.refused[p.id] || !p.hasPiece(piece) {
			continue
		}
		_, sent := a.senders[p.source().key]
		if best == nil || !sent {
			best = p
		}
	}
	if best == nil {
		return false
	}
	a.peer, a.asked = best.id, time.Now()
	h := wire.HashMsg{Root: a.req.Root, Index: a.req.Index, Length: a.req.Length, ProofLayers: a.req.ProofLayers}
	best.w.send(h.Message(wire.HashRequest))
	return true
}

// findLeafAsk is the open leaf request p was asked that h answers.
func (s *Swarm) findLeafAsk(p *peer, h wire.HashMsg) (int, *leafAsk) {
	for piece, a := range s.leaves {
		if a.peer == p.id && h.BaseLayer == 0 && a.req.Root == h.Root && a.req.Index == h.Index &&
			a.req.Length == h.Length && a.req.ProofLayers == h.ProofLayers {
			return piece, a
		}
	}
	return 0, nil
}

// onLeafHashes judges a failed piece's blocks by its leaf hashes. Caller
// holds s.mu.
func (s *Swarm) onLeafHashes(p *peer, h wire.HashMsg) {
	piece, a := s.findLeafAsk(p, h)
	if a == nil {
		return
	}
	if !a.req.CheckLeaves(h.Hashes) {
		a.refused[p.id] = true
		s.ban(p.source(), fmt.Sprintf("sent leaf hashes of piece %d that do not match its piece layer", piece))
		s.leafAskAgain(piece, a)
		return
	}
	delete(s.leaves, piece)
	if a.kept {
		s.refetchBad(piece, a.hashes, h.Hashes)
	}
	fp := s.failed[piece]
	if fp == nil {
		return
	}
	for blk, sent := range fp.sent {
		if blk >= len(h.Hashes) {
			continue
		}
		for _, sb := range sent {
			if sb.hash != h.Hashes[blk] {
				s.ban(sb.src, fmt.Sprintf("sent block %d of piece %d, which failed its SHA-256 leaf hash", blk, piece))
			}
		}
	}
	// Judged: what these blocks were need not be compared again.
	delete(s.failed, piece)
}

// onLeafReject asks another peer, or falls back to strikes. Caller holds s.mu.
func (s *Swarm) onLeafReject(p *peer, h wire.HashMsg) {
	piece, a := s.findLeafAsk(p, h)
	if a == nil {
		return
	}
	a.refused[p.id] = true
	s.leafAskAgain(piece, a)
}

// leafAskAgain sends a to another peer; with none left, the senders are
// struck as for a v1 piece. Caller holds s.mu.
func (s *Swarm) leafAskAgain(piece int, a *leafAsk) {
	if s.sendLeafAsk(piece, a) {
		return
	}
	delete(s.leaves, piece)
	if a.kept {
		s.pick.MarkFailed(piece)
	}
	for _, src := range a.senders {
		if _, banned := s.banned[src.key]; !banned {
			s.strike(src, piece)
		}
	}
}

// refetchBad has the picker fetch again only the blocks of a held piece
// whose hash differs from its leaf; the piece is fetched whole if none
// does (its data changed on disk meanwhile). Caller holds s.mu.
func (s *Swarm) refetchBad(piece int, got map[int][32]byte, leaves [][32]byte) {
	blocks := int((s.layout.PieceSize(piece) + picker.BlockSize - 1) / picker.BlockSize)
	var bad []int
	for blk := range blocks {
		h, ok := got[blk]
		if !ok {
			continue // padding beyond the file's end: no leaf of its own
		}
		if blk >= len(leaves) || h != leaves[blk] {
			bad = append(bad, blk)
		}
	}
	if len(bad) == 0 {
		s.pick.MarkFailed(piece)
		return
	}
	s.logger().Info("refetching bad blocks of failed piece", "piece", piece, "bad", len(bad), "blocks", blocks)
	s.pick.Refetch(piece, bad)
}

// expireLeafAsks gives up leaf requests unanswered for layerAskAgain.
// Caller holds s.mu.
func (s *Swarm) expireLeafAsks() {
	for piece, a := range s.leaves {
		if time.Since(a.asked) > layerAskAgain {
			a.refused[a.peer] = true
			s.leafAskAgain(piece, a)
		}
	}
}
