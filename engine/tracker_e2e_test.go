package engine_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestTrackerLifecycle runs Shoal against two real opentrackers, one per
// tier of the torrent's announce-list: HTTP in the first, UDP in the
// second. aria2 seeds through the first. Shoal must announce to both tiers
// ("started"), download, tell both it completed (their scrapes count one
// download and list Shoal as a seed), leave their lists when paused and
// come back when resumed, show the swarm in its snapshot, and on a clean
// exit tell both it stopped (Shoal leaves their peer lists).
func TestTrackerLifecycle(t *testing.T) {
	t.Parallel()
	needBins(t, "aria2c", "opentracker")
	c := singleFile(t, "Tide Tables 2027.pdf", 3<<20+123)
	ih := infoHashOf(t, c)
	trA, err := peerclients.StartOpentracker(t, ih)
	need(t, err)
	trB, err := peerclients.StartOpentracker(t, ih)
	need(t, err)
	torrent := tieredTorrent(t, c, ih, trA.AnnounceURL, trB.UDPURL)
	_, err = peerclients.StartAria2Seeding(t, torrent, filepath.Dir(c.root), trA, ih)
	need(t, err)

	n := enginetest.Start(t, enginetest.Config(t))
	port := shoalPort(t, n)
	if _, err := n.Download(t.Context(), engine.DownloadRequest{Source: torrent}); err != nil {
		t.Fatal(err)
	}
	waitShoalComplete(t, n, ih, c.size, shoalTimeout)
	c.checkCopy(t, filepath.Join(n.Config.DataDir, "downloads"))

	// After completion: A knows aria2 and Shoal as seeds, B Shoal alone;
	// each counts Shoal's one completed download.
	waitCounts(t, trA, ih, "A after completion", peerclients.Counts{Seeders: 2, Downloaded: 1})
	waitCounts(t, trB, ih, "B after completion", peerclients.Counts{Seeders: 1, Downloaded: 1})
	for name, tr := range map[string]*peerclients.Tracker{"A": trA, "B": trB} {
		if ports := peerPorts(t, tr, ih); !slices.Contains(ports, port) {
			t.Errorf("tracker %s lists ports %v, not Shoal's %d", name, ports, port)
		}
	}
	// Pause leaves the lists; resume comes back, with no second completed.
	if err := n.Pause(ih); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, trA, ih, "A with Shoal paused", peerclients.Counts{Seeders: 1, Downloaded: 1})
	waitCounts(t, trB, ih, "B with Shoal paused", peerclients.Counts{Downloaded: 1})
	if err := n.Resume(ih); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, trA, ih, "A with Shoal resumed", peerclients.Counts{Seeders: 2, Downloaded: 1})
	waitCounts(t, trB, ih, "B with Shoal resumed", peerclients.Counts{Seeders: 1, Downloaded: 1})
	enginetest.WaitFor(t, "the snapshot to show the swarm", 10*time.Second, func() bool {
		ts, _ := enginetest.Transfer(n.Snapshot(), ih)
		return ts.SwarmSeeds == 2 && ts.SwarmPeers == 2 && ts.SwarmLeechers == 0 && ts.SwarmCompleted == 1
	})
	ts, _ := enginetest.Transfer(n.Snapshot(), ih)
	t.Logf("snapshot: peers %d (swarm %d), seeds %d (swarm %d), leechers %d, completed %d",
		ts.Peers, ts.SwarmPeers, ts.Seeds, ts.SwarmSeeds, ts.SwarmLeechers, ts.SwarmCompleted)

	n.Stop()
	waitCounts(t, trA, ih, "A after Shoal stopped", peerclients.Counts{Seeders: 1, Downloaded: 1})
	waitCounts(t, trB, ih, "B after Shoal stopped", peerclients.Counts{Downloaded: 1})
	for name, tr := range map[string]*peerclients.Tracker{"A": trA, "B": trB} {
		if ports := peerPorts(t, tr, ih); slices.Contains(ports, port) {
			t.Errorf("after a clean exit tracker %s still lists Shoal's port %d among %v", name, port, ports)
		}
	}
}

// tieredTorrent makes a .torrent of c whose announce-list has one tier per
// URL, and checks its infohash.
func tieredTorrent(t *testing.T, c content, ih engine.InfoHash, urls ...string) string {
	t.Helper()
	path, got := writeTorrent(t, c, urls...)
	if got != ih {
		t.Fatalf("infohash %s with trackers, %s without", got, ih)
	}
	return path
}

// shoalPort is the port Shoal announces.
func shoalPort(t *testing.T, n *enginetest.Node) int {
	t.Helper()
	_, p, err := net.SplitHostPort(n.PeerAddr())
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// waitCounts polls tr's scrape of ih until it equals want.
func waitCounts(t *testing.T, tr *peerclients.Tracker, ih engine.InfoHash, what string, want peerclients.Counts) {
	t.Helper()
	var got peerclients.Counts
	var err error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if got, err = tr.Counts(ih); err == nil && got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tracker %s: scrape %+v (err %v), want %+v", what, got, err, want)
}

func peerPorts(t *testing.T, tr *peerclients.Tracker, ih engine.InfoHash) []int {
	t.Helper()
	ports, err := tr.PeerPorts(ih)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

// TestAnnouncesSpread adds 60 magnet links naming one tracker: their
// first announces must be paced (20 a second after a burst of 20), not
// fired at once.
func TestAnnouncesSpread(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("event") == "started" {
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
		}
		w.Write([]byte("d8:intervali1800e5:peers0:e"))
	}))
	defer srv.Close()
	n := enginetest.Start(t, enginetest.Config(t))
	const torrents = 60
	for i := range torrents {
		var ih engine.InfoHash
		ih[0], ih[1] = 0xa5, byte(i)
		magnet := "magnet:?xt=urn:btih:" + ih.String() + "&tr=" + url.QueryEscape(srv.URL+"/announce")
		if _, err := n.Download(t.Context(), engine.DownloadRequest{Source: magnet}); err != nil {
			t.Fatal(err)
		}
	}
	enginetest.WaitFor(t, "every torrent's started announce", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(times) == torrents
	})
	mu.Lock()
	defer mu.Unlock()
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	span := times[torrents-1].Sub(times[0])
	early := 0
	for _, at := range times {
		if at.Sub(times[0]) < 500*time.Millisecond {
			early++
		}
	}
	t.Logf("%d started announces over %v, %d in the first 500 ms", torrents, span.Round(time.Millisecond), early)
	if span < 1500*time.Millisecond || early > 40 {
		t.Errorf("%d announces over %v with %d in the first 500 ms: want about 2 s, at most 20+10 at first (40 with slack)", torrents, span, early)
	}
}
