package torrentfile

import (
	"crypto/sha256"
	"fmt"
	"math/bits"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/merkle"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/internal/bencodescan"
)

// V2Hash is the SHA-256 of an info dictionary: a v2 or hybrid torrent's
// full infohash (BEP 52).
func V2Hash(infoBytes []byte) [32]byte { return sha256.Sum256(infoBytes) }

// SwarmHash returns the 20-byte hash a torrent is known by on the wire, in
// the DHT and at trackers: the v1 infohash (SHA-1) when the info has v1
// parts, so a hybrid is one swarm with v1 peers, and the v2 infohash cut to
// 20 bytes for a v2-only torrent, as BEP 52 says.
func SwarmHash(infoBytes []byte, info *metainfo.Info) [20]byte {
	if info.HasV2() && !hasV1Parts(info) {
		v2 := V2Hash(infoBytes)
		return [20]byte(v2[:20])
	}
	return metainfo.HashBytes(infoBytes)
}

// hasV1Parts reports whether an info carries v1 files and piece hashes.
func hasV1Parts(info *metainfo.Info) bool {
	return len(info.Pieces) != 0 || len(info.Files) != 0 || info.Length != 0
}

// IsHybrid reports whether a parsed info is v2 with v1 parts: one swarm
// known by two infohashes.
func IsHybrid(info *metainfo.Info) bool { return info.HasV2() && hasV1Parts(info) }

// IsV2Only reports whether a parsed info is v2 without v1 parts.
func IsV2Only(info *metainfo.Info) bool { return info.HasV2() && !hasV1Parts(info) }

// setV2 reads BEP 52's meta version and file tree. A v2 info needs a piece
// length that is a power of two of at least 16 KiB, and a file tree whose
// files have a length and, when not empty, a 32-byte pieces root.
func setV2(info *metainfo.Info, d dict) error {
	version, ok := d.int("meta version")
	if !ok || version < 2 {
		return nil // v1: the file tree, if any, is not ours to read
	}
	if version != 2 {
		return fmt.Errorf("%w: meta version %d (Shoal reads 1 and 2)", ErrBadTorrent, version)
	}
	pl := info.PieceLength
	if pl < 16<<10 || bits.OnesCount64(uint64(pl)) != 1 {
		return fmt.Errorf("%w: v2 piece length %d is not a power of two of at least 16 KiB", ErrBadTorrent, pl)
	}
	raw, ok := d["file tree"]
	if !ok || kind(raw) != 'd' {
		return fmt.Errorf("%w: v2 info without a file tree", ErrBadTorrent)
	}
	var ft metainfo.FileTree
	if err := bencode.Unmarshal(raw, &ft); err != nil {
		return fmt.Errorf("%w: file tree: %w", ErrBadTorrent, err)
	}
	if err := ft.Validate(); err != nil {
		return fmt.Errorf("%w: file tree: %w", ErrBadTorrent, err)
	}
	if !ft.IsDir() && ft.File.Length == 0 && ft.File.PiecesRoot == "" {
		return fmt.Errorf("%w: no files (empty file tree)", ErrBadTorrent)
	}
	info.MetaVersion, info.FileTree = 2, ft
	return nil
}

// CheckPieceLayers checks BEP 52 piece layers against a v2 info: each
// layer must be whole 32-byte hashes, one per piece of its file, and hash
// up to the file's pieces root. Layers of files not in the tree are
// dropped. It returns the layers by pieces root.
func CheckPieceLayers(info *metainfo.Info, layers map[string]string) (map[[32]byte][][32]byte, error) {
	out := map[[32]byte][][32]byte{}
	pl := info.PieceLength
	pad := metainfo.HashForPiecePad(pl)
	for f := range info.UpvertedFilesIter() {
		if !f.PiecesRoot.Ok || f.Length <= pl {
			continue
		}
		root := f.PiecesRoot.Value
		layer, ok := layers[string(root[:])]
		if !ok {
			continue // fetched from peers later, or refused by the caller
		}
		n := (f.Length + pl - 1) / pl
		if int64(len(layer)) != 32*n {
			return nil, fmt.Errorf("%w: piece layer of %q: %d bytes for %d pieces", ErrBadTorrent, f.Path, len(layer), n)
		}
		hashes := make([][32]byte, n)
		for i := range hashes {
			copy(hashes[i][:], layer[32*i:])
		}
		if merkle.RootWithPadHash(hashes, pad) != root {
			return nil, fmt.Errorf("%w: piece layer of %q does not match its pieces root", ErrBadTorrent, f.Path)
		}
		out[root] = hashes
	}
	return out, nil
}

// maxScanDepth bounds nesting where an info dictionary is only scanned
// (LooksHybrid): deep enough for any file tree a parse would accept.
const maxScanDepth = 1000

// LooksHybrid reports whether info dictionary bytes name a hybrid torrent
// by their keys alone: meta version 2 beside v1 parts (pieces, files or
// length), as IsHybrid says of the parsed info. It walks the top-level
// keys without decoding values or allocating, for a start-up that meets
// thousands of library items; bytes it says yes to are still parsed, and
// checked, before they are used.
func LooksHybrid(b []byte) bool {
	var v2, v1 bool
	err := bencodescan.Dict(b, maxScanDepth, func(key, value []byte) bool {
		switch string(key) {
		case "meta version":
			v2 = string(value) == "i2e"
		case "pieces": // a string, not empty
			v1 = v1 || value[0] >= '1' && value[0] <= '9'
		case "files": // a list, not empty
			v1 = v1 || value[0] == 'l' && len(value) > 2
		case "length": // an integer, not 0
			v1 = v1 || value[0] == 'i' && string(value) != "i0e"
		}
		return true
	})
	return err == nil && v1 && v2
}
