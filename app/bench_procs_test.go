package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/internal/netguard"
)

// Child processes for the bench: any client, its output kept, its resource
// usage (rusage) read when it has exited, and always stopped at cleanup.

// benchTail keeps a child's output while it runs.
type benchTail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *benchTail) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *benchTail) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// benchProc is one child process owned by a test.
type benchProc struct {
	name  string
	cmd   *exec.Cmd
	out   *benchTail
	start time.Time
	end   time.Time     // when Wait returned; valid after done
	done  chan struct{} // closed when the process has exited
	err   error
}

// startBenchProc runs bin with args; it is stopped when the test ends.
func startBenchProc(t *testing.T, bin string, args ...string) *benchProc {
	t.Helper()
	p := &benchProc{name: filepath.Base(bin), out: &benchTail{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.end = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(10 * time.Second) })
	return p
}

// stop asks the process to end (SIGTERM) and kills it after grace.
func (p *benchProc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *benchProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit by itself with status 0.
func (p *benchProc) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s: %v; output: %s", p.name, p.err, p.out.tail(2000))
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s did not finish within %v; output: %s", p.name, timeout, p.out.tail(2000))
	}
}

// usage is the exited process's CPU time (user+system) and peak RSS.
func (p *benchProc) usage() (cpu time.Duration, rss int64) {
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, ru.Maxrss << 10 // Linux reports KiB
}

// benchBin finds a client binary; "" when it is not installed.
func benchBin(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

// benchFreePort finds a port free for both TCP and UDP on 127.0.0.1.
func benchFreePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

// benchWaitTCP waits until something accepts connections on addr.
func benchWaitTCP(p *benchProc, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s exited early (%v): %s", p.name, p.err, p.out.tail(2000))
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not listening on %s after %v", p.name, addr, timeout)
}

// benchHTTP is an HTTP client that can only reach 127.0.0.1.
var benchHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
	DialContext: netguard.Policy{LoopbackOnly: true}.Dial, Proxy: nil}}

// benchTracker is an opentracker on 127.0.0.1 with one infohash whitelisted.
type benchTracker struct {
	proc *benchProc
	url  string // HTTP announce URL
	ih   metainfo.Hash
}

// startBenchTracker runs a fresh opentracker (see /work/shared/PEERS.md).
func startBenchTracker(t *testing.T, ih metainfo.Hash) (*benchTracker, error) {
	bin := benchBin("opentracker")
	if bin == "" {
		return nil, benchNotInstalled("opentracker")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "whitelist"), []byte(ih.HexString()+"\n"), 0o644); err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755) // readable after it drops root
	port := strconv.Itoa(benchFreePort(t))
	args := []string{"-i", "127.0.0.1", "-p", port, "-P", port, "-d", dir}
	if os.Geteuid() == 0 { // it chroots to -d and becomes nobody
		args = append(args, "-u", "nobody", "-w", "/whitelist")
	} else {
		args = append(args, "-w", filepath.Join(dir, "whitelist"))
	}
	p := startBenchProc(t, bin, args...)
	addr := "127.0.0.1:" + port
	if err := benchWaitTCP(p, addr, 10*time.Second); err != nil {
		return nil, err
	}
	return &benchTracker{proc: p, url: "http://" + addr + "/announce", ih: ih}, nil
}

// counts scrapes the tracker: seeders and leechers it knows for ih.
func (tr *benchTracker) counts() (seeders, leechers int, err error) {
	u := strings.TrimSuffix(tr.url, "/announce") + "/scrape?info_hash=" + benchURLBytes(tr.ih[:])
	resp, err := benchHTTP.Get(u)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Files map[string]struct {
			Complete   int `bencode:"complete"`
			Incomplete int `bencode:"incomplete"`
		} `bencode:"files"`
	}
	if err := bencode.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, 0, fmt.Errorf("scrape: %w", err)
	}
	f := body.Files[string(tr.ih[:])]
	return f.Complete, f.Incomplete, nil
}

// waitSeeders waits until the tracker lists exactly n seeders.
func (tr *benchTracker) waitSeeders(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s, _, err := tr.counts()
		if err == nil && s == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("tracker: %d seeders (err %v) after %v, want %d", s, err, timeout, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func benchURLBytes(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, "%%%02X", c)
	}
	return sb.String()
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
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := mi.Write(f); err != nil {
		t.Fatal(err)
	}
	return path
}

// benchNA marks a row that cannot be measured here, with the reason shown.
type benchNA string

func (e benchNA) Error() string { return string(e) }

func benchNotInstalled(name string) error { return benchNA(name + " not installed") }

// benchWaitUntil polls cond every 100 ms until it returns true or an error.
func benchWaitUntil(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
