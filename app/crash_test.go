package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countingProxy forwards loopback TCP connections to a peer, counting (and
// optionally throttling) the bytes the peer sends back. Loopback moves
// hundreds of MB/s, so the throttle is what lets a test kill a download
// half-way, and the count tells how far it got.
type countingProxy struct {
	ln        net.Listener
	target    string
	rate      int64     // bytes/s from the peer; 0 = unlimited
	start     time.Time // when the first connection came
	once      sync.Once
	closeOnce sync.Once
	down      atomic.Int64 // bytes forwarded from the peer
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     []net.Conn
}

func startProxy(t *testing.T, target string, rate int64) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln, target: target, rate: rate}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *countingProxy) addr() string { return p.ln.Addr().String() }

func (p *countingProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.once.Do(func() { p.start = time.Now() })
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(up, c); up.Close() }()
		go func() { defer p.wg.Done(); p.copyDown(c, up); c.Close() }()
	}
}

// copyDown forwards peer→client in small chunks, sleeping to hold the rate.
func (p *countingProxy) copyDown(dst, src net.Conn) {
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			total := p.down.Add(int64(n))
			if p.rate > 0 {
				due := p.start.Add(time.Duration(float64(total) / float64(p.rate) * float64(time.Second)))
				time.Sleep(time.Until(due))
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *countingProxy) close() {
	p.closeOnce.Do(p.shut)
}

func (p *countingProxy) shut() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

var downloadedRE = regexp.MustCompile(`; downloaded (\d+) this run`)

// TestKill9MidDownloadResumes kills `shoal get` with SIGKILL half-way
// through a download, then runs the same command again: it must finish
// with the right bytes and fetch only what the first run had not made
// durable, measured both by the CLI's own count and by the seeder's
// upload counter (`shoal ratio`).
func TestKill9MidDownloadResumes(t *testing.T) {
	const size = 64 << 20
	src := filepath.Join(t.TempDir(), "Crash Course.bin")
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	seed := startDaemon(t, "--bootstrap", "none", "--share", src)
	ih := seed.ready.Shared[src]
	if len(ih) != 40 {
		t.Fatalf("shared infohash %q", ih)
	}
	dataDir, out := t.TempDir(), t.TempDir()
	getArgs := func(peer string) []string {
		return []string{"get", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none",
			"--data", dataDir, "--out", out, "--timeout", "2m", "--peer", peer, ih}
	}

	slow := startProxy(t, seed.ready.PeerAddr, 8<<20) // 64 MiB takes ~8 s
	killed := killMidway(t, getArgs(slow.addr()), slow, size)
	slow.close()
	run1 := slow.down.Load() // the seeder sent at least this in run 1
	if got, err := os.ReadFile(filepath.Join(out, filepath.Base(src))); err == nil && sha256.Sum256(got) == want {
		t.Fatal("file was already complete when the first run was killed")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Same command, same --data and --out; the throttling proxy is gone, so
	// it names the seeder itself.
	stdout, stderr, err := shoal(ctx, getArgs(seed.ready.PeerAddr)...)
	if err != nil {
		t.Fatalf("second get: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, filepath.Base(src)))
	if err != nil || sha256.Sum256(got) != want {
		t.Fatalf("file after resume differs or is missing: %v", err)
	}
	m := downloadedRE.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("second get output %q lacks '; downloaded N this run'", stdout)
	}
	again, _ := strconv.ParseInt(m[1], 10, 64)
	seed.stop(t) // flushes the seeder's counters
	uploaded := seederUploaded(ctx, t, seed.ready.DataDir)
	t.Logf("killed after %d of %d bytes (%d forwarded in all); second run downloaded %d; seeder uploaded %d",
		killed, size, run1, again, uploaded)
	if again >= size {
		t.Fatalf("second run downloaded %d of %d bytes: nothing was resumed", again, size)
	}
	// Outside view: what the seeder sent beyond run 1 bounds run 2 from above.
	if uploaded < size || uploaded-run1 >= size {
		t.Fatalf("seeder uploaded %d bytes, %d of them after run 1: want the file once, not twice", uploaded, uploaded-run1)
	}
	if again+killed < size {
		t.Fatalf("first run got %d and second %d bytes: together less than the file (%d)", killed, again, size)
	}
}

// seederUploaded reads a stopped node's all-time upload with `shoal ratio`.
func seederUploaded(ctx context.Context, t *testing.T, dataDir string) int64 {
	t.Helper()
	stdout, stderr, err := shoal(ctx, "ratio", "--data", dataDir)
	if err != nil {
		t.Fatalf("shoal ratio: %v\n%s", err, stderr)
	}
	var r struct{ Uploaded int64 }
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("shoal ratio output %q: %v", stdout, err)
	}
	return r.Uploaded
}

// killMidway runs `shoal get` through a throttled proxy and SIGKILLs it once
// between 50% and 90% of the file went through; it returns the bytes
// forwarded by then.
func killMidway(t *testing.T, args []string, p *countingProxy, size int64) int64 {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(shoalBin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(90 * time.Second)
	for p.down.Load() < size/2 {
		select {
		case err := <-exited:
			t.Fatalf("first get exited before half-way (%d bytes): %v\n%s", p.down.Load(), err, stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("first get reached only %d of %d bytes in 90s\n%s", p.down.Load(), size, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	at := p.down.Load()
	err := <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("first get was not killed by SIGKILL: %v", err)
	}
	if at > size*9/10 {
		t.Fatalf("kill came too late: %d of %d bytes through", at, size)
	}
	return at
}
