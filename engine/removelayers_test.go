package engine_test

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
)

// TestRemoveDropsPieceLayers: removing a v2-only download with its files,
// or a hybrid torrent made and seeded here (its files kept), deletes the
// piece-layer file the engine kept for it in DataDir/piece-layers
// (nothing reads it once the transfer is gone); another transfer's stays.
func TestRemoveDropsPieceLayers(t *testing.T) {
	cfg := enginetest.Config(t)
	a := enginetest.Start(t, cfg)
	layers := func(ih engine.InfoHash, suffix string) string {
		return filepath.Join(cfg.DataDir, "piece-layers", hex.EncodeToString(ih[:])+suffix)
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	// A v2-only torrent, downloaded into the folder that already holds its
	// data: it seeds at once.
	c := singleFile(t, "reel.bin", 40*(16<<10)+123)
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{PieceLength: 16 << 10, Format: storage.V2Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "v2.torrent")
	enginetest.WriteTorrent(t, mi, torrent)
	v2, err := a.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(c.root)})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, a, v2, 60*time.Second)

	// A hybrid made and seeded here.
	root := filepath.Join(t.TempDir(), "Tapes")
	enginetest.RandomFile(t, root, "side-a.flac", 300<<10+5)
	enginetest.RandomFile(t, root, "side-b.flac", 170<<10)
	made, err := a.CreateTorrent(context.Background(), engine.CreateRequest{Path: root, Save: filepath.Join(t.TempDir(), "tapes.torrent"),
		PieceLength: 16 << 10, Format: engine.FormatHybrid, Seed: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !exists(layers(v2, "")) || !exists(layers(made.InfoHash, ".hybrid")) {
		t.Fatalf("piece-layer files before removal: v2 %v, hybrid %v; want both", exists(layers(v2, "")), exists(layers(made.InfoHash, ".hybrid")))
	}

	if err := a.Remove(v2, true); err != nil {
		t.Fatal(err)
	}
	if exists(layers(v2, "")) {
		t.Error("the v2 download's piece layers outlived its removal")
	}
	if exists(c.root) {
		t.Error("the v2 download's file outlived its removal with its files")
	}
	if !exists(layers(made.InfoHash, ".hybrid")) {
		t.Error("removing one transfer deleted another's piece layers")
	}
	if err := a.Remove(made.InfoHash, false); err != nil {
		t.Fatal(err)
	}
	if exists(layers(made.InfoHash, ".hybrid")) {
		t.Error("the hybrid's piece layers outlived its removal")
	}
	if !exists(filepath.Join(root, "side-a.flac")) {
		t.Error("removing the hybrid without its files deleted them")
	}
}
