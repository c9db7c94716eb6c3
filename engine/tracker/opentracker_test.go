package tracker

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startOpentracker runs the real opentracker on 127.0.0.1 (TCP and UDP on
// one port) with hashes whitelisted, and returns the port.
func startOpentracker(t *testing.T, hashes ...[20]byte) int {
	t.Helper()
	bin, err := exec.LookPath("opentracker")
	if err != nil {
		t.Skip("opentracker binary not installed (apt-get install opentracker); skipping real-tracker test")
	}
	dir := t.TempDir()
	var wl strings.Builder
	for _, h := range hashes {
		wl.WriteString(hex.EncodeToString(h[:]) + "\n")
	}
	wlPath := filepath.Join(dir, "whitelist.txt")
	if err := os.WriteFile(wlPath, []byte(wl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Another test may grab the free port before opentracker binds it; then
	// opentracker exits and we would talk to the other tracker. Check that
	// ours is still running once the port answers, and retry otherwise.
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-P", strconv.Itoa(port)}
		if os.Geteuid() == 0 {
			// It chroots to -d and drops to -u; the whitelist is read inside the chroot.
			args = append(args, "-u", "nobody", "-d", dir, "-w", "/whitelist.txt")
		} else {
			args = append(args, "-d", dir, "-w", wlPath)
		}
		cmd := exec.Command(bin, args...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start opentracker: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
		})
		waitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), &out)
		select {
		case <-exited:
			continue // lost the port race
		case <-time.After(150 * time.Millisecond):
			return port
		}
	}
	t.Fatal("opentracker could not keep a port after 5 attempts")
	return 0
}

// freePort finds a port free for both TCP and UDP on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

func waitTCP(t *testing.T, addr string, out *strings.Builder) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("opentracker did not listen on %s; output:\n%s", addr, out.String())
}

func TestOpentracker(t *testing.T) {
	hashHTTP := [20]byte{0x5a, 0x01}
	hashUDP := [20]byte{0x5a, 0x02}
	port := startOpentracker(t, hashHTTP, hashUDP)
	cases := []struct {
		name     string
		url      string
		hash     [20]byte
		unlisted error
	}{
		{"http", fmt.Sprintf("http://127.0.0.1:%d/announce", port), hashHTTP, ErrTrackerFailure},
		{"udp", fmt.Sprintf("udp://127.0.0.1:%d/announce", port), hashUDP, ErrBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seeder, leecher := loopbackClient(), loopbackClient()
			ctx := context.Background()
			first := Request{InfoHash: tc.hash, PeerID: [20]byte{'A'}, Port: 40001, Event: EventStarted, Key: 1}
			if _, err := seeder.Announce(ctx, tc.url, first); err != nil {
				t.Fatalf("first announce: %v", err)
			}
			second := Request{InfoHash: tc.hash, PeerID: [20]byte{'B'}, Port: 40002, Left: 1000, Event: EventStarted, Key: 2}
			r, err := leecher.Announce(ctx, tc.url, second)
			if err != nil {
				t.Fatalf("second announce: %v", err)
			}
			if !slices.Contains(r.Peers, ap("127.0.0.1:40001")) {
				t.Errorf("second client's peers %v lack the first (127.0.0.1:40001)", r.Peers)
			}
			if r.Seeders != 1 || r.Leechers != 1 || r.Interval <= 0 {
				t.Errorf("response %+v: want 1 seeder, 1 leecher, an interval", r)
			}
			// Not whitelisted: HTTP gets a failure reason; opentracker's UDP
			// side answers with a bare 8-byte action 1 header instead.
			unlisted := second
			unlisted.InfoHash = [20]byte{0xee}
			if _, err := leecher.Announce(ctx, tc.url, unlisted); !errors.Is(err, tc.unlisted) {
				t.Errorf("non-whitelisted hash: err = %v, want %v", err, tc.unlisted)
			}
		})
	}
}
