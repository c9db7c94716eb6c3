package storage

import (
	"strconv"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// withPadFiles returns files with a BEP 47 padding file after each
// non-empty file that does not end on a piece boundary (the last one too),
// named .pad/SIZE, as libtorrent 2.0's file_storage::canonicalize places
// them: every file then starts on a piece, as a hybrid's v2 half requires.
// A single file gets none.
func withPadFiles(files []metainfo.FileInfo, pl int64) []metainfo.FileInfo {
	if len(files) == 0 {
		return nil
	}
	out := make([]metainfo.FileInfo, 0, 2*len(files))
	for _, f := range files {
		out = append(out, f)
		if rest := f.Length % pl; rest != 0 {
			pad := metainfo.FileInfo{Length: pl - rest, Path: []string{".pad", strconv.FormatInt(pl-rest, 10)}}
			pad.Attr = "p"
			out = append(out, pad)
		}
	}
	return out
}

// v2Hasher builds each file's BEP 52 Merkle tree while Create reads it.
type v2Hasher struct {
	pl     int64
	buf    []byte // the current piece of the current file
	n      int64
	path   []string
	length int64
	layer  [][32]byte
	files  []v2File
	layers map[string]string // pieces root → piece layer, for files over one piece
}

// v2File is one hashed file: its path (nil for a single file), length and
// pieces root.
type v2File struct {
	path   []string
	length int64
	root   [32]byte
}

func newV2Hasher(pl int64) *v2Hasher {
	return &v2Hasher{pl: pl, buf: make([]byte, pl), layers: map[string]string{}}
}

func (v *v2Hasher) startFile(path []string, length int64) {
	v.path, v.length, v.n, v.layer = path, length, 0, nil
}

func (v *v2Hasher) write(p []byte) {
	for len(p) > 0 {
		c := copy(v.buf[v.n:], p)
		v.n += int64(c)
		p = p[c:]
		if v.n == v.pl {
			v.piece()
		}
	}
}

// piece hashes the buffered piece into the file's piece layer; a file of
// one piece or less is hashed whole, its tree padded only to a power of
// two of blocks.
func (v *v2Hasher) piece() {
	minLength := v.pl
	if v.length <= v.pl {
		minLength = 0
	}
	v.layer = append(v.layer, pieceHash(v.buf[:v.n], minLength))
	v.n = 0
}

// endFile records the file's pieces root and, over one piece, its layer.
func (v *v2Hasher) endFile() {
	f := v2File{path: v.path, length: v.length}
	if v.n > 0 {
		v.piece()
	}
	switch {
	case v.length == 0:
	case v.length <= v.pl:
		f.root = v.layer[0]
	default:
		f.root = MerkleRoot(v.layer, metainfo.HashForPiecePad(v.pl))
		b := make([]byte, 0, 32*len(v.layer))
		for _, h := range v.layer {
			b = append(b, h[:]...)
		}
		v.layers[string(f.root[:])] = string(b)
	}
	v.files = append(v.files, f)
}

// rootsPieceLength is the piece length of the Merkle trees a V1Only
// torrent's roots are computed with: a file's pieces root does not depend
// on it (a tree over 16 KiB blocks padded to a power of two either way),
// and 1 MiB keeps the buffer small and the layer short.
const rootsPieceLength = 1 << 20

// roots lists the pieces roots of the non-empty files hashed, in order.
func (v *v2Hasher) roots() [][32]byte {
	var out [][32]byte
	for _, f := range v.files {
		if f.length > 0 {
			out = append(out, f.root)
		}
	}
	return out
}

// setFileTree sets info's BEP 52 meta version and file tree; a single
// file sits in the tree under the torrent's name.
func setFileTree(info *metainfo.Info, files []v2File) {
	root := metainfo.FileTree{Dir: map[string]metainfo.FileTree{}}
	for _, f := range files {
		path := f.path
		if path == nil {
			path = []string{info.Name}
		}
		leaf := metainfo.FileTree{File: metainfo.FileTreeFile{Length: f.length}}
		if f.length > 0 {
			leaf.File.PiecesRoot = string(f.root[:])
		}
		insertTree(&root, path, leaf)
	}
	info.MetaVersion, info.FileTree = 2, root
}

func insertTree(t *metainfo.FileTree, path []string, leaf metainfo.FileTree) {
	if len(path) == 1 {
		t.Dir[path[0]] = leaf
		return
	}
	sub, ok := t.Dir[path[0]]
	if !ok {
		sub = metainfo.FileTree{Dir: map[string]metainfo.FileTree{}}
	}
	insertTree(&sub, path[1:], leaf)
	t.Dir[path[0]] = sub
}

// EncodeInfo bencodes an info dictionary as libtorrent does: like
// anacrolix's encoder, except that an empty file in a v2 file tree has no
// "pieces root" key at all (anacrolix writes an empty one), so a folder
// with empty files gets libtorrent's infohashes.
func EncodeInfo(info *metainfo.Info) ([]byte, error) {
	b, err := bencode.Marshal(info)
	if err != nil || !info.HasV2() {
		return b, err
	}
	var d map[string]bencode.Bytes
	if err := bencode.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if d["file tree"], err = bencode.Marshal(treeValue(&info.FileTree)); err != nil {
		return nil, err
	}
	return bencode.Marshal(d)
}

// treeValue is a file tree as plain maps for the encoder.
func treeValue(t *metainfo.FileTree) map[string]any {
	if !t.IsDir() {
		leaf := map[string]any{"length": t.File.Length}
		if t.File.PiecesRoot != "" {
			leaf["pieces root"] = t.File.PiecesRoot
		}
		return map[string]any{"": leaf}
	}
	out := make(map[string]any, len(t.Dir))
	for k, sub := range t.Dir {
		out[k] = treeValue(&sub)
	}
	return out
}
