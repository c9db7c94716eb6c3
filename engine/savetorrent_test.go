package engine_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/torrentfile"
)

// TestSaveTorrent: the .torrent saved for a shared item has the item's
// infohash, and another engine downloads the same bytes from it; a magnet
// link still without metadata and an unknown infohash are refused.
func TestSaveTorrent(t *testing.T) {
	a := enginetest.Start(t, enginetest.Config(t))
	bCfg := enginetest.Config(t)
	b := enginetest.Start(t, bCfg)
	src := enginetest.RandomFile(t, t.TempDir(), "Field Notes.mkv", 1<<20+77)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	save := filepath.Join(t.TempDir(), "notes.torrent")
	if err := a.SaveTorrent(ih, save); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(save)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := torrentfile.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if sha1.Sum(tf.InfoBytes) != ih {
		t.Fatalf("saved torrent's infohash %x, want %s", sha1.Sum(tf.InfoBytes), ih)
	}
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: save, Peers: []string{a.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "the download from the saved torrent", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(b.Snapshot(), ih)
		return ok && tr.Done()
	})
	want, _ := os.ReadFile(src)
	got, err := os.ReadFile(filepath.Join(bCfg.DataDir, "downloads", filepath.Base(src)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("downloaded file differs or is missing: %v", err)
	}

	// A magnet with no peers has no metadata yet: nothing is written.
	var lone engine.InfoHash
	lone[0] = 0x5a
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: lone.String()}); err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(t.TempDir(), "none.torrent")
	if err := b.SaveTorrent(lone, none); !errors.Is(err, engine.ErrNoMetadata) {
		t.Fatalf("save without metadata: %v, want ErrNoMetadata", err)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Fatalf("a file was written without metadata: %v", err)
	}
	lone[0] = 0x5b
	if err := b.SaveTorrent(lone, none); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("save of an unknown infohash: %v, want ErrNotFound", err)
	}
}

// TestSaveTorrentHybridLayers: a hybrid torrent made and seeded here
// (its swarm runs as v1) saves as a .torrent with the same piece layers
// as the file it was made as, before and after a restart, so v2 clients
// get a whole torrent.
func TestSaveTorrentHybridLayers(t *testing.T) {
	cfg := enginetest.Config(t)
	a := enginetest.Start(t, cfg)
	root := filepath.Join(t.TempDir(), "Tapes")
	enginetest.RandomFile(t, root, "side-a.flac", 300<<10+5)
	enginetest.RandomFile(t, root, "side-b.flac", 170<<10)
	made := filepath.Join(t.TempDir(), "tapes.torrent")
	c, err := a.CreateTorrent(context.Background(), engine.CreateRequest{Path: root, Save: made,
		PieceLength: 16 << 10, Format: engine.FormatHybrid, Seed: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := readTorrent(t, made).PieceLayers
	if len(want) != 2 {
		t.Fatalf("the hybrid made holds %d piece layers, want 2", len(want))
	}
	check := func(when string, n *enginetest.Node) {
		t.Helper()
		save := filepath.Join(t.TempDir(), "saved.torrent")
		if err := n.SaveTorrent(c.InfoHash, save); err != nil {
			t.Fatal(err)
		}
		tf := readTorrent(t, save)
		if sha1.Sum(tf.InfoBytes) != c.InfoHash || !maps.Equal(tf.PieceLayers, want) {
			t.Fatalf("%s: saved infohash %x with %d piece layers (same as made: %v), want %s with the 2 made",
				when, sha1.Sum(tf.InfoBytes), len(tf.PieceLayers), maps.Equal(tf.PieceLayers, want), c.InfoHash)
		}
	}
	check("seeding", a)
	a.Stop()
	check("after a restart", enginetest.Start(t, cfg))

}

// readTorrent parses the .torrent file at path.
func readTorrent(t *testing.T, path string) *torrentfile.File {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := torrentfile.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tf
}
