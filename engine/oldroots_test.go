package engine_test

import (
	"context"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/engine/state"
	"github.com/shoalp2p/shoal/engine/storage"
)

// fileRoot is a file's BEP 52 pieces root, from a hybrid torrent of it.
func fileRoot(t *testing.T, path string) [32]byte {
	t.Helper()
	info, err := storage.CreateInfo(context.Background(), path, storage.CreateOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for fi := range info.UpvertedFilesIter() {
		return fi.PiecesRoot.Value
	}
	t.Fatal("no file")
	return [32]byte{}
}

// localRootHit reports whether n's search for root finds ih in n's own
// library.
func localRootHit(t *testing.T, n *enginetest.Node, root [32]byte, ih engine.InfoHash) bool {
	t.Helper()
	run, err := n.StartSearch(context.Background(), hex.EncodeToString(root[:]))
	if err != nil { // no hit here, and no supernode to ask
		return false
	}
	found := false
	for h := range run.Hits {
		found = found || (h.InfoHash == ih && h.Local && slices.Contains(h.Roots, root))
	}
	return found
}

// TestOldItemsGetRoots: items without pieces roots get them in the
// background, after Config.RootsDelay, so that a search by a file's root
// finds them: a v1 download once it has finished, and a library item
// shared before Shoal kept roots (its row's roots cleared, as migration
// 0006 left such items). The roots are recorded: after a restart with the
// background work off, both are still found, and the database holds them.
func TestOldItemsGetRoots(t *testing.T) {
	ctx := context.Background()
	seedCfg := enginetest.Config(t)
	seedCfg.RootsDelay = -1
	seedCfg.ShareFormat = new(engine.FormatV1) // a v1 item: a hybrid's info names its roots
	seed := enginetest.Start(t, seedCfg)
	src := enginetest.RandomFile(t, t.TempDir(), "quokka.bin", 1<<20+777)
	ih, err := seed.ShareSync(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := fileRoot(t, src)

	// A v1 download gets its roots once finished.
	leechCfg := enginetest.Config(t)
	leechCfg.RootsDelay = time.Millisecond
	leech := enginetest.Start(t, leechCfg)
	dl := t.TempDir()
	if _, err := leech.Download(ctx, engine.DownloadRequest{Source: engine.Magnet(ih, ""), Dir: dl,
		Peers: []string{seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, leech, ih, filepath.Join(dl, "quokka.bin"), src)
	enginetest.WaitFor(t, "the download found by its file's root", 60*time.Second, func() bool {
		return localRootHit(t, leech, root, ih)
	})

	// A library item without roots gets them at the next start.
	seed.Stop()
	clearLibraryRoots(t, seedCfg.DataDir, ih)
	seed = enginetest.Start(t, seedCfg) // RootsDelay -1: nothing is worked out
	if localRootHit(t, seed, root, ih) {
		t.Fatal("the item without roots was found by its root before they were worked out")
	}
	seed.Stop()
	seedCfg.RootsDelay = time.Millisecond
	seed = enginetest.Start(t, seedCfg)
	enginetest.WaitFor(t, "the old library item found by its file's root", 60*time.Second, func() bool {
		return localRootHit(t, seed, root, ih)
	})

	// Both keep them across a restart, without working them out again.
	for _, n := range []*enginetest.Node{seed, leech} {
		n.Stop()
		cfg := n.Config
		cfg.RootsDelay = -1
		again := enginetest.Start(t, cfg)
		if !localRootHit(t, again, root, ih) {
			t.Errorf("%s: not found by its root after a restart", cfg.DataDir)
		}
	}
}

// clearLibraryRoots makes ih's library row one from before migration 0006.
func clearLibraryRoots(t *testing.T, dataDir string, ih engine.InfoHash) {
	t.Helper()
	db, err := state.Open(filepath.Join(dataDir, "shoal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	row, err := db.LibraryItem(context.Background(), ih)
	if err != nil || len(row.Roots) == 0 {
		t.Fatalf("library row: roots %x, %v; want the share's", row.Roots, err)
	}
	row.Roots = nil
	if err := db.PutLibrary(context.Background(), row); err != nil {
		t.Fatal(err)
	}
}

// TestHybridFromMagnetGetsLayers: a hybrid downloaded from a v1 magnet
// link (its swarm runs as v1: no peer sends piece layers) has them in its
// .torrent file once finished, worked out from its files, the same as the
// seeder's .torrent.
func TestHybridFromMagnetGetsLayers(t *testing.T) {
	seed := enginetest.Start(t, enginetest.Config(t))
	dir := filepath.Join(t.TempDir(), "Bilby Hybrid")
	enginetest.RandomFile(t, dir, "one.bin", 200<<10+9)
	enginetest.RandomFile(t, dir, "two.bin", 90<<10)
	made := createSeeded(t, seed, dir, engine.FormatHybrid)
	want := torrentLayers(t, mustRead(t, made.Torrent))
	if len(want) != 2 {
		t.Fatalf("seeder's .torrent has %d piece layers, want 2", len(want))
	}
	cfg := enginetest.Config(t)
	cfg.RootsDelay = time.Millisecond
	leech := enginetest.Start(t, cfg)
	dl := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(made.InfoHash, ""),
		Dir: dl, Peers: []string{seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, leech, made.InfoHash, filepath.Join(dl, "Bilby Hybrid", "one.bin"), filepath.Join(dir, "one.bin"))
	enginetest.WaitFor(t, "the download's .torrent with piece layers", 60*time.Second, func() bool {
		b, err := leech.TorrentFile(made.InfoHash)
		return err == nil && maps.Equal(torrentLayers(t, b), want)
	})
}

// torrentLayers returns a .torrent file's "piece layers".
func torrentLayers(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var mi struct {
		Layers map[string]string `bencode:"piece layers"`
	}
	if err := bencode.Unmarshal(b, &mi); err != nil {
		t.Fatal(err)
	}
	return mi.Layers
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFinishedRootsReachSearch: the roots a finished v1 download gets in
// the background reach the supernode in its share list, so another
// leaf's search for a file's root finds the download there.
func TestFinishedRootsReachSearch(t *testing.T) {
	_, b := enginetest.StartSearchNet(t)
	cfg := enginetest.Config(t, b.Config.Bootstrap...)
	cfg.Leaf, cfg.RootsDelay = true, time.Millisecond
	leech := enginetest.Start(t, cfg)
	seedCfg := enginetest.Config(t) // off the search network
	seedCfg.RootsDelay = -1
	seed := enginetest.Start(t, seedCfg)
	src := enginetest.RandomFile(t, t.TempDir(), "echidna.bin", 700<<10+1)
	ih, err := seed.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := fileRoot(t, src)
	dl := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(ih, ""), Dir: dl,
		Peers: []string{seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, leech, ih, filepath.Join(dl, "echidna.bin"), src)
	enginetest.WaitFor(t, "another leaf's search for the root finding the download", 90*time.Second, func() bool {
		defer time.Sleep(time.Second / overlay.DefaultQueryRate)
		h, ok := searchHits(t, b, hex.EncodeToString(root[:]))[ih]
		return ok && !h.Local && slices.Contains(h.Roots, root)
	})
}
