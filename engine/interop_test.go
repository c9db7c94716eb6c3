package engine_test

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// Interop tests against real BitTorrent clients (Transmission 3, aria2 1.36,
// qBittorrent-nox 4.5) and a real tracker (opentracker), all on 127.0.0.1
// with DHT, PEX, LSD, UPnP/NAT-PMP and uTP off. A missing client skips its
// test unless SHOAL_REQUIRE_PEERS=1 (make test), which fails it. The matrix:
// each client seeds Shoal and leeches from Shoal, single file and folder;
// torrents made by Shoal and by the other side's tools (transmission-create,
// mktorrent); magnets with the infohash only plus Peers, with tr= and with
// x.pe=. Every copy is checked by SHA-256 against the source.
//
// Transmission never dials loopback peers, so Shoal dials it in both
// directions; it decides whom to unchoke only in its 10-second rechoke
// round, so each transfer with it takes about 16 s however small the
// content. aria2 and qBittorrent take 1-3 s.

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
	bothContents = []contentCase{oneFile, folder}
)

// TestInteropTransmissionSeedsShoal: Transmission seeds a .torrent made by
// Shoal or by transmission-create; Shoal downloads it, dialing Transmission.
func TestInteropTransmissionSeedsShoal(t *testing.T) {
	t.Parallel()
	for _, m := range []maker{byShoal, byTransmission} {
		for _, cc := range bothContents {
			t.Run(cc.name+", made by "+m.name, func(t *testing.T) {
				t.Parallel()
				c := cc.make(t)
				torrent, ih := m.make(t, c)
				tr := startTransmission(t)
				if got := trSeed(t, tr, torrent, filepath.Dir(c.root)); got != ih {
					t.Fatalf("transmission reports infohash %s, the torrent has %s", got, ih)
				}
				shoalFetches(t, c, ih, torrent, tr.PeerAddr)
			})
		}
	}
}

// TestInteropShoalSeedsTransmission: Shoal shares the content; Transmission
// gets a .torrent of it and downloads it from Shoal, which dials it.
func TestInteropShoalSeedsTransmission(t *testing.T) {
	t.Parallel()
	for _, cc := range bothContents {
		t.Run(cc.name, func(t *testing.T) {
			t.Parallel()
			c := cc.make(t)
			n, ih, torrent := shoalShares(t, c)
			tr := startTransmission(t)
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
		})
	}
}

// TestInteropAria2 moves data both ways between Shoal and aria2, which
// finds peers only through opentracker.
func TestInteropAria2(t *testing.T) {
	t.Parallel()
	needBins(t, "aria2c", "opentracker")
	for _, tc := range []struct {
		cc contentCase
		m  maker
	}{{oneFile, byShoal}, {oneFile, byMktorrent}, {folder, byMktorrent}} {
		t.Run("aria2 seeds Shoal via the tracker, "+tc.cc.name+", made by "+tc.m.name, func(t *testing.T) {
			t.Parallel()
			c := tc.cc.make(t)
			torrent, ih, tracker := trackedTorrent(t, c, tc.m)
			_, err := peerclients.StartAria2Seeding(t, torrent, filepath.Dir(c.root), tracker, ih)
			need(t, err)
			// No Peers and no DHT nodes: the tracker is the only way to aria2.
			shoalFetches(t, c, ih, torrent)
		})
	}
	for _, cc := range bothContents {
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
	n, ih, _ := shoalShares(t, c)
	torrent, tih, _ := trackedTorrent(t, c, byShoal)
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

// TestInteropQbittorrent moves data both ways between Shoal and
// qBittorrent-nox (libtorrent 2.0), Shoal dialing it.
func TestInteropQbittorrent(t *testing.T) {
	t.Parallel()
	needBins(t, "qbittorrent-nox")
	for _, cc := range bothContents {
		t.Run("qBittorrent seeds Shoal, "+cc.name, func(t *testing.T) {
			t.Parallel()
			c := cc.make(t)
			torrent, ih := writeTorrent(t, c)
			q := startQbittorrent(t, torrent, filepath.Dir(c.root), true)
			need(t, peerclients.PollFor(30*time.Second, "qbittorrent seeds", q.Done))
			shoalFetches(t, c, ih, torrent, q.PeerAddr)
		})
		t.Run("Shoal seeds qBittorrent, "+cc.name, func(t *testing.T) {
			t.Parallel()
			c := cc.make(t)
			n, ih, torrent := shoalShares(t, c)
			dir := t.TempDir()
			q := startQbittorrent(t, torrent, dir, false)
			need(t, peerclients.PollFor(30*time.Second, "qbittorrent loads the torrent", q.Loaded))
			start := time.Now()
			if err := n.AddPeers(ih, q.PeerAddr); err != nil {
				t.Fatal(err)
			}
			need(t, peerclients.PollFor(shoalTimeout, "qbittorrent completes from Shoal", q.Done))
			t.Logf("qBittorrent completed %d bytes in %v", c.size, time.Since(start).Round(time.Millisecond))
			q.Proc.Stop(15 * time.Second) // flush its write cache
			c.checkCopy(t, dir)
		})
	}
}

// TestInteropMagnet downloads from a real client with nothing but a
// magnet link: the metadata comes over BEP 9, the peer from the request's
// Peers, the magnet's x.pe= (explicit peer) or its tr= (tracker).
func TestInteropMagnet(t *testing.T) {
	t.Parallel()
	// Each seeder returns the magnet's extra parameters and the request's Peers.
	type seeder func(t *testing.T, c content) (params url.Values, peers []string)
	cases := []struct {
		name string
		cc   contentCase
		seed seeder
	}{
		{"transmission, x.pe=", oneFile, func(t *testing.T, c content) (url.Values, []string) {
			torrent, _ := writeTorrent(t, c)
			tr := startTransmission(t)
			trSeed(t, tr, torrent, filepath.Dir(c.root))
			return url.Values{"x.pe": {tr.PeerAddr}}, nil
		}},
		{"aria2, Peers", folder, func(t *testing.T, c content) (url.Values, []string) {
			torrent, _ := writeTorrent(t, c)
			return nil, []string{startAria2(t, torrent, filepath.Dir(c.root), true).PeerAddr}
		}},
		{"aria2, tr=", oneFile, func(t *testing.T, c content) (url.Values, []string) {
			torrent, ih, tracker := trackedTorrent(t, c, byShoal)
			_, err := peerclients.StartAria2Seeding(t, torrent, filepath.Dir(c.root), tracker, ih)
			need(t, err)
			return url.Values{"tr": {tracker.AnnounceURL}}, nil
		}},
		{"qbittorrent, x.pe=", oneFile, func(t *testing.T, c content) (url.Values, []string) {
			torrent, _ := writeTorrent(t, c)
			q := startQbittorrent(t, torrent, filepath.Dir(c.root), true)
			need(t, peerclients.PollFor(30*time.Second, "qbittorrent seeds", q.Done))
			return url.Values{"x.pe": {q.PeerAddr}}, nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+", "+tc.cc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.cc.make(t)
			params, peers := tc.seed(t, c)
			ih := infoHashOf(t, c)
			magnet := "magnet:?xt=urn:btih:" + ih.String()
			if len(params) > 0 {
				magnet += "&" + params.Encode()
			}
			n := shoalFetches(t, c, ih, magnet, peers...)
			if s, _ := enginetest.Transfer(n.Snapshot(), ih); s.Name != c.name() {
				t.Errorf("transfer name %q after metadata, want %q", s.Name, c.name())
			}
		})
	}
}

// shoalFetches starts a Shoal node that downloads src (a .torrent or a
// magnet link) with the given extra peers into a new folder, waits until it
// holds all of c verified, checks every file, and returns the node.
func shoalFetches(t *testing.T, c content, ih engine.InfoHash, src string, peers ...string) *enginetest.Node {
	t.Helper()
	n := enginetest.Start(t, enginetest.Config(t))
	dir := t.TempDir()
	got, err := n.Download(context.Background(), engine.DownloadRequest{Source: src, Peers: peers, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got != ih {
		t.Fatalf("Download returned %s, want %s", got, ih)
	}
	waitShoalComplete(t, n, ih, c.size, shoalTimeout)
	c.checkCopy(t, dir)
	return n
}

// shoalShares starts a Shoal node sharing c and returns it, the infohash
// and a .torrent of the same content (no tracker) made apart: Share and
// storage.Create build the info the same way, so both name one swarm.
func shoalShares(t *testing.T, c content) (*enginetest.Node, engine.InfoHash, string) {
	t.Helper()
	n := enginetest.Start(t, enginetest.Config(t))
	sharesV1(t, n)
	ih, err := n.ShareSync(context.Background(), c.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent, tih := writeTorrent(t, c)
	if tih != ih {
		t.Fatalf("storage.Create infohash %s differs from ShareSync's %s", tih, ih)
	}
	return n, ih, torrent
}
