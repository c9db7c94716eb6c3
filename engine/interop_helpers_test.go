package engine_test

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// Helpers for the real-client interop tests: the clients themselves (run on
// 127.0.0.1 by internal/peerclients, see /work/shared/PEERS.md), test
// content, and torrent files.

// mktorrent makes a trackerless .torrent of src with mktorrent (skipping
// the test as need does when it is missing) and returns its path and
// infohash.
func mktorrent(t *testing.T, src string) (string, engine.InfoHash) {
	t.Helper()
	torrent := filepath.Join(t.TempDir(), filepath.Base(src)+".torrent")
	need(t, peerclients.CreateMktorrent(src, torrent))
	mi, err := metainfo.LoadFromFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	return torrent, engine.InfoHash(mi.HashInfoBytes())
}

// need skips the test when a client it needs is not installed, unless
// SHOAL_REQUIRE_PEERS=1 (CI), where it fails it; any other error fails it.
func need(t *testing.T, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, peerclients.ErrNotInstalled) && os.Getenv("SHOAL_REQUIRE_PEERS") != "1":
		t.Skipf("%v; set SHOAL_REQUIRE_PEERS=1 to fail instead", err)
	case errors.Is(err, peerclients.ErrNotInstalled):
		t.Fatalf("%v, and SHOAL_REQUIRE_PEERS=1", err)
	default:
		t.Fatal(err)
	}
}

// needBins checks that every named client binary is installed (see need).
func needBins(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		_, err := peerclients.Bin(name)
		need(t, err)
	}
}

// content is test data on disk: a single file or a folder of files.
type content struct {
	root string              // the shared path: the file, or the folder
	sums map[string][32]byte // SHA-256 by slash-separated path below root ("" for a file)
	size int64
}

// singleFile writes one random file of size bytes named name in a new folder.
func singleFile(t *testing.T, name string, size int) content {
	t.Helper()
	path := enginetest.RandomFile(t, t.TempDir(), name, size)
	return content{root: path, sums: map[string][32]byte{"": sha256File(t, path)}, size: int64(size)}
}

// folderOfFiles writes a folder name/ with three files in nested
// subfolders, sized so files straddle piece boundaries.
func folderOfFiles(t *testing.T, name string) content {
	t.Helper()
	root := filepath.Join(t.TempDir(), name)
	c := content{root: root, sums: map[string][32]byte{}}
	for rel, size := range map[string]int{
		"intro.txt":                 300<<10 + 17,
		"disc 1/track01.flac":       3<<20 + 4097,
		"disc 1/extras/booklet.pdf": 2<<20 + 12345,
	} {
		path := enginetest.RandomFile(t, root, filepath.FromSlash(rel), size)
		c.sums[rel] = sha256File(t, path)
		c.size += int64(size)
	}
	return c
}

// name is the torrent name (the base of the shared path).
func (c content) name() string { return filepath.Base(c.root) }

// checkCopy asserts that dir/<name> holds exactly the same bytes.
func (c content) checkCopy(t *testing.T, dir string) {
	t.Helper()
	for rel, want := range c.sums {
		path := filepath.Join(dir, c.name(), filepath.FromSlash(rel))
		if got := sha256File(t, path); got != want {
			t.Errorf("%s: SHA-256 %s, want %s", path, hex.EncodeToString(got[:]), hex.EncodeToString(want[:]))
		}
	}
}

// writeTorrent makes a .torrent of c with the given trackers and returns
// its path and infohash.
func writeTorrent(t *testing.T, c content, trackers ...string) (string, engine.InfoHash) {
	t.Helper()
	// v1, as the Shoal nodes of these tests share (sharesV1): Transmission
	// 3.00 cannot parse a hybrid and aria2 1.36 computes another infohash
	// for one.
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{Trackers: trackers, Format: storage.V1Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), c.name()+".torrent")
	enginetest.WriteTorrent(t, mi, path)
	return path, engine.InfoHash(mi.HashInfoBytes())
}

// maker makes a .torrent of content with the given trackers: Shoal's own
// storage.Create, or another client's tool.
type maker struct {
	name string
	make func(t *testing.T, c content, trackers ...string) (string, engine.InfoHash)
}

var (
	byShoal        = maker{"Shoal", writeTorrent}
	byTransmission = maker{"transmission-create", func(t *testing.T, c content, trackers ...string) (string, engine.InfoHash) {
		return theirTorrent(t, c, peerclients.CreateTransmission, trackers...)
	}}
	byMktorrent = maker{"mktorrent", func(t *testing.T, c content, trackers ...string) (string, engine.InfoHash) {
		return theirTorrent(t, c, peerclients.CreateMktorrent, trackers...)
	}}
)

// theirTorrent makes a .torrent of c with another client's tool and
// returns its path and infohash.
func theirTorrent(t *testing.T, c content, create func(src, out string, trackers ...string) error, trackers ...string) (string, engine.InfoHash) {
	t.Helper()
	path := filepath.Join(t.TempDir(), c.name()+".torrent")
	need(t, create(c.root, path, trackers...))
	mi, err := metainfo.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, engine.InfoHash(mi.HashInfoBytes())
}

// trackedTorrent makes a .torrent of c with m that announces to a fresh
// opentracker whitelisting it (the infohash does not depend on the
// announce URL, so a first torrent without it names the hash).
func trackedTorrent(t *testing.T, c content, m maker) (string, engine.InfoHash, *peerclients.Tracker) {
	t.Helper()
	_, ih := m.make(t, c)
	tracker, err := peerclients.StartOpentracker(t, ih)
	need(t, err)
	torrent, tih := m.make(t, c, tracker.AnnounceURL)
	if tih != ih {
		t.Fatalf("%s: infohash %s with a tracker, %s without", m.name, tih, ih)
	}
	return torrent, ih, tracker
}

// infoHashOf computes c's v1 infohash with default options, as Share
// does on a node that shares v1 (sharesV1).
func infoHashOf(t *testing.T, c content) engine.InfoHash {
	t.Helper()
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{Format: storage.V1Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return engine.InfoHash(mi.HashInfoBytes())
}

// waitShoalComplete waits until n holds all size bytes of ih, verified.
func waitShoalComplete(t *testing.T, n *enginetest.Node, ih engine.InfoHash, size int64, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	var last engine.TransferSnapshot
	deadline := time.Now().Add(timeout)
	for {
		tr, ok := enginetest.Transfer(n.Snapshot(), ih)
		last = tr
		if ok && tr.Size == size && tr.Have == size {
			t.Logf("Shoal completed %d bytes in %v", size, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Shoal did not complete %s within %v: state=%s have=%d/%d peers=%d err=%q details=%+v",
				ih, timeout, last.State, last.Have, last.Size, last.Peers, last.Err, last.PeerDetails)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startTransmission runs a fresh transmission-daemon on 127.0.0.1.
func startTransmission(t *testing.T) *peerclients.Transmission {
	t.Helper()
	tr, err := peerclients.StartTransmission(t)
	need(t, err)
	return tr
}

// addTorrent gives tr a .torrent whose content is (or will be) in dir.
func addTorrent(t *testing.T, tr *peerclients.Transmission, torrent, dir string) engine.InfoHash {
	t.Helper()
	ih, err := tr.Add(torrent, dir)
	need(t, err)
	return ih
}

// trSeed adds a torrent whose complete content is in dir and waits until
// Transmission has verified it and seeds.
func trSeed(t *testing.T, tr *peerclients.Transmission, torrent, dir string) engine.InfoHash {
	t.Helper()
	ih, err := tr.Seed(torrent, dir, 30*time.Second)
	need(t, err)
	return ih
}

// startAria2 runs aria2c on torrent with content in dir, as a seeder
// (forever) or a leecher (exits once complete).
func startAria2(t *testing.T, torrent, dir string, seed bool) *peerclients.Aria2 {
	t.Helper()
	a, err := peerclients.StartAria2(t, torrent, dir, seed)
	need(t, err)
	return a
}

// startQbittorrent runs qbittorrent-nox on torrent saving into dir, as a
// seeder of the content already there or a leecher.
func startQbittorrent(t *testing.T, torrent, dir string, seed bool) *peerclients.Qbittorrent {
	t.Helper()
	q, err := peerclients.StartQbittorrent(t, torrent, dir, seed)
	need(t, err)
	return q
}

// sharesV1 has n share v1 torrents, as the interop tests need:
// Transmission 3.00 and aria2 1.36 cannot fetch the hybrids Share makes
// by default (TestShareFormatReason).
func sharesV1(t *testing.T, n *enginetest.Node) { setShareFormat(t, n, engine.FormatV1) }

// setShareFormat sets what n's Share makes (Settings.ShareFormat).
func setShareFormat(t *testing.T, n *enginetest.Node, format engine.TorrentFormat) {
	t.Helper()
	s := n.Settings()
	s.ShareFormat = format
	need(t, n.SetSettings(s))
}
