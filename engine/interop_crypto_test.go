package engine_test

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// Interop with real clients set to require encryption (see
// /work/shared/PEERS.md): qBittorrent-nox with Session\Encryption=1,
// Transmission with "encryption": 2, aria2 with --bt-require-crypto and
// --bt-min-crypto-level=arc4. Each closes a plain handshake, so every
// byte here crossed an MSE link; Shoal runs in require mode (RC4 both
// ways) and in its default prefer mode. Data moves both ways, every copy
// is checked by SHA-256, and the link Shoal reports for the peer must be
// the one expected.

// linkWatch records the links ("tcp/rc4", ...) a node's peers of one
// transfer used, polling its snapshot until the test ends.
type linkWatch struct {
	mu   sync.Mutex
	seen map[string]bool
}

func watchLinks(t *testing.T, n *enginetest.Node, ih engine.InfoHash) *linkWatch {
	w := &linkWatch{seen: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			peers, _ := n.Peers(ih)
			w.mu.Lock()
			for _, p := range peers {
				w.seen[p.Network+"/"+p.Encryption] = true
			}
			w.mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return w
}

// links lists the links seen, sorted.
func (w *linkWatch) links() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for l := range w.seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// check fails t unless some link was seen and every one is in want.
func (w *linkWatch) check(t *testing.T, want ...string) {
	t.Helper()
	got := w.links()
	if len(got) == 0 {
		t.Fatalf("no peer link seen; want %s", strings.Join(want, " or "))
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			t.Fatalf("links %v; want only %s", got, strings.Join(want, " or "))
		}
	}
	t.Logf("Shoal's links: %v", got)
}

// modeNode starts a loopback node with an encryption mode.
func modeNode(t *testing.T, mode string) *enginetest.Node {
	cfg := enginetest.Config(t)
	cfg.Encryption = engine.Encryption(mode)
	cfg.UTP = "off" // TCP alone: these tests are about encryption
	return enginetest.Start(t, cfg)
}

// shoalFetchesIn is shoalFetches for a node given, watching its links.
func shoalFetchesIn(t *testing.T, n *enginetest.Node, c content, ih engine.InfoHash, src string, peers ...string) *linkWatch {
	t.Helper()
	w := watchLinks(t, n, ih)
	dir := t.TempDir()
	if _, err := n.Download(context.Background(), engine.DownloadRequest{Source: src, Peers: peers, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	waitShoalComplete(t, n, ih, c.size, shoalTimeout)
	c.checkCopy(t, dir)
	return w
}

// shoalSharesIn shares c from n and returns the infohash and a .torrent.
func shoalSharesIn(t *testing.T, n *enginetest.Node, c content) (engine.InfoHash, string) {
	t.Helper()
	sharesV1(t, n)
	ih, err := n.ShareSync(context.Background(), c.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent, tih := writeTorrent(t, c)
	if tih != ih {
		t.Fatalf("storage.Create infohash %s differs from ShareSync's %s", tih, ih)
	}
	return ih, torrent
}

// wantLinks is what Shoal may report in a mode against a client that
// requires encryption: RC4 when Shoal requires it; in prefer mode the
// side that receives the MSE handshake picks RC4 or plain data.
func wantLinks(mode string) []string {
	if mode == "require" {
		return []string{"tcp/rc4"}
	}
	return []string{"tcp/rc4", "tcp/obfuscated"}
}

// TestInteropEncryptedQbittorrent: qBittorrent requiring encryption seeds
// Shoal (Shoal dials) and leeches from Shoal (qBittorrent dials Shoal,
// so Shoal receives its MSE handshake).
func TestInteropEncryptedQbittorrent(t *testing.T) {
	t.Parallel()
	needBins(t, "qbittorrent-nox")
	enc := peerclients.QbitOptions{Encryption: 1}
	for _, mode := range []string{"require", "prefer"} {
		t.Run("qBittorrent seeds Shoal in "+mode+" mode", func(t *testing.T) {
			t.Parallel()
			c := oneFile.make(t)
			torrent, ih := writeTorrent(t, c)
			q, err := peerclients.StartQbittorrentWith(t, torrent, filepath.Dir(c.root), true, enc)
			need(t, err)
			need(t, peerclients.PollFor(30*time.Second, "qbittorrent seeds", q.Done))
			shoalFetchesIn(t, modeNode(t, mode), c, ih, torrent, q.PeerAddr).check(t, wantLinks(mode)...)
		})
		t.Run("Shoal in "+mode+" mode seeds qBittorrent, which dials", func(t *testing.T) {
			t.Parallel()
			c := folder.make(t)
			n := modeNode(t, mode)
			ih, torrent := shoalSharesIn(t, n, c)
			w := watchLinks(t, n, ih)
			dir := t.TempDir()
			q, err := peerclients.StartQbittorrentWith(t, torrent, dir, false, enc)
			need(t, err)
			need(t, peerclients.PollFor(30*time.Second, "qbittorrent loads the torrent", q.Loaded))
			need(t, q.AddPeers(ih, n.PeerAddr()))
			need(t, peerclients.PollFor(shoalTimeout, "qbittorrent completes from Shoal", q.Done))
			q.Proc.Stop(15 * time.Second)
			c.checkCopy(t, dir)
			w.check(t, wantLinks(mode)...)
		})
	}
}

// TestInteropEncryptedTransmission: Transmission with "encryption": 2
// seeds Shoal and leeches from it; Shoal dials it both ways (Transmission
// never dials loopback peers).
func TestInteropEncryptedTransmission(t *testing.T) {
	t.Parallel()
	needBins(t, "transmission-daemon")
	for _, mode := range []string{"require", "prefer"} {
		t.Run("Transmission seeds Shoal in "+mode+" mode", func(t *testing.T) {
			t.Parallel()
			c := oneFile.make(t)
			torrent, ih := writeTorrent(t, c)
			tr, err := peerclients.StartTransmissionWith(t, peerclients.TransmissionOptions{Encryption: 2})
			need(t, err)
			trSeed(t, tr, torrent, filepath.Dir(c.root))
			shoalFetchesIn(t, modeNode(t, mode), c, ih, torrent, tr.PeerAddr).check(t, wantLinks(mode)...)
		})
		t.Run("Shoal in "+mode+" mode seeds Transmission", func(t *testing.T) {
			t.Parallel()
			c := oneFile.make(t)
			n := modeNode(t, mode)
			ih, torrent := shoalSharesIn(t, n, c)
			w := watchLinks(t, n, ih)
			tr, err := peerclients.StartTransmissionWith(t, peerclients.TransmissionOptions{Encryption: 2})
			need(t, err)
			dir := t.TempDir()
			addTorrent(t, tr, torrent, dir)
			if err := n.AddPeers(ih, tr.PeerAddr); err != nil {
				t.Fatal(err)
			}
			need(t, tr.WaitFor(ih, "to complete from Shoal", shoalTimeout, func(s peerclients.TransmissionTorrent) bool {
				return s.PercentDone == 1 && s.LeftUntilDone == 0 && s.HaveValid == c.size
			}))
			tr.Proc.Stop(15 * time.Second)
			c.checkCopy(t, dir)
			w.check(t, wantLinks(mode)...)
		})
	}
}

// TestInteropEncryptedAria2: aria2 requiring RC4 seeds Shoal and leeches
// from it; Shoal dials it both ways. aria2 accepts only RC4, so the link
// is RC4 whatever Shoal's mode.
func TestInteropEncryptedAria2(t *testing.T) {
	t.Parallel()
	needBins(t, "aria2c", "opentracker")
	for _, mode := range []string{"require", "prefer"} {
		t.Run("aria2 seeds Shoal in "+mode+" mode", func(t *testing.T) {
			t.Parallel()
			c := oneFile.make(t)
			torrent, ih := writeTorrent(t, c)
			a, err := peerclients.StartAria2With(t, torrent, filepath.Dir(c.root), true, peerclients.Aria2RequireCrypto...)
			need(t, err)
			shoalFetchesIn(t, modeNode(t, mode), c, ih, torrent, a.PeerAddr).check(t, "tcp/rc4")
		})
		t.Run("Shoal in "+mode+" mode seeds aria2", func(t *testing.T) {
			t.Parallel()
			c := oneFile.make(t)
			n := modeNode(t, mode)
			ih, _ := shoalSharesIn(t, n, c)
			w := watchLinks(t, n, ih)
			torrent, tih, _ := trackedTorrent(t, c, byShoal)
			if tih != ih {
				t.Fatalf("infohash %s, want %s", tih, ih)
			}
			dir := t.TempDir()
			a, err := peerclients.StartAria2With(t, torrent, dir, false, peerclients.Aria2RequireCrypto...)
			need(t, err)
			if err := n.AddPeers(ih, a.PeerAddr); err != nil {
				t.Fatal(err)
			}
			need(t, a.Proc.Wait(shoalTimeout))
			c.checkCopy(t, dir)
			w.check(t, "tcp/rc4")
		})
	}
}

// TestInteropRequiringClientsRefusePlainShoal shows the problem this
// fixes: with encryption off, Shoal gets nothing from a seeder that
// requires it (here qBittorrent), and its log says why in words.
func TestInteropRequiringClientsRefusePlainShoal(t *testing.T) {
	t.Parallel()
	needBins(t, "qbittorrent-nox")
	c := oneFile.make(t)
	torrent, ih := writeTorrent(t, c)
	q, err := peerclients.StartQbittorrentWith(t, torrent, filepath.Dir(c.root), true, peerclients.QbitOptions{Encryption: 1})
	need(t, err)
	need(t, peerclients.PollFor(30*time.Second, "qbittorrent seeds", q.Done))
	n, logs := cryptoNode(t, "off")
	if _, err := n.Download(context.Background(), engine.DownloadRequest{Source: torrent, Peers: []string{q.PeerAddr}, Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	var line string
	enginetest.WaitFor(t, "a failed connection in the log", 20*time.Second, func() bool {
		line = findLine(logs.String(), "peer connection failed")
		return line != ""
	})
	if tr, _ := enginetest.Transfer(n.Snapshot(), ih); tr.Have != 0 {
		t.Fatalf("got %d bytes from a seeder requiring encryption with encryption off", tr.Have)
	}
	if !strings.Contains(line, "the peer closed the connection during the handshake") &&
		!strings.Contains(line, "the peer reset the connection") {
		t.Fatalf("log line %q does not say the peer closed or reset the handshake", line)
	}
	t.Log(line)
}
