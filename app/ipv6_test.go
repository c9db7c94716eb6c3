package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestCLIDualStackReadyLine: with a host-less --listen the daemon listens
// on 127.0.0.1 and ::1 (loopback-only), on one port, and says so.
func TestCLIDualStackReadyLine(t *testing.T) {
	d := startDaemon(t, "--listen", ":0", "--bootstrap", "none")
	r := d.ready
	host4, port4, _ := net.SplitHostPort(r.PeerAddr)
	host6, port6, _ := net.SplitHostPort(r.PeerAddr6)
	if host4 != "127.0.0.1" || host6 != "::1" || port4 != port6 || r.DHTAddr6 != r.PeerAddr6 {
		t.Fatalf("ready line %+v: want 127.0.0.1 and [::1] on one port", r)
	}
	for _, addr := range []string{r.PeerAddr, r.PeerAddr6} {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Errorf("dial %s: %v", addr, err)
			continue
		}
		c.Close()
	}
	for _, addr := range []string{r.DHTAddr, r.DHTAddr6} {
		if err := udpAnswers(addr); err != nil {
			t.Errorf("the DHT address %s does not answer a ping: %v", addr, err)
		}
	}
}

// udpAnswers sends a KRPC ping to addr until a reply comes, for up to
// 15 s (a datagram may be lost, or the node slow to answer on a loaded
// machine), and says what went wrong otherwise.
func udpAnswers(addr string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ping := "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"
	buf := make([]byte, 1500)
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for attempt := 1; time.Now().Before(deadline); attempt++ {
		if _, err := c.Write([]byte(ping)); err != nil {
			last = fmt.Errorf("ping %d: %w", attempt, err)
			time.Sleep(500 * time.Millisecond) // e.g. refused: not yet bound
			continue
		}
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := c.Read(buf)
		switch {
		case err != nil:
			last = fmt.Errorf("ping %d: %w", attempt, err)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				time.Sleep(500 * time.Millisecond)
			}
		case bytes.Contains(buf[:n], []byte("1:y1:r")):
			return nil
		default:
			last = fmt.Errorf("ping %d: answer %q is not a reply", attempt, buf[:n])
		}
	}
	return last
}

// TestCLIGetOverIPv6DHT: aria2 seeds a trackerless torrent over IPv6 only,
// with a Shoal daemon's dht_addr6 as its IPv6 DHT entry point (BEP 32),
// which the helper also puts in aria2's saved routing table: aria2's one
// announce at start otherwise races its ping to the entry point, and a
// seeder's next announce is 15 minutes later (the failures past 120 s).
// The torrent is v1 only: aria2 1.36 has no BitTorrent v2, and it
// announced a hybrid torrent under another infohash than Shoal's.
// `shoal get INFOHASH`, bootstrapped from that daemon's IPv6 DHT address
// alone, must find aria2 there, fetch the metadata and the bytes from it
// over [::1], and write the same bytes.
func TestCLIGetOverIPv6DHT(t *testing.T) {
	if _, err := peerclients.Bin("aria2c"); err != nil {
		if os.Getenv("SHOAL_REQUIRE_PEERS") == "1" {
			t.Fatal(err)
		}
		t.Skipf("%v; set SHOAL_REQUIRE_PEERS=1 to fail instead", err)
	}
	boot := startDaemon(t, "--listen", ":0", "--bootstrap", "none")
	if boot.ready.DHTAddr6 == "" {
		t.Fatalf("daemon has no IPv6 DHT: %+v", boot.ready)
	}
	src := filepath.Join(t.TempDir(), "Ocean Floor Survey.bin")
	data := make([]byte, 5<<20+333)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	torrent, ih := trackerlessTorrent(t, src)
	aria, err := peerclients.StartAria2DHT6Seeder(t, torrent, filepath.Dir(src), boot.ready.DHTAddr6)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	start := time.Now()
	stdout, stderr, err := shoal(ctx, "get", "--loopback-only", "--listen", ":0", "--bootstrap", boot.ready.DHTAddr6,
		"--data", t.TempDir(), "--out", out, "--quiet", "--timeout", "120s", ih)
	if err != nil {
		t.Fatalf("shoal get: %v\nstdout: %s\nstderr: %s\naria2 log has announce_peer: %v",
			err, stdout, stderr, aria.LogContains("announce_peer"))
	}
	t.Logf("shoal get over the IPv6 DHT took %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(stdout))
	got, err := os.ReadFile(filepath.Join(out, filepath.Base(src)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes differ from the %d aria2 seeds", len(got), len(data))
	}
}

// trackerlessTorrent writes a v1 .torrent of src without trackers and
// returns its path and hex infohash.
func trackerlessTorrent(t *testing.T, src string) (string, string) {
	t.Helper()
	mi, err := storage.Create(context.Background(), src, storage.CreateOptions{Format: storage.V1Only}, nil) // aria2 1.36 has no v2
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trackerless.torrent")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(mi.Write(f), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path, mi.HashInfoBytes().HexString()
}
