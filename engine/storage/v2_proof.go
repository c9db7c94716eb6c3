package storage

import (
	"crypto/sha256"
	"math/bits"
	"sync"

	"github.com/anacrolix/torrent/merkle"
	"github.com/anacrolix/torrent/metainfo"
)

// BEP 52 hash requests, both ways. A download from a magnet link has
// pieces roots but no piece layers: it asks peers for each layer in
// chunks of at most MaxLayerChunk hashes, with the uncle hashes that tie
// a chunk to the file's pieces root (libtorrent asks the same way). A
// piece that fails its hash can be judged block by block: its 16 KiB
// leaf hashes, asked for with base layer 0, hash up to the piece's entry
// in the piece layer. Counting as libtorrent does, a request with length
// L and p proof layers is answered with the L hashes and then, when p
// reaches the chunk's own root (p >= log2(L)-1), p-log2(L)+1 uncles:
// the siblings from the chunk's root upward.

// MaxLayerChunk is the most piece-layer hashes asked for at once
// (libtorrent's limit for what it accepts).
const MaxLayerChunk = 512

// LayerNeed is a file whose piece layer is not known yet.
type LayerNeed struct {
	Root   [32]byte
	Pieces int // the file's pieces: hashes in its piece layer
}

// NeededLayers lists the files longer than one piece whose piece layers
// are missing, each root once.
func (l *Layout) NeededLayers() []LayerNeed {
	if l.v2 == nil {
		return nil
	}
	var out []LayerNeed
	seen := map[[32]byte]bool{}
	for _, f := range l.Files {
		if f.Pad || f.Length <= l.PieceLength || l.v2.layers[f.Root] != nil || seen[f.Root] {
			continue
		}
		seen[f.Root] = true
		out = append(out, LayerNeed{Root: f.Root, Pieces: int((f.Length + l.PieceLength - 1) / l.PieceLength)})
	}
	return out
}

// PieceLayerBase is the BEP 52 layer of piece hashes, counted from the
// 16 KiB leaves: log2 of the blocks in a piece.
func (l *Layout) PieceLayerBase() uint32 {
	return uint32(bits.TrailingZeros64(uint64(l.PieceLength / merkle.BlockSize)))
}

// LayerChunks is how a piece layer of pieces hashes is asked for:
// chunks of length hashes (a power of two) from index 0, length, ...,
// each with proof layers reaching the pieces root.
func LayerChunks(pieces int) (length, count, proofLayers uint32) {
	padded := uint32(merkle.RoundUpToPowerOfTwo(uint(max(pieces, 2))))
	length = min(padded, MaxLayerChunk)
	count = (uint32(pieces) + length - 1) / length
	return length, count, uint32(bits.TrailingZeros32(padded)) - 1
}

// uncleCount is how many uncle hashes answer a request of length hashes
// with proofLayers proof layers.
func uncleCount(length, proofLayers uint32) int {
	return max(0, int(proofLayers)-bits.TrailingZeros32(length)+1)
}

// ProvedRoot folds a hashes reply up to the root it proves: the chunk's
// own root over hashes (a power of two of them, starting at index), then
// one uncle per layer above it. It reports false when the reply does not
// have exactly the hashes and uncles the request asked for.
func ProvedRoot(hashes [][32]byte, index, length, proofLayers uint32) ([32]byte, bool) {
	n := uncleCount(length, proofLayers)
	if length < 2 || length&(length-1) != 0 || len(hashes) != int(length)+n {
		return [32]byte{}, false
	}
	cur := merkle.Root(hashes[:length])
	pos := index / length
	for _, u := range hashes[length:] {
		if pos&1 == 0 {
			cur = hashPair(cur, u)
		} else {
			cur = hashPair(u, cur)
		}
		pos >>= 1
	}
	return cur, true
}

func hashPair(a, b [32]byte) [32]byte {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return sha256.Sum256(buf[:])
}

// CheckLayerChunk reports whether a hashes reply for a chunk of the
// piece layer of the file with pieces root root (pieces hashes long)
// proves to that root.
func CheckLayerChunk(root [32]byte, pieces int, hashes [][32]byte, index, length, proofLayers uint32) bool {
	got, ok := ProvedRoot(hashes, index, length, proofLayers)
	if !ok || uint64(index) >= uint64(pieces) {
		return false
	}
	// The chunk's root sits log2(length) layers up; with the uncles the
	// fold must end at the top of a tree of the padded layer's size.
	padded := uint32(merkle.RoundUpToPowerOfTwo(uint(max(pieces, 2))))
	if bits.TrailingZeros32(length)+uncleCount(length, proofLayers) != bits.TrailingZeros32(padded) {
		return false
	}
	return got == root
}

// layerTrees caches, per pieces root, every layer of the tree over a
// padded piece layer (the piece layer first, the root last), built on the
// first hash request that asks for proof layers.
type layerTrees struct {
	mu    sync.Mutex
	trees map[[32]byte][][][32]byte
}

func (t *layerTrees) get(root [32]byte, layer [][32]byte, pad [32]byte) [][][32]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tree, ok := t.trees[root]; ok {
		return tree
	}
	level := make([][32]byte, merkle.RoundUpToPowerOfTwo(uint(len(layer))))
	copy(level, layer)
	for i := len(layer); i < len(level); i++ {
		level[i] = pad
	}
	tree := [][][32]byte{level}
	for len(level) > 1 {
		next := make([][32]byte, len(level)/2)
		for i := range next {
			next[i] = hashPair(level[2*i], level[2*i+1])
		}
		tree = append(tree, next)
		level = next
	}
	if t.trees == nil {
		t.trees = map[[32]byte][][][32]byte{}
	}
	t.trees[root] = tree
	return tree
}

// LayerHashes answers a BEP 52 hash request for the piece layer of the
// file with pieces root root: length hashes from index, padded past the
// file's end with the hash of an all-zero piece, then the uncle hashes
// for proofLayers as libtorrent counts them. It reports false for
// anything else (another layer, an unknown root, a file of one piece or
// less, a range past the padded layer, proof layers at or above the
// root, a v1 layout).
func (l *Layout) LayerHashes(root [32]byte, baseLayer, index, length, proofLayers uint32) ([][32]byte, bool) {
	if l.v2 == nil || l.PieceLength < merkle.BlockSize || baseLayer != l.PieceLayerBase() {
		return nil, false
	}
	layer := l.v2.layers[root]
	if layer == nil {
		return nil, false
	}
	padded := uint64(merkle.RoundUpToPowerOfTwo(uint(len(layer))))
	height := bits.TrailingZeros64(padded) // layers above the piece layer
	if uint64(index)+uint64(length) > padded || int(proofLayers) >= height {
		return nil, false
	}
	pad := metainfo.HashForPiecePad(l.PieceLength)
	out := make([][32]byte, length, int(length)+uncleCount(length, proofLayers))
	for i := range out {
		if j := int(index) + i; j < len(layer) {
			out[i] = layer[j]
		} else {
			out[i] = pad
		}
	}
	if uncleCount(length, proofLayers) == 0 {
		return out, true
	}
	tree := l.v2.trees.get(root, layer, pad)
	pos := index / length
	for k := bits.TrailingZeros32(length); k <= int(proofLayers); k++ {
		out = append(out, tree[k][pos^1])
		pos >>= 1
	}
	return out, true
}

// LeafRequest is the BEP 52 hash request for the 16 KiB leaf hashes of
// one piece, and the hash they must prove to.
type LeafRequest struct {
	Root                       [32]byte
	Index, Length, ProofLayers uint32
	// Want is the piece's entry in its file's piece layer, or the pieces
	// root for a file of one piece or less.
	Want [32]byte
}

// pieceFile returns the file a v2 piece lies in, and the piece's index
// within that file.
func (l *Layout) pieceFile(i int) (File, int64, bool) {
	if l.v2 == nil || i < 0 || i >= l.NumPieces {
		return File{}, 0, false
	}
	off := l.PieceOffset(i)
	f := l.Files[l.fileAt(off)]
	if f.Pad || f.Length == 0 {
		return File{}, 0, false
	}
	return f, (off - f.Offset) / l.PieceLength, true
}

// PieceLeaves is the request for piece i's leaf hashes. It reports false
// when the piece has one block (its hash is its only leaf), lies in
// padding, or its piece layer is not known.
func (l *Layout) PieceLeaves(i int) (LeafRequest, bool) {
	f, k, ok := l.pieceFile(i)
	if !ok {
		return LeafRequest{}, false
	}
	if f.Length > l.PieceLength {
		bpp := uint32(l.PieceLength / merkle.BlockSize)
		layer := l.v2.layers[f.Root]
		if bpp < 2 || k >= int64(len(layer)) {
			return LeafRequest{}, false
		}
		return LeafRequest{Root: f.Root, Index: uint32(k) * bpp, Length: bpp,
			ProofLayers: uint32(bits.TrailingZeros32(bpp)) - 1, Want: layer[k]}, true
	}
	blocks := (f.Length + merkle.BlockSize - 1) / merkle.BlockSize
	if blocks < 2 {
		return LeafRequest{}, false
	}
	n := uint32(merkle.RoundUpToPowerOfTwo(uint(blocks)))
	return LeafRequest{Root: f.Root, Length: n, ProofLayers: uint32(bits.TrailingZeros32(n)) - 1, Want: f.Root}, true
}

// CheckLeaves reports whether a hashes reply to r proves to r.Want.
func (r LeafRequest) CheckLeaves(hashes [][32]byte) bool {
	got, ok := ProvedRoot(hashes, r.Index, r.Length, r.ProofLayers)
	return ok && got == r.Want
}

// LeafRequestPiece maps a request for leaf hashes (base layer 0) to the
// piece that holds them: the range must lie within one piece of the file
// with pieces root root (for a file of one piece or less, within its
// padded leaves), and need no uncle hashes. It returns the piece.
func (l *Layout) LeafRequestPiece(root [32]byte, index, length, proofLayers uint32) (int, bool) {
	if l.v2 == nil || uncleCount(length, proofLayers) != 0 || length < 2 {
		return 0, false
	}
	bpp := uint64(l.PieceLength / merkle.BlockSize)
	for _, f := range l.Files {
		if f.Pad || f.Root != root || f.Length == 0 {
			continue
		}
		first := int(f.Offset / l.PieceLength)
		blocks := uint64((f.Length + merkle.BlockSize - 1) / merkle.BlockSize)
		if f.Length <= l.PieceLength {
			ok := uint64(index)+uint64(length) <= uint64(merkle.RoundUpToPowerOfTwo(uint(max(blocks, 2))))
			return first, ok
		}
		k := uint64(index) / bpp
		ok := uint64(length) <= bpp && k*bpp < blocks
		return first + int(k), ok
	}
	return 0, false
}

// LeafAnswer is the hashes reply to a leaf request LeafRequestPiece
// mapped to piece: data is the piece as stored, and leaves past the
// file's end are zero hashes (BEP 52).
func (l *Layout) LeafAnswer(piece int, data []byte, index, length uint32) [][32]byte {
	f, k, _ := l.pieceFile(piece)
	n := min(l.PieceLength, f.Length-k*l.PieceLength, int64(len(data)))
	data = data[:max(n, 0)]
	firstLeaf := uint64(k * l.PieceLength / merkle.BlockSize)
	out := make([][32]byte, length)
	for i := range out {
		at := (uint64(index) + uint64(i) - firstLeaf) * merkle.BlockSize
		if at < uint64(len(data)) {
			out[i] = sha256.Sum256(data[at:min(at+merkle.BlockSize, uint64(len(data)))])
		}
	}
	return out
}

// BlockHashes is the SHA-256 of each 16 KiB block of a piece's data: a v2
// piece's leaf hashes, and what blame compares blocks by.
func BlockHashes(data []byte) [][32]byte {
	out := make([][32]byte, 0, (len(data)+merkle.BlockSize-1)/merkle.BlockSize)
	for at := 0; at < len(data); at += merkle.BlockSize {
		out = append(out, sha256.Sum256(data[at:min(at+merkle.BlockSize, len(data))]))
	}
	return out
}

// PieceFileData is the part of piece i's data (as stored) that belongs to
// a file: for v2, the piece without the padding after its file's end,
// whose blocks are what the leaf hashes cover; for v1, all of it.
func (l *Layout) PieceFileData(i int, data []byte) []byte {
	f, k, ok := l.pieceFile(i)
	if !ok || data == nil {
		return data
	}
	return data[:max(0, min(l.PieceLength, f.Length-k*l.PieceLength, int64(len(data))))]
}
