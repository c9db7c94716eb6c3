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

// utpNode starts a loopback node with a uTP mode ("on", "off", "only").
func utpNode(t *testing.T, utp string) *enginetest.Node {
	cfg := enginetest.Config(t)
	cfg.UTP = utp
	return enginetest.Start(t, cfg)
}

// TestUTPShoalToShoal: a leecher that dials over uTP only gets a file from
// a seeder (uTP on), on the port the DHT shares; both report a uTP link.
func TestUTPShoalToShoal(t *testing.T) {
	t.Parallel()
	c := singleFile(t, "Slow Lane.bin", 4<<20+99)
	seed := utpNode(t, "on")
	ih, err := seed.ShareSync(context.Background(), c.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	leech := utpNode(t, "only")
	seedLinks, leechLinks := watchLinks(t, seed, ih), watchLinks(t, leech, ih)
	dir := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: ih.String(), Peers: []string{seed.PeerAddr()}, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	waitShoalComplete(t, leech, ih, c.size, shoalTimeout)
	c.checkCopy(t, dir)
	leechLinks.check(t, "utp/obfuscated")
	seedLinks.check(t, "utp/obfuscated", "tcp/obfuscated") // it may dial the leecher back over TCP
}

// TestInteropUTPQbittorrent: qBittorrent set to uTP only (it resets
// incoming TCP) seeds Shoal, which races TCP and uTP and keeps uTP, and
// leeches from Shoal, dialing it over uTP on Shoal's shared UDP port.
func TestInteropUTPQbittorrent(t *testing.T) {
	t.Parallel()
	needBins(t, "qbittorrent-nox")
	opts := peerclients.QbitOptions{Protocol: "UTP"}
	t.Run("qBittorrent seeds Shoal over uTP", func(t *testing.T) {
		t.Parallel()
		c := oneFile.make(t)
		torrent, ih := writeTorrent(t, c)
		q, err := peerclients.StartQbittorrentWith(t, torrent, filepath.Dir(c.root), true, opts)
		need(t, err)
		need(t, peerclients.PollFor(30*time.Second, "qbittorrent seeds", q.Done))
		n := utpNode(t, "on")
		shoalFetchesIn(t, n, c, ih, torrent, q.PeerAddr).check(t, "utp/obfuscated", "utp/rc4", "utp/none")
	})
	t.Run("Shoal seeds qBittorrent over uTP, qBittorrent dialing", func(t *testing.T) {
		t.Parallel()
		c := oneFile.make(t)
		n := utpNode(t, "on")
		ih, torrent := shoalSharesIn(t, n, c)
		w := watchLinks(t, n, ih)
		dir := t.TempDir()
		q, err := peerclients.StartQbittorrentWith(t, torrent, dir, false, opts)
		need(t, err)
		need(t, peerclients.PollFor(30*time.Second, "qbittorrent loads the torrent", q.Loaded))
		need(t, q.AddPeers(ih, n.PeerAddr()))
		need(t, peerclients.PollFor(shoalTimeout, "qbittorrent completes from Shoal", q.Done))
		q.Proc.Stop(15 * time.Second)
		c.checkCopy(t, dir)
		w.check(t, "utp/obfuscated", "utp/rc4", "utp/none")
	})
}
