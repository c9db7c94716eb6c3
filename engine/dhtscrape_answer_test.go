package engine_test

import (
	"context"
	"math"
	"net"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/dhttest"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestDHTScrapeAnswer: a Shoal DHT node answers BEP 33. Nine peers on
// nine loopback IPs announce one torrent to it, six with the seed flag. A
// get_peers with scrape=1 is answered with the library's token and two
// filters that estimate 6 seeds and 3 downloaders (values left out); a
// plain get_peers is answered as before (values, no filters), one with
// noseed=1 with the 3 downloaders only; a torrent with no peers gets no
// filters. Without BEP 33 answers the node sent no
// filters at all.
func TestDHTScrapeAnswer(t *testing.T) {
	node, err := engine.StartDHTNode(engine.DHTNodeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	ih := [20]byte{0x33, 0x33, 1}
	for i := range 9 {
		p := dhttest.NewPeer(t, net.IPv4(127, 0, 0, byte(20+i)), node.Addr())
		p.Announce(ih, 6881+i, i < 6)
	}
	asker := dhttest.NewPeer(t, net.IPv4(127, 0, 0, 50), node.Addr())
	// The library stores an announced peer on a goroutine of its own.
	var r krpc.Msg
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = asker.Ask("get_peers", map[string]any{"info_hash": string(ih[:]), "scrape": 1})
		if r.R != nil && r.R.BFsd != nil && math.Round(r.R.BFsd.EstimateCount())+math.Round(r.R.BFpe.EstimateCount()) >= 9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scrape filters counting 9 peers in the answer: %+v", r.R)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r.R.Token == nil || *r.R.Token == "" {
		t.Fatal("scrape answer without the library's token")
	}
	if len(r.R.Values) != 0 {
		t.Fatalf("scrape answer carries %d values", len(r.R.Values))
	}
	seeds, downloaders := math.Round(r.R.BFsd.EstimateCount()), math.Round(r.R.BFpe.EstimateCount())
	if seeds != 6 || downloaders != 3 {
		t.Fatalf("filters estimate %v seeds and %v downloaders, want 6 and 3", seeds, downloaders)
	}
	plain := asker.Ask("get_peers", map[string]any{"info_hash": string(ih[:])})
	if plain.R == nil || len(plain.R.Values) != 9 || plain.R.BFsd != nil || plain.R.BFpe != nil {
		t.Fatalf("plain get_peers answer changed: %+v", plain.R)
	}
	// noseed=1 (a seed looking for downloaders): the 6 seeds left out.
	noseed := asker.Ask("get_peers", map[string]any{"info_hash": string(ih[:]), "noseed": 1})
	if noseed.R == nil || len(noseed.R.Values) != 3 || noseed.R.Token == nil {
		t.Fatalf("noseed answer %+v, want the 3 downloaders", noseed.R)
	}
	for _, v := range noseed.R.Values {
		if v.Port < 6881+6 {
			t.Fatalf("noseed answer holds the seed %v", v)
		}
	}
	none := asker.Ask("get_peers", map[string]any{"info_hash": string(make([]byte, 20)), "scrape": 1})
	if none.R == nil || none.R.BFsd != nil || none.R.BFpe != nil || none.R.Token == nil {
		t.Fatalf("scrape of a torrent without peers: %+v", none.R)
	}
}

// TestDHTScrapeAnswerLibtorrent: a python3-libtorrent seeder announces a
// trackerless torrent into a loopback DHT made of one Shoal node, with
// BEP 33's seed flag; the Shoal node's scrape answer then counts it as a
// seed (on loopback every peer has the one IP, so the count is 1).
// libtorrent 2.0's Python binding cannot send a scrape query itself (it
// has no dht_direct_request), so the query is hand-made.
func TestDHTScrapeAnswerLibtorrent(t *testing.T) {
	needBins(t, "mktorrent")
	boot := enginetest.Start(t, enginetest.Config(t))
	seedDir := t.TempDir()
	src := enginetest.RandomFile(t, seedDir, "Numbat Burrow Survey.bin", 128<<10)
	torrent, ih := mktorrent(t, src)
	_, err := peerclients.StartLibtorrentDHTSeeding(t, torrent, seedDir, boot.DHTAddr())
	need(t, err)
	asker := dhttest.NewPeer(t, net.IPv4(127, 0, 0, 51), boot.DHTAddr())
	var r krpc.Msg
	enginetest.WaitFor(t, "libtorrent's announce to count as a seed", 120*time.Second, func() bool {
		r = asker.Ask("get_peers", map[string]any{"info_hash": string(ih[:]), "scrape": 1})
		return r.R != nil && r.R.BFsd != nil && math.Round(r.R.BFsd.EstimateCount()) == 1
	})
	// An empty filter estimates 0.5 by BEP 33's formula: look at its bits.
	if *r.R.BFpe != (krpc.ScrapeBloomFilter{}) {
		t.Fatalf("the libtorrent seeder counted as a downloader too (estimate %.2f)", r.R.BFpe.EstimateCount())
	}
}

// TestDHTAnnounceAsSeed: a Shoal node that shares a torrent (so has it
// whole) announces it with BEP 33's seed flag, which the library cannot
// send: another Shoal node's scrape answer then counts it among the seeds
// and not the downloaders. Before, every Shoal seeder counted as a
// downloader.
func TestDHTAnnounceAsSeed(t *testing.T) {
	boot := enginetest.Start(t, enginetest.Config(t))
	seeder := enginetest.Start(t, enginetest.Config(t, boot.DHTAddr()))
	src := enginetest.RandomFile(t, t.TempDir(), "Bilby Night Census.bin", 64<<10)
	ih, err := seeder.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	asker := dhttest.NewPeer(t, net.IPv4(127, 0, 0, 52), boot.DHTAddr())
	var r krpc.Msg
	enginetest.WaitFor(t, "the seeder's announce to reach the boot node", 60*time.Second, func() bool {
		r = asker.Ask("get_peers", map[string]any{"info_hash": string(ih[:]), "scrape": 1})
		return r.R != nil && r.R.BFsd != nil
	})
	if *r.R.BFsd == (krpc.ScrapeBloomFilter{}) || *r.R.BFpe != (krpc.ScrapeBloomFilter{}) {
		t.Fatalf("seeder counted as %.2f seeds and %.2f downloaders, want 1 and 0", r.R.BFsd.EstimateCount(), r.R.BFpe.EstimateCount())
	}
}
