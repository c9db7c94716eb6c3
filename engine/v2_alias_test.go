package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestHybridDHTBothNames: a hybrid torrent is one swarm under two names in
// the DHT, as libtorrent announces it. A Shoal seeder that has the hybrid
// by its .torrent (keyed by the v1 infohash) announces under the v2
// infohash cut to 20 bytes too, so a leecher with only a btmh magnet link
// (no peers, no tracker) finds it through a loopback DHT, is answered
// under the name it dialed, and gets every byte. Then, with the seeder
// stopped, a third node with only a btih magnet link finds that leecher
// (which keys the torrent by its v2 name) under the v1 infohash.
func TestHybridDHTBothNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	boot := enginetest.Start(t, enginetest.Config(t))
	c := folderOfFiles(t, "album")
	mi, torrent, v1 := v2Torrent(t, c, storage.Hybrid)
	sum := sha256.Sum256(mi.InfoBytes)
	v2 := engine.InfoHash(sum[:20])
	if v1 == v2 || v1 != engine.InfoHash(mi.HashInfoBytes()) {
		t.Fatalf("hybrid keyed by %s, want its v1 infohash %s", v1, engine.InfoHash(mi.HashInfoBytes()))
	}

	seed := enginetest.Start(t, enginetest.Config(t, boot.DHTAddr()))
	if _, err := seed.Download(ctx, engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(c.root)}); err != nil {
		t.Fatal(err)
	}
	waitAll(t, seed, v1, 60*time.Second)

	leech := enginetest.Start(t, enginetest.Config(t, boot.DHTAddr()))
	dir := t.TempDir()
	got, err := leech.Download(ctx, engine.DownloadRequest{Source: "magnet:?xt=urn:btmh:1220" + hex.EncodeToString(sum[:]), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got != v2 {
		t.Fatalf("btmh magnet keyed by %s, want the v2 infohash cut to 20 bytes %s", got, v2)
	}
	waitAll(t, leech, v2, 90*time.Second)
	c.checkCopy(t, dir)
	seed.Stop()

	third := enginetest.Start(t, enginetest.Config(t, boot.DHTAddr()))
	dir3 := t.TempDir()
	if _, err := third.Download(ctx, engine.DownloadRequest{Source: "magnet:?xt=urn:btih:" + v1.String(), Dir: dir3}); err != nil {
		t.Fatal(err)
	}
	waitAll(t, third, v1, 90*time.Second)
	c.checkCopy(t, dir3)
}

// TestHybridTrackerBothNames: a Shoal seeder of a hybrid .torrent that
// names opentracker announces under both infohashes, as libtorrent does,
// so a leecher with only a btmh magnet link and the tracker (tr=) gets
// every byte; opentracker counts the seeder under each name.
func TestHybridTrackerBothNames(t *testing.T) {
	t.Parallel()
	needBins(t, "opentracker")
	ctx := context.Background()
	c := folderOfFiles(t, "album")
	opts := storage.CreateOptions{PieceLength: 64 << 10, Format: storage.Hybrid}
	plain, err := storage.Create(ctx, c.root, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(plain.InfoBytes)
	v1, v2 := engine.InfoHash(plain.HashInfoBytes()), engine.InfoHash(sum[:20])
	tracker, err := peerclients.StartOpentracker(t, v1, v2)
	need(t, err)
	opts.Trackers = []string{tracker.AnnounceURL}
	mi, err := storage.Create(ctx, c.root, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "hybrid.torrent")
	enginetest.WriteTorrent(t, mi, torrent)

	seed := enginetest.Start(t, enginetest.Config(t))
	if _, err := seed.Download(ctx, engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(c.root)}); err != nil {
		t.Fatal(err)
	}
	waitAll(t, seed, v1, 60*time.Second)
	for _, ih := range []engine.InfoHash{v1, v2} {
		need(t, peerclients.PollFor(60*time.Second, "opentracker lists the seeder under "+ih.String(), func() (bool, error) {
			seeders, _, err := tracker.Scrape(ih)
			return seeders > 0, err
		}))
	}

	leech := enginetest.Start(t, enginetest.Config(t))
	dir := t.TempDir()
	magnet := "magnet:?xt=urn:btmh:1220" + hex.EncodeToString(sum[:]) + "&tr=" + url.QueryEscape(tracker.AnnounceURL)
	if _, err := leech.Download(ctx, engine.DownloadRequest{Source: magnet, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	waitAll(t, leech, v2, 90*time.Second)
	c.checkCopy(t, dir)
}
