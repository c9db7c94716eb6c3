package engine_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// Tests of MSE/PE encryption between Shoal nodes; the interop tests with
// real clients that require encryption are in interop_crypto_test.go.

// logBuffer collects an engine's log for a test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cryptoNode starts a node with an encryption mode, logging into a buffer.
func cryptoNode(t *testing.T, mode string) (*enginetest.Node, *logBuffer) {
	cfg := enginetest.Config(t)
	cfg.Encryption = engine.Encryption(mode)
	cfg.UTP = "off" // TCP alone: these tests are about encryption
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return enginetest.Start(t, cfg), logs
}

// TestEncryptionModesShoalToShoal moves a file between two nodes for each
// pair of modes that can talk, and checks what each side negotiated.
func TestEncryptionModesShoalToShoal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ seed, leech, want string }{
		{"prefer", "prefer", "obfuscated"}, // MSE, then plain data: the receiver's choice
		{"require", "prefer", "rc4"},
		{"prefer", "require", "rc4"},
		{"require", "require", "rc4"},
		{"off", "prefer", "none"}, // the leecher's MSE is refused; it redials in plain
		{"prefer", "off", "none"},
		{"off", "off", "none"},
	} {
		t.Run(tc.seed+" seeds "+tc.leech, func(t *testing.T) {
			t.Parallel()
			c := singleFile(t, "Tidal Chart.bin", 3<<20+4321)
			seed, _ := cryptoNode(t, tc.seed)
			ih, err := seed.ShareSync(context.Background(), c.root, nil)
			if err != nil {
				t.Fatal(err)
			}
			leech, _ := cryptoNode(t, tc.leech)
			seedLinks, leechLinks := watchLinks(t, seed, ih), watchLinks(t, leech, ih)
			dir := t.TempDir()
			if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: ih.String(), Peers: []string{seed.PeerAddr()}, Dir: dir}); err != nil {
				t.Fatal(err)
			}
			waitShoalComplete(t, leech, ih, c.size, shoalTimeout)
			c.checkCopy(t, dir)
			seedLinks.check(t, "tcp/"+tc.want)
			leechLinks.check(t, "tcp/"+tc.want)
		})
	}
}

// TestRequireRefusesPlainPeer: a node in require mode turns away a plain
// leecher, says so in its log, and sends it nothing; and a leecher in
// require mode gets nothing from a plain-only seeder.
func TestRequireRefusesPlainPeer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ seed, leech string }{{"require", "off"}, {"off", "require"}} {
		t.Run(tc.seed+" seeds "+tc.leech, func(t *testing.T) {
			t.Parallel()
			c := singleFile(t, "Plain Sailing.bin", 1<<20)
			seed, seedLog := cryptoNode(t, tc.seed)
			ih, err := seed.ShareSync(context.Background(), c.root, nil)
			if err != nil {
				t.Fatal(err)
			}
			leech, leechLog := cryptoNode(t, tc.leech)
			if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: ih.String(), Peers: []string{seed.PeerAddr()}, Dir: t.TempDir()}); err != nil {
				t.Fatal(err)
			}
			var line string
			enginetest.WaitFor(t, "the refusal in a log", 15*time.Second, func() bool {
				line = findLine(seedLog.String(), "plain peer refused: encryption is required")
				if tc.seed == "off" {
					line = findLine(seedLog.String(), "the peer wants encryption, which is turned off")
				}
				return line != ""
			})
			t.Logf("seeder: %s", line)
			time.Sleep(time.Second)
			if tr, _ := enginetest.Transfer(leech.Snapshot(), ih); tr.Peers != 0 || tr.Have != 0 {
				t.Fatalf("leecher has %d peers and %d bytes; want none", tr.Peers, tr.Have)
			}
			if l := findLine(leechLog.String(), "peer connection failed"); l != "" {
				t.Logf("leecher: %s", l)
			}
		})
	}
}

// findLine returns the first log line containing s.
func findLine(log, s string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// TestStalledMSEPreamblesAreBounded: 400 connections each send an MSE
// public key's worth of random bytes and stall. The node runs at most
// maxHandshakes (128) handshakes at once and closes the rest at once; the
// goroutines and heap they cost stay bounded, and every stalled one is
// closed at the handshake deadline (20 s).
func TestStalledMSEPreamblesAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 20 s handshake deadline")
	}
	n, _ := cryptoNode(t, "prefer")
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	var before, during runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	const conns = 400
	var cs []net.Conn
	for range conns {
		c, err := net.Dial("tcp", n.PeerAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pre := make([]byte, 96+100)
		rand.Read(pre)
		c.Write(pre)
		cs = append(cs, c)
	}
	time.Sleep(time.Second)
	runtime.GC()
	runtime.ReadMemStats(&during)
	g1 := runtime.NumGoroutine()
	closedAtOnce := 0
	for _, c := range cs {
		if closedBy(c, 10*time.Millisecond) {
			closedAtOnce++
		}
	}
	heap := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("%d stalled connections: %d closed at once, %d held; goroutines %d → %d (+%d, %.1f per held one); heap in use +%d KiB",
		conns, closedAtOnce, conns-closedAtOnce, g0, g1, g1-g0, float64(g1-g0)/float64(max(1, conns-closedAtOnce)), heap>>10)
	if held := conns - closedAtOnce; held > 128 {
		t.Errorf("%d handshakes held at once, want at most 128", held)
	}
	if g1-g0 > 128*4 {
		t.Errorf("%d more goroutines, want at most %d", g1-g0, 128*4)
	}
	if heap > 16<<20 {
		t.Errorf("heap grew by %d KiB, want under 16 MiB", heap>>10)
	}
	start := time.Now()
	for _, c := range cs {
		if !closedBy(c, 25*time.Second-time.Since(start)) {
			t.Fatalf("a stalled connection was still open after %v", time.Since(start))
		}
	}
	t.Logf("all stalled connections closed by the node within %v", time.Since(start).Round(100*time.Millisecond))
	enginetest.WaitFor(t, "the handshake goroutines to end", 5*time.Second, func() bool {
		return runtime.NumGoroutine() <= g0+10
	})
}

// closedBy reports whether the peer closed c (EOF or reset) within d.
func closedBy(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	return true
}
