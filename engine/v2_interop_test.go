package engine_test

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/torrentfile"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestLibtorrentV2ToShoal has python3-libtorrent 2.0 make and seed v2-only
// and hybrid torrents (a single file, and a folder of files that
// straddle pieces, whose hybrid carries BEP 47 pad files), and Shoal
// download each from the .torrent file with every byte checked. v2-only
// pieces are verified by SHA-256 Merkle trees against the piece layers;
// the swarm is found by the v2 infohash cut to 20 bytes.
func TestLibtorrentV2ToShoal(t *testing.T) {
	for _, kind := range []string{peerclients.LibtorrentV2, peerclients.LibtorrentHybrid} {
		for _, shape := range []string{"file", "folder"} {
			t.Run(kind+"/"+shape, func(t *testing.T) {
				c := folderOfFiles(t, "album")
				if shape == "file" {
					c = singleFile(t, "movie.bin", 5<<20+4321)
				}
				torrent := filepath.Join(t.TempDir(), "lt.torrent")
				need(t, peerclients.LibtorrentCreate(c.root, torrent, 64<<10, kind))
				seed, err := peerclients.StartLibtorrentSeed(t, torrent, filepath.Dir(c.root))
				need(t, err)
				node := enginetest.Start(t, enginetest.Config(t))
				dl := t.TempDir()
				ih, err := node.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: dl, Peers: []string{seed.Addr()}})
				if err != nil {
					t.Fatalf("Shoal refused libtorrent's %s torrent: %v", kind, err)
				}
				waitAll(t, node, ih, 60*time.Second)
				c.checkCopy(t, dl)
			})
		}
	}
}

// waitAll waits until Shoal has every piece of ih, failing with its state.
func waitAll(t *testing.T, n *enginetest.Node, ih engine.InfoHash, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		tr, ok := enginetest.Transfer(n.Snapshot(), ih)
		if ok && tr.Size > 0 && tr.Have == tr.Size {
			t.Logf("Shoal completed %d bytes in %v", tr.Size, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > timeout {
			t.Fatalf("Shoal did not complete %s within %v: state=%s have=%d/%d peers=%d err=%q",
				ih, timeout, tr.State, tr.Have, tr.Size, tr.Peers, tr.Err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestShoalV2ToLibtorrent has Shoal seed a v2-only torrent it made and
// python3-libtorrent download it, from the .torrent file and from a btmh
// magnet link alone (the info dictionary by BEP 9 from Shoal, found by the
// v2 infohash cut to 20 bytes). libtorrent asks for piece layers by BEP 52
// hash request, but it can also check a whole file against its pieces
// root, so finishing does not prove the answers: TestV2HashRequests does.
func TestShoalV2ToLibtorrent(t *testing.T) {
	for _, how := range []string{"torrent", "magnet"} {
		t.Run(how, func(t *testing.T) {
			c := folderOfFiles(t, "album")
			mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{PieceLength: 64 << 10, Format: storage.V2Only}, nil)
			if err != nil {
				t.Fatal(err)
			}
			torrent := filepath.Join(t.TempDir(), "v2.torrent")
			enginetest.WriteTorrent(t, mi, torrent)
			node := enginetest.Start(t, enginetest.Config(t))
			ih, err := node.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(c.root)})
			if err != nil {
				t.Fatal(err)
			}
			waitAll(t, node, ih, 60*time.Second)
			src := torrent
			if how == "magnet" {
				v2 := sha256.Sum256(mi.InfoBytes)
				src = "magnet:?xt=urn:btmh:1220" + hex.EncodeToString(v2[:])
			}
			dl := t.TempDir()
			lt, err := peerclients.StartLibtorrentLeech(t, src, dl, node.PeerAddr())
			need(t, err)
			start := time.Now()
			for !lt.Finished() {
				if lt.Exited() || time.Since(start) > 60*time.Second {
					t.Fatalf("libtorrent did not finish: %s", lt.Output(3000))
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("libtorrent finished %s from Shoal in %v", how, time.Since(start).Round(time.Millisecond))
			c.checkCopy(t, dl)
		})
	}
}

// TestLibtorrentV2MagnetToShoal has python3-libtorrent seed a v2-only
// torrent and a hybrid, and Shoal download each from a magnet link
// alone: btmh for the v2-only one, btih and btmh for the hybrid. For the
// v2-only torrent the info dictionary comes by BEP 9 and the piece layers
// by BEP 52 hash requests (checked against each file's pieces root), as
// the log line and the saved layers show; every byte is compared.
func TestLibtorrentV2MagnetToShoal(t *testing.T) {
	for _, kind := range []string{peerclients.LibtorrentV2, peerclients.LibtorrentHybrid} {
		t.Run(kind, func(t *testing.T) {
			c := folderOfFiles(t, "album")
			torrent := filepath.Join(t.TempDir(), "lt.torrent")
			need(t, peerclients.LibtorrentCreate(c.root, torrent, 64<<10, kind))
			seed, err := peerclients.StartLibtorrentSeed(t, torrent, filepath.Dir(c.root))
			need(t, err)
			magnet := v2Magnet(t, torrent, kind == peerclients.LibtorrentHybrid)
			cfg := enginetest.Config(t)
			node := enginetest.Start(t, cfg)
			dl := t.TempDir()
			ih, err := node.Download(context.Background(), engine.DownloadRequest{Source: magnet, Dir: dl, Peers: []string{seed.Addr()}})
			if err != nil {
				t.Fatalf("Shoal refused %s: %v", magnet, err)
			}
			waitMetadata(t, node, ih, 10*time.Second)
			waitAll(t, node, ih, 60*time.Second)
			c.checkCopy(t, dl)
			if kind == peerclients.LibtorrentV2 {
				waitLayersSaved(t, cfg.DataDir, ih)
			}
		})
	}
}

// waitMetadata waits for the info dictionary of a magnet link and logs
// how long it took; longer than limit fails. A fresh libtorrent seeder
// (encryption and incoming uTP off) resets MSE over TCP and in its first
// second plain TCP too, and is silent to uTP: the uTP attempt that
// followed waited 15 s, and the first metadata came after 15.1 s.
func waitMetadata(t *testing.T, n *enginetest.Node, ih engine.InfoHash, limit time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		if tr, ok := enginetest.Transfer(n.Snapshot(), ih); ok && tr.Size > 0 {
			t.Logf("metadata after %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > limit {
			t.Fatalf("no metadata within %v", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// v2Magnet is the magnet link of a .torrent: btmh only, or btih and btmh.
func v2Magnet(t *testing.T, torrent string, withV1 bool) string {
	t.Helper()
	b, err := os.ReadFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := torrentfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	v2 := sha256.Sum256(tf.InfoBytes)
	m := "magnet:?xt=urn:btmh:1220" + hex.EncodeToString(v2[:])
	if withV1 {
		v1 := sha1.Sum(tf.InfoBytes)
		m = "magnet:?xt=urn:btih:" + hex.EncodeToString(v1[:]) + "&xt=urn:btmh:1220" + hex.EncodeToString(v2[:])
	}
	return m + "&dn=album"
}

// waitLayersSaved waits until the engine kept the piece layers it fetched
// (DataDir/piece-layers/<infohash>), so a restart needs no peer for them.
func waitLayersSaved(t *testing.T, dataDir string, ih engine.InfoHash) {
	t.Helper()
	p := filepath.Join(dataDir, "piece-layers", hex.EncodeToString(ih[:]))
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if st, err := os.Stat(p); err == nil && st.Size() > 0 {
			return
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the fetched piece layers were not saved at %s", p)
		}
	}
}
