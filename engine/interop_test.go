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

// Interop tests against real BitTorrent clients (Transmission 3, aria2 1.36)
// and a real tracker (opentracker), all on 127.0.0.1 with DHT, PEX, LSD,
// UPnP/NAT-PMP and uTP off. A missing client skips its test unless
// SHOAL_REQUIRE_PEERS=1. Transmission never dials loopback peers, so Shoal
// dials it in both directions. Transmission decides whom to unchoke and what
// it is interested in only in its 10-second rechoke round, so each transfer
// with it takes about 16 s however small the content; aria2 takes 1-3 s.

// shoalTimeout bounds one transfer between Shoal and a real client.
const shoalTimeout = 45 * time.Second

// contentCase makes the data a test moves.
type contentCase struct {
	name string
	make func(t *testing.T) content
}

var (
	oneFile = contentCase{"single file", func(t *testing.T) content {
		return singleFile(t, "Nebula Survey 2160p.mkv", 8<<20+777)
	}}
	folder = contentCase{"folder", func(t *testing.T) content {
		return folderOfFiles(t, "Field Recordings")
	}}
)

// TestInteropTransmissionSeedsShoal: Transmission seeds a Shoal-made
// .torrent; Shoal downloads it by .torrent, dialing Transmission.
func TestInteropTransmissionSeedsShoal(t *testing.T) {
	t.Parallel()
	for _, cc := range []contentCase{oneFile, folder} {
		t.Run(cc.name, func(t *testing.T) {
			t.Parallel()
			tr := startTransmission(t)
			c := cc.make(t)
			torrent, ih := writeTorrent(t, c)
			if got := trSeed(t, tr, torrent, filepath.Dir(c.root)); got != ih {
				t.Fatalf("transmission reports infohash %s, Shoal's torrent has %s", got, ih)
			}
			n := enginetest.Start(t, enginetest.Config(t))
			dir := t.TempDir()
			got, err := n.Download(context.Background(), engine.DownloadRequest{
				Source: torrent, Peers: []string{tr.PeerAddr}, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if got != ih {
				t.Fatalf("Download returned %s, want %s", got, ih)
			}
			waitShoalComplete(t, n, ih, c.size, shoalTimeout)
			c.checkCopy(t, dir)
		})
	}
}

// TestInteropShoalSeedsTransmission: Shoal shares a file; Transmission gets
// a .torrent of the same file and downloads it from Shoal, which dials it.
func TestInteropShoalSeedsTransmission(t *testing.T) {
	t.Parallel()
	tr := startTransmission(t)
	n := enginetest.Start(t, enginetest.Config(t))
	c := oneFile.make(t)
	ih, err := n.ShareSync(context.Background(), c.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Share and Create both build the info with storage.CreateInfo and
	// default options, so a .torrent made apart names the same swarm.
	torrent, tih := writeTorrent(t, c)
	if tih != ih {
		t.Fatalf("storage.Create infohash %s differs from ShareSync's %s", tih, ih)
	}
	dir := t.TempDir()
	if got := addTorrent(t, tr, torrent, dir); got != ih {
		t.Fatalf("transmission reports infohash %s, want %s", got, ih)
	}
	need(t, tr.WaitFor(ih, "to start downloading", 15*time.Second, func(s peerclients.TransmissionTorrent) bool {
		return s.Status == peerclients.TransmissionDownloading
	}))
	start := time.Now()
	if err := n.AddPeers(ih, tr.PeerAddr); err != nil {
		t.Fatal(err)
	}
	need(t, tr.WaitFor(ih, "to complete from Shoal", shoalTimeout, func(s peerclients.TransmissionTorrent) bool {
		return s.PercentDone == 1 && s.LeftUntilDone == 0 && s.HaveValid == c.size
	}))
	t.Logf("Transmission completed %d bytes in %v", c.size, time.Since(start).Round(time.Millisecond))
	tr.Proc.Stop(15 * time.Second) // a clean exit flushes Transmission's write cache
	c.checkCopy(t, dir)
	enginetest.WaitFor(t, "Shoal counts the upload", 10*time.Second, func() bool {
		return n.Snapshot().Ratio.SessionUploaded >= c.size
	})
}

// TestInteropAria2 moves data both ways between Shoal and aria2, which
// finds peers only through opentracker.
func TestInteropAria2(t *testing.T) {
	t.Parallel()
	needBins(t, "aria2c", "opentracker")
	t.Run("aria2 seeds, Shoal finds it via the tracker", func(t *testing.T) {
		t.Parallel()
		c := oneFile.make(t)
		announce := startOpentracker(t, infoHashOf(t, c))
		torrent, ih := writeTorrent(t, c, announce)
		startAria2(t, torrent, filepath.Dir(c.root), true)
		n := enginetest.Start(t, enginetest.Config(t))
		dir := t.TempDir()
		// No Peers and no DHT nodes: the tracker is the only way to aria2.
		if _, err := n.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: dir}); err != nil {
			t.Fatal(err)
		}
		waitShoalComplete(t, n, ih, c.size, shoalTimeout)
		c.checkCopy(t, dir)
	})
	for _, cc := range []contentCase{oneFile, folder} {
		t.Run("Shoal seeds aria2, "+cc.name, func(t *testing.T) {
			t.Parallel()
			shoalSeedsAria2(t, cc.make(t))
		})
	}
}

// shoalSeedsAria2: Shoal shares c (no tracker), aria2 leeches a .torrent
// that names opentracker, and Shoal dials aria2, which accepts incoming
// connections. (Shoal cannot announce the share: Share knows no trackers,
// and a Download of the .torrent into the folder holding the data would
// fetch it again rather than check it.)
func shoalSeedsAria2(t *testing.T, c content) {
	n := enginetest.Start(t, enginetest.Config(t))
	ih, err := n.ShareSync(context.Background(), c.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	announce := startOpentracker(t, ih)
	torrent, tih := writeTorrent(t, c, announce)
	if tih != ih {
		t.Fatalf("storage.Create infohash %s differs from ShareSync's %s", tih, ih)
	}
	dir := t.TempDir()
	aria := startAria2(t, torrent, dir, false)
	start := time.Now()
	if err := n.AddPeers(ih, aria.PeerAddr); err != nil {
		t.Fatal(err)
	}
	need(t, aria.Proc.Wait(shoalTimeout))
	t.Logf("aria2 completed %d bytes in %v", c.size, time.Since(start).Round(time.Millisecond))
	c.checkCopy(t, dir)
}

// TestInteropMagnet downloads from a real client with nothing but a
// magnet link holding the infohash: the metadata comes over BEP 9.
func TestInteropMagnet(t *testing.T) {
	t.Parallel()
	cases := []struct {
		client string
		cc     contentCase
		seeder func(t *testing.T, c content, torrent string) string // returns its peer address
	}{
		{"transmission", oneFile, func(t *testing.T, c content, torrent string) string {
			tr := startTransmission(t)
			trSeed(t, tr, torrent, filepath.Dir(c.root))
			return tr.PeerAddr
		}},
		{"aria2", folder, func(t *testing.T, c content, torrent string) string {
			return startAria2(t, torrent, filepath.Dir(c.root), true).PeerAddr
		}},
	}
	for _, tc := range cases {
		t.Run(tc.client+", "+tc.cc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.cc.make(t)
			torrent, ih := writeTorrent(t, c)
			addr := tc.seeder(t, c, torrent)
			n := enginetest.Start(t, enginetest.Config(t))
			dir := t.TempDir()
			magnet := "magnet:?xt=urn:btih:" + ih.String()
			if _, err := n.Download(context.Background(), engine.DownloadRequest{
				Source: magnet, Peers: []string{addr}, Dir: dir}); err != nil {
				t.Fatal(err)
			}
			waitShoalComplete(t, n, ih, c.size, shoalTimeout)
			if s, _ := enginetest.Transfer(n.Snapshot(), ih); s.Name != c.name() {
				t.Errorf("transfer name %q after metadata, want %q", s.Name, c.name())
			}
			c.checkCopy(t, dir)
		})
	}
}
