package storage

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/anacrolix/torrent/merkle"
	"github.com/anacrolix/torrent/metainfo"
)

// v2Pieces holds what a v2-only torrent's pieces are checked against
// (BEP 52): each file's pieces root and, for files longer than one piece,
// its piece layer.
type v2Pieces struct {
	layers map[[32]byte][][32]byte
	trees  layerTrees // for answering hash requests with proof layers
}

// isV2Only reports whether info is BEP 52 without v1 parts; a hybrid is
// laid out and checked by its v1 parts, which describe the same bytes.
func isV2Only(info *metainfo.Info) bool {
	return info.HasV2() && len(info.Pieces) == 0 && len(info.Files) == 0 && info.Length == 0
}

// newV2Layout lays out a v2-only torrent: files in file-tree order, each
// starting on a piece boundary, with the gaps as padding files.
func newV2Layout(info *metainfo.Info) (*Layout, error) {
	name := layoutName(info.BestName())
	l := &Layout{Name: name, PieceLength: info.PieceLength, v2: &v2Pieces{}}
	single := !info.FileTree.IsDir() || isSingleFileTree(&info.FileTree)
	var end int64
	pads := 0
	for fi := range info.UpvertedFilesIter() {
		if len(l.Files) >= MaxFiles {
			return nil, fmt.Errorf("%w: over %d files", ErrBadInfo, MaxFiles)
		}
		if fi.TorrentOffset > end {
			pad := filepath.Join(name, ".pad", strconv.Itoa(pads))
			l.Files = append(l.Files, File{Path: pad, Length: fi.TorrentOffset - end, Offset: end, Pad: true})
			pads++
		}
		if fi.Length > MaxTotalLength-fi.TorrentOffset {
			return nil, fmt.Errorf("%w: total length over %d", ErrBadInfo, int64(MaxTotalLength))
		}
		f := File{Path: v2Path(name, fi.Path, single), Length: fi.Length, Offset: fi.TorrentOffset}
		if fi.PiecesRoot.Ok {
			f.Root = fi.PiecesRoot.Value
		}
		l.Files = append(l.Files, f)
		end = fi.TorrentOffset + fi.Length
	}
	if end <= 0 {
		return nil, fmt.Errorf("%w: no data (total length %d)", ErrBadInfo, end)
	}
	if rest := end % l.PieceLength; rest != 0 && !single {
		// libtorrent pads the last file of a multi-file torrent too, and
		// asks for whole blocks of its last piece.
		pad := filepath.Join(name, ".pad", strconv.Itoa(pads))
		l.Files = append(l.Files, File{Path: pad, Length: l.PieceLength - rest, Offset: end, Pad: true})
		end += l.PieceLength - rest
	}
	renameDuplicates(l.Files)
	l.TotalLength = end
	l.NumPieces = int((end + l.PieceLength - 1) / l.PieceLength)
	l.setContent()
	return l, nil
}

// isSingleFileTree reports whether a file tree holds one file at its top,
// which BEP 52 single-file torrents name like the torrent.
func isSingleFileTree(ft *metainfo.FileTree) bool {
	if len(ft.Dir) != 1 {
		return false
	}
	for _, sub := range ft.Dir {
		return !sub.IsDir()
	}
	return false
}

// v2Path maps a file-tree path below the torrent's folder, or to the
// torrent's name for a single-file torrent.
func v2Path(name string, path []string, single bool) string {
	if single {
		return name
	}
	parts := []string{name}
	for _, c := range path {
		if s := sanitizeComponent(c); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 1 {
		parts = append(parts, fallbackName)
	}
	return filepath.Join(parts...)
}

// IsV2 reports whether pieces are checked by BEP 52 Merkle trees.
func (l *Layout) IsV2() bool { return l.v2 != nil }

// SetPieceLayers gives a v2 layout the piece layers (by pieces root) that
// files longer than one piece are checked against. The caller has checked
// them against the roots (torrentfile.CheckPieceLayers).
func (l *Layout) SetPieceLayers(layers map[[32]byte][][32]byte) {
	if l.v2 != nil {
		l.v2.layers = layers
	}
}

// MissingLayers returns how many files longer than one piece have no
// piece layer yet, so their pieces cannot be checked.
func (l *Layout) MissingLayers() int {
	if l.v2 == nil {
		return 0
	}
	n := 0
	for _, f := range l.Files {
		if !f.Pad && f.Length > l.PieceLength && l.v2.layers[f.Root] == nil {
			n++
		}
	}
	return n
}

// CheckPiece reports whether data is piece i: its SHA-1 for v1 and hybrid
// torrents, its Merkle hash within its file for v2 (BEP 52), checked
// against the file's piece layer or, for a file of one piece or less,
// against its pieces root.
func (l *Layout) CheckPiece(i int, data []byte) bool {
	if i < 0 || i >= l.NumPieces || int64(len(data)) != l.PieceSize(i) {
		return false
	}
	if l.v2 == nil {
		return sha1.Sum(data) == l.Hashes[i]
	}
	off := l.PieceOffset(i)
	f := l.Files[l.fileAt(off)]
	k := (off - f.Offset) / l.PieceLength
	n := min(l.PieceLength, f.Length-k*l.PieceLength)
	if f.Pad || n <= 0 || n > int64(len(data)) {
		return false
	}
	if f.Length <= l.PieceLength {
		return pieceHash(data[:n], 0) == f.Root
	}
	layer := l.v2.layers[f.Root]
	return int64(len(layer)) > k && pieceHash(data[:n], l.PieceLength) == layer[k]
}

// pieceHash is the Merkle root over the SHA-256 of each 16 KiB block of
// data, padded with zero hashes to span minLength bytes and then to a
// power of two (BEP 52).
func pieceHash(data []byte, minLength int64) [32]byte {
	leaves := make([][32]byte, 0, max(int64(len(data)), minLength)/merkle.BlockSize+1)
	for off := 0; off < len(data); off += merkle.BlockSize {
		leaves = append(leaves, sha256.Sum256(data[off:min(off+merkle.BlockSize, len(data))]))
	}
	for int64(len(leaves))*merkle.BlockSize < minLength {
		leaves = append(leaves, [32]byte{})
	}
	return merkle.RootWithPadHash(leaves, [32]byte{})
}

// PieceHash is the BEP 52 Merkle hash of one piece's data within its file,
// its leaves padded to span minLength bytes: the piece length for a piece
// of a file's piece layer, 0 for a file of one piece or less (whose hash
// is then its pieces root).
func PieceHash(data []byte, minLength int64) [32]byte { return pieceHash(data, minLength) }

// MerkleRoot is the root over a layer of hashes padded to a power of two
// with pad (anacrolix's merkle.RootWithPadHash).
func MerkleRoot(hashes [][32]byte, pad [32]byte) [32]byte { return merkle.RootWithPadHash(hashes, pad) }
