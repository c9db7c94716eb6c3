package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/netlab"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestLabHolePunchLibtorrent: BEP 55 between Shoal and libtorrent. A
// python3-libtorrent seeder behind the strict NAT r5 and a Shoal leecher
// behind the strict NAT r2 (both silent routers) are connected to a
// public Shoal peer on s1 that has none of the pieces (held to 1 KB/s).
// The leecher learns the seeder from the relay's PEX (libtorrent
// advertises ut_holepunch), cannot dial it, asks the relay for a
// rendezvous; the relay sends connect to both, and libtorrent, which
// punches over uTP only, and Shoal (TCP and uTP raced) meet. The file must
// arrive byte for byte, and libtorrent must list the leecher as a peer
// it hole-punched (peer_info.holepunched).
func TestLabHolePunchLibtorrent(t *testing.T) {
	if err := peerclients.NeedLibtorrent(); err != nil {
		if errors.Is(err, peerclients.ErrNotInstalled) && os.Getenv("SHOAL_REQUIRE_PEERS") != "1" {
			t.Skipf("%v; set SHOAL_REQUIRE_PEERS=1 to fail instead", err)
		}
		t.Fatal(err)
	}
	lab := netlab.New(t, netlab.Options{SecondStrict: true, Stealth: true})
	src, data := labFile(t, "Gannet Colony lt.bin", 3<<20+321)
	torrent := filepath.Join(t.TempDir(), "colony.torrent")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, stderr, err := shoal(ctx, "create", "--v1", "--piece-length", "262144", "-o", torrent, src); err != nil {
		t.Fatalf("create: %v\n%s", err, stderr)
	}
	const relayAddr = "203.0.113.50:42040"
	relay := startLabGet(t, lab, "s1", "42040", t.TempDir(), torrent, "--timeout", "90s", "--max-down", "1KB")
	args := peerclients.LibtorrentLabSeedArgs(torrent, filepath.Dir(src), "0.0.0.0:42041", relayAddr)
	seedLogPath := filepath.Join(t.TempDir(), "h5-libtorrent.log")
	seedLogFile, err := os.Create(seedLogPath)
	if err != nil {
		t.Fatal(err)
	}
	seed := lab.Host("h5").Command(args[0], args[1:]...)
	seed.Stdout, seed.Stderr = seedLogFile, seedLogFile
	err = lab.StartCmd(seed)
	seedLogFile.Close()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(8 * time.Second) // as in TestLabHolePunch: the seeder must not learn the leecher by PEX
	out := t.TempDir()
	leech := startLabGet(t, lab, "h2", "42042", out, torrent, "--peer", relayAddr, "--timeout", "50s")
	start := time.Now()
	err = leech.cmd.Wait()
	b, _ := os.ReadFile(seedLogPath)
	seedLog := string(b)
	if err != nil {
		t.Fatalf("leecher on h2: %v\n%s\nlibtorrent seeder (tail):\n%s\nrelay:\n%s", err, leech.logText(), tail(seedLog), relay.logText())
	}
	got, err := os.ReadFile(filepath.Join(out, filepath.Base(src)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("leecher's file differs or is missing (%v)", err)
	}
	if !strings.Contains(relay.logText(), "hole punch relayed") {
		t.Fatalf("the relay's log does not show the rendezvous:\n%s", relay.logText())
	}
	line := leech.logLine("hole punched")
	if line == "" || !strings.Contains(line, "relay="+relayAddr) {
		t.Fatalf("the leecher logged no connection hole punched via %s:\n%s\nlibtorrent seeder (tail):\n%s", relayAddr, leech.logText(), tail(seedLog))
	}
	if !strings.Contains(seedLog, "peer 203.0.113.12:42042 holepunched=1") {
		t.Fatalf("libtorrent never listed the leecher as a hole-punched peer:\n%s", tail(seedLog))
	}
	t.Logf("h2 (Shoal) got %d bytes from h5 (libtorrent) in %v; %s\nlibtorrent's last peer line: %s",
		len(data), time.Since(start).Round(10*time.Millisecond), line, lastLine(seedLog, "peer 203.0.113.12"))
}

// lastLine is the last line of s that starts with prefix, or "".
func lastLine(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], prefix) {
			return lines[i]
		}
	}
	return ""
}
