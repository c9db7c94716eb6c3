package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestDHTScrapeLibtorrent: two python3-libtorrent seeders announce a
// trackerless torrent into a loopback DHT (to each other, with BEP 33's
// seed flag). A Shoal leecher's DHT lookup asks the nodes holding the swarm
// for their scrape filters, so its transfer knows the swarm's seeds
// without any tracker: before BEP 33 the count stayed unknown (-1). On
// loopback every peer has the one IP, so the filters count 1 seed.
func TestDHTScrapeLibtorrent(t *testing.T) {
	needBins(t, "mktorrent")
	boot := enginetest.Start(t, enginetest.Config(t))
	seedDir := t.TempDir()
	src := enginetest.RandomFile(t, seedDir, "Quokka Census Field Notes.bin", 256<<10)
	torrent, ih := mktorrent(t, src)
	// The second seeder enters the DHT through the first too, so that it
	// announces to a libtorrent node (which keeps its seed flag) at once.
	first, err := peerclients.StartLibtorrentDHTSeeding(t, torrent, seedDir, boot.DHTAddr())
	need(t, err)
	_, err = peerclients.StartLibtorrentDHTSeeding(t, torrent, seedDir, first.PeerAddr+","+boot.DHTAddr())
	need(t, err)

	// The leecher requires encryption, which these seeders turn off: it
	// never connects to them, so its transfer stays a download that keeps
	// asking the DHT (a finished one would not ask again for half an hour).
	leechCfg := enginetest.Config(t, boot.DHTAddr())
	leechCfg.Encryption = "require"
	leech := enginetest.Start(t, leechCfg)
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(ih, ""), Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	var got engine.TransferSnapshot
	enginetest.WaitFor(t, "the DHT scrape to count libtorrent's seeds", 120*time.Second, func() bool {
		for _, tr := range leech.Snapshot().Transfers {
			if tr.InfoHash == ih {
				got = tr
			}
		}
		return got.SwarmSeeds >= 1
	})
	if got.SwarmPeers < got.SwarmSeeds {
		t.Fatalf("swarm %d peers but %d seeds", got.SwarmPeers, got.SwarmSeeds)
	}
	t.Logf("swarm: %d seeds, %d leechers, %d peers", got.SwarmSeeds, got.SwarmLeechers, got.SwarmPeers)
}
