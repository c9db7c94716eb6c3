package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
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
