package picker

import (
	"math/rand/v2"
	"time"
)

// BlockSize is the request size every mainstream client uses.
const BlockSize = 16 * 1024

// randomFirst is how many verified pieces we must have before new pieces
// are picked rarest-first rather than at random (more than this may start
// at random meanwhile), so a new peer quickly has something to trade.
const randomFirst = 4

// Block names one request.
type Block struct {
	Piece  int
	Begin  int
	Length int
}

// PeerID identifies a peer to the picker; any comparable key the owner uses.
type PeerID = uint64

// Picker tracks piece availability and in-flight blocks for one torrent.
type Picker struct {
	numPieces   int
	pieceLength int64
	totalLength int64
	have        []bool
	numHave     int
	wanted      []bool // false for pieces of skipped files
	avail       []int  // how many connected peers have each piece
	partial     map[int]*partialPiece
	sequential  bool
	rng         *rand.Rand
	now         func() time.Time // the clock; tests replace it
}

type blockState struct {
	received  bool
	requested []PeerID  // peers with an outstanding request for it
	since     time.Time // when the first outstanding request was made
}

type partialPiece struct {
	blocks   []blockState
	received int
}

// New returns a picker for a torrent of the given shape.
func New(numPieces int, pieceLength, totalLength int64) *Picker {
	p := &Picker{
		numPieces:   numPieces,
		pieceLength: pieceLength,
		totalLength: totalLength,
		have:        make([]bool, numPieces),
		wanted:      make([]bool, numPieces),
		avail:       make([]int, numPieces),
		partial:     make(map[int]*partialPiece),
		rng:         rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		now:         time.Now,
	}
	for i := range p.wanted {
		p.wanted[i] = true
	}
	return p
}

// NumPieces is the torrent's piece count.
func (p *Picker) NumPieces() int { return p.numPieces }

// SetSequential switches between rarest-first and in-order picking.
func (p *Picker) SetSequential(on bool) { p.sequential = on }

// SetWanted marks a piece as wanted or skipped (per-file selection).
func (p *Picker) SetWanted(piece int, wanted bool) { p.wanted[piece] = wanted }

// Wanted reports whether a piece is to be downloaded.
func (p *Picker) Wanted(piece int) bool { return p.wanted[piece] }

// PieceSize is the byte length of piece i.
func (p *Picker) PieceSize(i int) int {
	if i == p.numPieces-1 {
		return int(p.totalLength - int64(i)*p.pieceLength)
	}
	return int(p.pieceLength)
}

func (p *Picker) numBlocks(piece int) int {
	return (p.PieceSize(piece) + BlockSize - 1) / BlockSize
}

// Have reports whether piece i is verified.
func (p *Picker) Have(i int) bool { return p.have[i] }

// NumHave counts verified pieces.
func (p *Picker) NumHave() int { return p.numHave }

// Complete reports whether every wanted piece is verified.
func (p *Picker) Complete() bool {
	for i, w := range p.wanted {
		if w && !p.have[i] {
			return false
		}
	}
	return true
}

// MarkHave records a verified piece and forgets its in-flight state.
func (p *Picker) MarkHave(i int) {
	if !p.have[i] {
		p.have[i] = true
		p.numHave++
	}
	delete(p.partial, i)
}

// MarkFailed forgets everything received for a piece that failed its hash, so
// it is requested again.
func (p *Picker) MarkFailed(i int) { delete(p.partial, i) }

// Refetch re-requests only the bad blocks of a piece that failed its hash
// and keeps the others as received (BEP 52: a v2 piece's leaf hashes tell
// which of its blocks are wrong). Until it is called, a failed piece whose
// blocks are all received is simply not picked.
func (p *Picker) Refetch(piece int, bad []int) {
	pp := p.partial[piece]
	if pp == nil {
		pp = &partialPiece{blocks: make([]blockState, p.numBlocks(piece))}
		for b := range pp.blocks {
			pp.blocks[b].received = true
		}
		pp.received = len(pp.blocks)
		p.partial[piece] = pp
	}
	for _, b := range bad {
		if b >= 0 && b < len(pp.blocks) && pp.blocks[b].received {
			pp.blocks[b].received = false
			pp.received--
		}
	}
}

// PeerHas adjusts availability when a peer announces a piece.
func (p *Picker) PeerHas(i int) { p.avail[i]++ }

// PeerBitfield adds a peer's whole bitfield to availability.
func (p *Picker) PeerBitfield(has func(int) bool) {
	for i := range p.avail {
		if has(i) {
			p.avail[i]++
		}
	}
}

// PeerGone removes a departed peer's pieces from availability and releases
// its outstanding requests.
func (p *Picker) PeerGone(id PeerID, has func(int) bool) {
	for i := range p.avail {
		if has(i) && p.avail[i] > 0 {
			p.avail[i]--
		}
	}
	p.CancelPeer(id)
}

// CancelPeer releases every request outstanding to a peer (choked, snubbed or gone).
func (p *Picker) CancelPeer(id PeerID) {
	for _, pp := range p.partial {
		for b := range pp.blocks {
			pp.blocks[b].requested = removeID(pp.blocks[b].requested, id)
		}
	}
}

// Release forgets one outstanding request (rejected or cancelled).
func (p *Picker) Release(id PeerID, b Block) {
	pp := p.partial[b.Piece]
	if pp == nil {
		return
	}
	i := b.Begin / BlockSize
	if i < len(pp.blocks) {
		pp.blocks[i].requested = removeID(pp.blocks[i].requested, id)
	}
}

func removeID(ids []PeerID, id PeerID) []PeerID {
	for i, x := range ids {
		if x == id {
			ids[i] = ids[len(ids)-1]
			return ids[:len(ids)-1]
		}
	}
	return ids
}

// Interesting reports whether a peer with the given pieces has something we want.
func (p *Picker) Interesting(has func(int) bool) bool {
	for i := range p.have {
		if !p.have[i] && p.wanted[i] && has(i) {
			return true
		}
	}
	return false
}
