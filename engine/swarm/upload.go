package swarm

import (
	"bufio"
	"time"

	"github.com/shoalp2p/shoal/engine/choker"
	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/wire"
)

// onRequest queues a block upload if the peer may have it. Caller holds s.mu.
func (s *Swarm) onRequest(p *peer, m wire.Message) error {
	ok := !p.amChoking && s.pick != nil && int(m.Index) < s.pick.NumPieces() &&
		s.pick.Have(int(m.Index)) && m.Length > 0 && m.Length <= 2*picker.BlockSize &&
		int64(m.Begin)+int64(m.Length) <= s.layout.PieceSize(int(m.Index))
	if ok && p.w.queueUpload(m) {
		return nil
	}
	if p.fast {
		p.w.send(wire.Message{ID: wire.Reject, Index: m.Index, Begin: m.Begin, Length: m.Length})
	}
	return nil
}

// serveBlock reads one requested block from disk and writes it. It runs on
// the peer's writer goroutine.
func (s *Swarm) serveBlock(p *peer, bw *bufio.Writer, m wire.Message, buf *[]byte) bool {
	if int(m.Length) > cap(*buf) {
		*buf = make([]byte, m.Length)
	}
	block := (*buf)[:m.Length]
	off := s.layout.PieceOffset(int(m.Index)) + int64(m.Begin)
	if _, err := s.files.ReadAt(block, off); err != nil {
		s.log.Warn("read block for upload", "err", err)
		return false
	}
	var hdr [13]byte
	if _, err := bw.Write(wire.AppendPieceHeader(hdr[:0], m.Index, m.Begin, int(m.Length))); err != nil {
		return false
	}
	if _, err := bw.Write(block); err != nil {
		return false
	}
	n := int64(m.Length)
	p.up.Add(n)
	p.unloggedUp.Add(n)
	s.totalUp.Add(n)
	return true
}

// runChoker applies one choking round. Caller holds s.mu.
func (s *Swarm) runChoker() {
	var cands []choker.Peer
	for _, p := range s.peers {
		credit := 1.0
		if s.cfg.Credit != nil {
			credit = s.cfg.Credit(p.peerID, p.ip)
		}
		cands = append(cands, choker.Peer{
			ID:         p.id,
			Interested: p.peerInterested,
			DownRate:   p.downRate.value,
			UpRate:     p.upRate.value,
			Credit:     credit,
			New:        time.Since(p.start) < time.Minute,
		})
	}
	unchoke := s.choke.Round(cands, s.seeding)
	for _, p := range s.peers {
		s.setChoking(p, !unchoke[p.id])
	}
}

func (s *Swarm) setChoking(p *peer, choke bool) {
	if p.amChoking == choke {
		return
	}
	p.amChoking = choke
	if !choke {
		p.note = ""
		p.w.send(wire.Message{ID: wire.Unchoke})
		return
	}
	p.note = "choked: not among the fastest uploaders"
	p.w.send(wire.Message{ID: wire.Choke})
	for _, m := range p.w.dropUploads() {
		if p.fast {
			p.w.send(wire.Message{ID: wire.Reject, Index: m.Index, Begin: m.Begin, Length: m.Length})
		}
	}
}

// maybeUnchoke gives a newly interested peer a free slot at once instead of
// making it wait for the next round. Caller holds s.mu.
func (s *Swarm) maybeUnchoke(p *peer) {
	if !p.amChoking {
		return
	}
	unchoked := 0
	for _, q := range s.peers {
		if !q.amChoking {
			unchoked++
		}
	}
	if unchoked < s.choke.Slots+1 {
		s.setChoking(p, false)
	}
}
