package bench

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/internal/netlab"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// The other clients and the tracker for the bench come from
// internal/peerclients (127.0.0.1 only, DHT, PEX, LSD and UPnP off, as
// /work/shared/PEERS.md describes); one that is not installed marks its
// row n/a.

// benchNA marks a row that cannot be measured here, with the reason shown.
type benchNA string

func (e benchNA) Error() string { return string(e) }

// benchMissing turns a client that is not installed into a benchNA.
func benchMissing(err error) error {
	if errors.Is(err, peerclients.ErrNotInstalled) {
		return benchNA(err.Error())
	}
	return err
}

// startBenchTracker runs a fresh opentracker with ih whitelisted.
func startBenchTracker(t *testing.T, ih metainfo.Hash) (*peerclients.Tracker, error) {
	tr, err := peerclients.StartOpentracker(t, ih)
	return tr, benchMissing(err)
}

// startBenchAria2 runs aria2c on torrent with content in dir: a seeder seeds
// forever, a leecher exits 0 once the download is complete and verified.
func startBenchAria2(t *testing.T, torrent, dir string, seed bool) (*peerclients.Aria2, error) {
	a, err := peerclients.StartAria2(t, torrent, dir, seed)
	return a, benchMissing(err)
}

// startBenchQbitWith runs qbittorrent-nox with options o on torrent saving
// into dir; a seeder skips the hash check of content already there.
func startBenchQbitWith(t *testing.T, torrent, dir string, seed bool, o peerclients.QbitOptions) (*peerclients.Qbittorrent, error) {
	q, err := peerclients.StartQbittorrentWith(t, torrent, dir, seed, o)
	return q, benchMissing(err)
}

// startBenchTransmission runs a fresh transmission-daemon.
func startBenchTransmission(t *testing.T) (*peerclients.Transmission, error) {
	tr, err := peerclients.StartTransmission(t)
	return tr, benchMissing(err)
}

// benchWithTracker writes a copy of the .torrent at src announcing to url. The
// info dictionary (and so the infohash and pieces) is unchanged.
func benchWithTracker(t *testing.T, src, url string) string {
	t.Helper()
	mi, err := metainfo.LoadFromFile(src)
	if err != nil {
		t.Fatal(err)
	}
	mi.Announce = url
	path := filepath.Join(t.TempDir(), filepath.Base(src))
	b, err := bencode.Marshal(mi)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

// startLabShoal starts shoal command (daemon or get) on lab node n, in its
// namespace, with the lab's ranges allowed, listening on listen (n's
// address and a free port when empty), no DHT bootstrap and data as its
// data folder; args follow.
func (b *bench) startLabShoal(n *netlab.Node, command, listen, data string, args ...string) (*peerclients.Proc, error) {
	if listen == "" {
		listen = n.Addr.String() + ":0"
	}
	base := []string{"netns", "exec", n.NS, b.opt.Shoal, command, "--allow-net", netlab.RangesFlag(),
		"--listen", listen, "--bootstrap", "none", "--data", data}
	return peerclients.Start(b.t, "ip", append(base, args...)...)
}

// labQbitOptions runs a qBittorrent on lab node n, in its namespace, with
// protocol p (TCP, UTP or Both).
func labQbitOptions(n *netlab.Node, p string) peerclients.QbitOptions {
	return peerclients.QbitOptions{Protocol: p, Prefix: []string{"ip", "netns", "exec", n.NS},
		Interface: "eth0", Address: n.Addr.String(), Dial: n.DialContext}
}
