package storage

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/internal/peerclients"
)

// needLibtorrent skips without python3-libtorrent, unless
// SHOAL_REQUIRE_PEERS=1, where it fails.
func needLibtorrent(t *testing.T, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, peerclients.ErrNotInstalled) && os.Getenv("SHOAL_REQUIRE_PEERS") != "1":
		t.Skipf("%v; set SHOAL_REQUIRE_PEERS=1 to fail instead", err)
	default:
		t.Fatal(err)
	}
}

// TestCreateMatchesLibtorrent creates the same content with Shoal and with
// python3-libtorrent 2.0 (lt.create_torrent(fs, piece_size, flags)) as a
// hybrid, v1-only and v2-only torrent, and compares the v1 and v2
// infohashes (SHA-1 and SHA-256 of the info dictionary) and the piece
// layers: same bytes, same pad files, same Merkle roots.
func TestCreateMatchesLibtorrent(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "album")
	writeTree(t, folder, map[string]int{
		"b/02.flac": 70 * kib, "a.txt": 10, "b/01.flac": 90*kib + 3, "c/exact.bin": 64 * kib,
		"c/big.bin": 300*kib + 5, "z~.tmp": 1, "empty": 0,
	})
	single := filepath.Join(dir, "movie.bin")
	writeTree(t, dir, map[string]int{"movie.bin": 200*kib + 77})
	small := filepath.Join(dir, "small.txt")
	writeTree(t, dir, map[string]int{"small.txt": 5000})
	formats := map[string]Format{peerclients.LibtorrentHybrid: Hybrid, peerclients.LibtorrentV1: V1Only, peerclients.LibtorrentV2: V2Only}
	for _, src := range []string{folder, single, small} {
		for kind, format := range formats {
			t.Run(filepath.Base(src)+"/"+kind, func(t *testing.T) {
				if src == folder && format == V1Only {
					// libtorrent keeps a v1-only folder in the order its
					// directory walk found the files; Shoal sorts them.
					t.Skip("libtorrent's v1-only file order is the file system's")
				}
				out := filepath.Join(t.TempDir(), "lt.torrent")
				needLibtorrent(t, peerclients.LibtorrentCreate(src, out, 32*kib, kind))
				theirs, err := metainfo.LoadFromFile(out)
				if err != nil {
					t.Fatal(err)
				}
				ours, err := Create(context.Background(), src, CreateOptions{PieceLength: 32 * kib, Format: format}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if sha1.Sum(ours.InfoBytes) != sha1.Sum(theirs.InfoBytes) || sha256.Sum256(ours.InfoBytes) != sha256.Sum256(theirs.InfoBytes) {
					t.Fatalf("infohashes differ:\nShoal      %x %x\nlibtorrent %x %x\nShoal's info:      %s\nlibtorrent's info: %s",
						sha1.Sum(ours.InfoBytes), sha256.Sum256(ours.InfoBytes), sha1.Sum(theirs.InfoBytes), sha256.Sum256(theirs.InfoBytes),
						clipInfo(ours.InfoBytes), clipInfo(theirs.InfoBytes))
				}
				if fmt.Sprint(ours.PieceLayers) != fmt.Sprint(theirs.PieceLayers) {
					t.Fatalf("piece layers differ: %d vs %d files", len(ours.PieceLayers), len(theirs.PieceLayers))
				}
				t.Logf("v1 %x v2 %x", sha1.Sum(ours.InfoBytes), sha256.Sum256(ours.InfoBytes))
			})
		}
	}
}

// clipInfo shows an info dictionary's structure with long strings cut.
func clipInfo(b []byte) string {
	var out []byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 0x20 && c < 0x7f {
			out = append(out, c)
		} else {
			out = append(out, '.')
		}
	}
	if len(out) > 1500 {
		out = append(out[:1500], "…"...)
	}
	return string(out)
}
