package picker

import "time"

// Pick returns up to n blocks to request from peer id, which has the pieces
// for which has returns true. Partial pieces come first, then new pieces
// (random first, then rarest-first or in order), then blocks already
// requested from other peers: any of them in endgame, before that only
// those stuck StealAfter.
func (p *Picker) Pick(id PeerID, has func(int) bool, n int) []Block {
	var out []Block
	out = p.pickPartial(id, has, n, out)
	for len(out) < n {
		piece := p.choosePiece(has)
		if piece < 0 {
			break
		}
		p.partial[piece] = &partialPiece{blocks: make([]blockState, p.numBlocks(piece))}
		out = p.takeBlocks(id, piece, n, out)
	}
	if len(out) < n {
		out = p.pickEndgame(id, has, n, out)
	}
	return out
}

func (p *Picker) pickPartial(id PeerID, has func(int) bool, n int, out []Block) []Block {
	for piece := range p.partial {
		if len(out) >= n {
			break
		}
		if has(piece) {
			out = p.takeBlocks(id, piece, n, out)
		}
	}
	return out
}

// takeBlocks requests the unrequested, unreceived blocks of one piece.
func (p *Picker) takeBlocks(id PeerID, piece, n int, out []Block) []Block {
	pp := p.partial[piece]
	for b := range pp.blocks {
		if len(out) >= n {
			break
		}
		st := &pp.blocks[b]
		if st.received || len(st.requested) > 0 {
			continue
		}
		st.requested = append(st.requested, id)
		st.since = p.now()
		out = append(out, p.block(piece, b))
	}
	return out
}

func (p *Picker) block(piece, b int) Block {
	begin := b * BlockSize
	length := BlockSize
	if rest := p.PieceSize(piece) - begin; rest < length {
		length = rest
	}
	return Block{Piece: piece, Begin: begin, Length: length}
}

// choosePiece selects a piece not yet started; -1 if none.
func (p *Picker) choosePiece(has func(int) bool) int {
	candidate := func(i int) bool {
		return p.wanted[i] && !p.have[i] && p.partial[i] == nil && has(i)
	}
	if p.sequential {
		for i := 0; i < p.numPieces; i++ {
			if candidate(i) {
				return i
			}
		}
		return -1
	}
	random := p.numHave < randomFirst
	best, bestAvail, ties := -1, int(^uint(0)>>1), 0
	for i := 0; i < p.numPieces; i++ {
		if !candidate(i) {
			continue
		}
		a := p.avail[i]
		if random {
			a = 0
		}
		switch {
		case a < bestAvail:
			best, bestAvail, ties = i, a, 1
		case a == bestAvail:
			// Reservoir sampling breaks ties uniformly at random.
			ties++
			if p.rng.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

// StealAfter is how long a block may wait on one peer before a peer with
// nothing new to send us may ask for it too: the first copy to arrive
// counts and the other request is cancelled. Before the endgame this only
// takes blocks stuck in a slow peer's queue, not everything in flight.
const StealAfter = 300 * time.Millisecond

// pickEndgame requests blocks already in flight elsewhere, least duplicated
// first: any of them once the download is in its endgame, before that
// only blocks that have waited StealAfter.
func (p *Picker) pickEndgame(id PeerID, has func(int) bool, n int, out []Block) []Block {
	stuckSince, maxDup := time.Time{}, 2
	if !p.inEndgame() {
		stuckSince, maxDup = p.now().Add(-StealAfter), 1
	}
	for dup := 1; dup <= maxDup && len(out) < n; dup++ {
		for piece, pp := range p.partial {
			if !has(piece) {
				continue
			}
			for b := range pp.blocks {
				if len(out) >= n {
					return out
				}
				st := &pp.blocks[b]
				if st.received || len(st.requested) != dup || containsID(st.requested, id) ||
					(!stuckSince.IsZero() && st.since.After(stuckSince)) {
					continue
				}
				st.requested = append(st.requested, id)
				out = append(out, p.block(piece, b))
			}
		}
	}
	return out
}

func containsID(ids []PeerID, id PeerID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Received records a block that arrived from peer id. It reports whether the
// block was wanted (false for duplicates and unrequested data), whether the
// piece now has every block, and which other peers still have it requested
// (to be sent cancels: in endgame, or for a block stolen after
// StealAfter).
func (p *Picker) Received(id PeerID, b Block) (wanted, pieceDone bool, cancel []PeerID) {
	pp := p.partial[b.Piece]
	if pp == nil || b.Begin%BlockSize != 0 {
		return false, false, nil
	}
	i := b.Begin / BlockSize
	if i >= len(pp.blocks) || pp.blocks[i].received {
		return false, false, nil
	}
	if want := p.block(b.Piece, i); want.Length != b.Length {
		return false, false, nil
	}
	st := &pp.blocks[i]
	st.received = true
	pp.received++
	for _, other := range st.requested {
		if other != id {
			cancel = append(cancel, other)
		}
	}
	st.requested = nil
	return true, pp.received == len(pp.blocks), cancel
}

// Outstanding counts the requests in flight to peer id (tests use it).
func (p *Picker) Outstanding(id PeerID) int {
	n := 0
	for _, pp := range p.partial {
		for _, st := range pp.blocks {
			if containsID(st.requested, id) {
				n++
			}
		}
	}
	return n
}

// inEndgame reports whether every block still missing is requested from
// some peer. Only then are duplicate requests worth their bandwidth: a
// peer that merely has nothing new for us must not re-request what others
// are sending (in a busy swarm that wasted a fifth of all uploads).
func (p *Picker) inEndgame() bool {
	for i := range p.numPieces {
		if p.have[i] || !p.wanted[i] {
			continue
		}
		pp := p.partial[i]
		if pp == nil {
			return false
		}
		for _, st := range pp.blocks {
			if !st.received && len(st.requested) == 0 {
				return false
			}
		}
	}
	return true
}
