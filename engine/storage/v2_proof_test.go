package storage

import (
	"crypto/sha256"
	"testing"

	"github.com/anacrolix/torrent/metainfo"
)

// TestLayerChunkProofs builds v2 layouts whose big file has piece layers
// of several lengths, answers every chunk LayerChunks plans as a seeder
// does (LayerHashes, with uncle hashes above 512), and checks that each
// reply proves to the pieces root, and that a changed hash, a changed
// uncle, a missing uncle or another chunk's index does not.
func TestLayerChunkProofs(t *testing.T) {
	for _, pieces := range []int{2, 3, 49, 512, 513, 1500, 4096} {
		const pl = 32 << 10
		layer := make([][32]byte, pieces)
		for i := range layer {
			layer[i] = sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		}
		root := MerkleRoot(layer, metainfo.HashForPiecePad(pl))
		l := &Layout{PieceLength: pl, v2: &v2Pieces{layers: map[[32]byte][][32]byte{root: layer}}}
		length, count, proof := LayerChunks(pieces)
		if length > MaxLayerChunk || int(count*length) < pieces {
			t.Fatalf("%d pieces: chunks of %d, %d of them", pieces, length, count)
		}
		for c := range count {
			idx := c * length
			hashes, ok := l.LayerHashes(root, l.PieceLayerBase(), idx, length, proof)
			if !ok {
				t.Fatalf("%d pieces: chunk %d not answered", pieces, c)
			}
			if !CheckLayerChunk(root, pieces, hashes, idx, length, proof) {
				t.Fatalf("%d pieces: chunk %d does not prove to the root", pieces, c)
			}
			bad := append([][32]byte(nil), hashes...)
			bad[0][0] ^= 1
			if CheckLayerChunk(root, pieces, bad, idx, length, proof) {
				t.Fatalf("%d pieces: a changed hash still proves", pieces)
			}
			if len(hashes) > int(length) {
				bad = append([][32]byte(nil), hashes...)
				bad[len(bad)-1][5] ^= 1
				if CheckLayerChunk(root, pieces, bad, idx, length, proof) {
					t.Fatalf("%d pieces: a changed uncle still proves", pieces)
				}
				if CheckLayerChunk(root, pieces, hashes[:len(hashes)-1], idx, length, proof) {
					t.Fatalf("%d pieces: a reply short of an uncle still proves", pieces)
				}
			}
			if count > 1 && CheckLayerChunk(root, pieces, hashes, (idx+length)%(count*length), length, proof) {
				t.Fatalf("%d pieces: chunk %d proves at another index", pieces, c)
			}
		}
		if _, ok := l.LayerHashes(root, l.PieceLayerBase(), 0, length, proof+1); ok {
			t.Fatalf("%d pieces: proof layers up to the root answered", pieces)
		}
	}
}

// TestPieceLeaves checks that the leaf hashes a seeder answers for a
// piece prove to its piece-layer entry (and for a small file to its
// root), the last piece's leaves past the file's end being zero.
func TestPieceLeaves(t *testing.T) {
	const pl = 64 << 10
	big := make([]byte, 3*pl+20000)
	small := make([]byte, 40000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for i := range small {
		small[i] = byte(i * 13)
	}
	var layer [][32]byte
	for off := 0; off < len(big); off += pl {
		layer = append(layer, PieceHash(big[off:min(off+pl, len(big))], pl))
	}
	bigRoot := MerkleRoot(layer, metainfo.HashForPiecePad(pl))
	smallRoot := PieceHash(small, 0)
	l := &Layout{PieceLength: pl, NumPieces: 5, TotalLength: 5 * pl, v2: &v2Pieces{layers: map[[32]byte][][32]byte{bigRoot: layer}},
		Files: []File{
			{Path: "a/big", Length: int64(len(big)), Root: bigRoot},
			{Path: "a/.pad/0", Offset: int64(len(big)), Length: 4*pl - int64(len(big)), Pad: true},
			{Path: "a/small", Offset: 4 * pl, Length: int64(len(small)), Root: smallRoot},
			{Path: "a/.pad/1", Offset: 4*pl + int64(len(small)), Length: pl - int64(len(small)), Pad: true},
		}}
	stored := append(append(append([]byte(nil), big...), make([]byte, 4*pl-len(big))...), append(small, make([]byte, pl-len(small))...)...)
	for piece := range 5 {
		req, ok := l.PieceLeaves(piece)
		if !ok {
			t.Fatalf("piece %d: no leaf request", piece)
		}
		got, ok := l.LeafRequestPiece(req.Root, req.Index, req.Length, req.ProofLayers)
		if !ok || got != piece {
			t.Fatalf("piece %d: the request maps to piece %d (%v)", piece, got, ok)
		}
		data := stored[piece*pl : (piece+1)*pl]
		leaves := l.LeafAnswer(piece, data, req.Index, req.Length)
		if !req.CheckLeaves(leaves) {
			t.Fatalf("piece %d: its leaf hashes do not prove to %x", piece, req.Want[:4])
		}
		leaves[1][0] ^= 1
		if req.CheckLeaves(leaves) {
			t.Fatalf("piece %d: a changed leaf still proves", piece)
		}
	}
	if _, ok := l.LeafRequestPiece(bigRoot, 16, 4, 1); ok {
		t.Fatal("leaves past the big file's last piece were mapped to a piece")
	}
}

// FuzzCheckLayerChunk feeds arbitrary hashes replies to the checks a
// downloader runs on them, against a real piece layer, seeded with true
// answers: no panic, and whatever passes is the true answer (a forged
// reply would be a SHA-256 collision).
func FuzzCheckLayerChunk(f *testing.F) {
	const pl = 32 << 10
	build := func(pieces int) (*Layout, [32]byte) {
		layer := make([][32]byte, pieces)
		for i := range layer {
			layer[i] = sha256.Sum256([]byte{byte(i), byte(i >> 8), 1})
		}
		root := MerkleRoot(layer, metainfo.HashForPiecePad(pl))
		return &Layout{PieceLength: pl, v2: &v2Pieces{layers: map[[32]byte][][32]byte{root: layer}}}, root
	}
	flat := func(h [][32]byte) []byte {
		var b []byte
		for _, x := range h {
			b = append(b, x[:]...)
		}
		return b
	}
	for _, pieces := range []uint16{2, 49, 600} {
		l, root := build(int(pieces))
		length, _, proof := LayerChunks(int(pieces))
		h, _ := l.LayerHashes(root, l.PieceLayerBase(), 0, length, proof)
		f.Add(pieces, uint32(0), length, proof, flat(h))
		f.Add(pieces, length, length, proof, flat(h))
	}
	f.Fuzz(func(t *testing.T, pieces uint16, index, length, proof uint32, raw []byte) {
		if pieces < 2 || pieces > 2000 {
			return
		}
		l, root := build(int(pieces))
		hashes := make([][32]byte, len(raw)/32)
		for i := range hashes {
			copy(hashes[i][:], raw[32*i:])
		}
		if !CheckLayerChunk(root, int(pieces), hashes, index, length, proof) {
			return
		}
		want, ok := l.LayerHashes(root, l.PieceLayerBase(), index, length, proof)
		if !ok || len(want) != len(hashes) {
			t.Fatalf("a reply passed that the layer cannot give (index %d length %d proof %d)", index, length, proof)
		}
		for i := range want {
			if want[i] != hashes[i] {
				t.Fatalf("a false reply passed: hash %d differs", i)
			}
		}
	})
}
