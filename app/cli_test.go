package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var shoalBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shoal-bin-")
	if err != nil {
		panic(err)
	}
	shoalBin = filepath.Join(dir, "shoal")
	build := exec.Command("go", "build", "-tags", "sqlite_fts5,no_emoji", "-o", shoalBin, ".") // as the Makefile builds it
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building shoal: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a running `shoal daemon` and its ready line.
type daemon struct {
	cmd   *exec.Cmd
	ready readyLine
	log   *tailBuffer // its stderr, when started with startDaemonLogged
}

func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	return startDaemonTo(t, os.Stderr, args...)
}

// startDaemonLogged starts a daemon whose stderr (its log) is kept in
// d.log, for a test to show when it fails, instead of going to the
// test's stderr.
func startDaemonLogged(t *testing.T, args ...string) *daemon {
	t.Helper()
	tail := &tailBuffer{max: 8 << 20}
	d := startDaemonTo(t, tail, args...)
	d.log = tail
	return d
}

func startDaemonTo(t *testing.T, stderr io.Writer, args ...string) *daemon {
	t.Helper()
	base := []string{"daemon", "--loopback-only", "--listen", "127.0.0.1:0", "--data", t.TempDir()}
	cmd := exec.Command(shoalBin, append(base, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("daemon ready line: %v", err)
	}
	if err := json.Unmarshal([]byte(line), &d.ready); err != nil {
		t.Fatalf("daemon ready line %q: %v", line, err)
	}
	if d.ready.PeerAddr == "" || d.ready.DHTAddr == "" {
		t.Fatalf("ready line lacks addresses: %q", line)
	}
	return d
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write implements io.Writer.
func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// Lines returns the kept lines that contain any of words (all lines when
// words is empty), at most the last n.
func (b *tailBuffer) Lines(n int, words ...string) []string {
	b.mu.Lock()
	text := string(b.buf)
	b.mu.Unlock()
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line != "" && (len(words) == 0 || slices.ContainsFunc(words, func(w string) bool { return strings.Contains(line, w) })) {
			out = append(out, line)
		}
	}
	return out[max(0, len(out)-n):]
}

// stop sends SIGINT and expects a clean exit.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon exit after SIGINT: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not stop within 20s of SIGINT")
	}
}

func shoal(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, shoalBin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestCLIDaemonSearchGet(t *testing.T) {
	boot := startDaemon(t, "--bootstrap", "none")
	sn := startDaemon(t, "--bootstrap", boot.ready.DHTAddr, "--supernode")
	if sn.ready.SupernodeAddr == "" {
		t.Fatal("supernode daemon did not report supernode_addr")
	}
	src := filepath.Join(t.TempDir(), "Kestrel Migration Survey.csv")
	data := make([]byte, 3<<20+77)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	seed := startDaemon(t, "--bootstrap", boot.ready.DHTAddr, "--share", src)
	ih := seed.ready.Shared[src]
	if len(ih) != 40 {
		t.Fatalf("shared infohash %q", ih)
	}
	common := []string{"--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", boot.ready.DHTAddr}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var hit jsonHit
	deadline := time.Now().Add(60 * time.Second)
	for hit.InfoHash == "" && time.Now().Before(deadline) {
		out, _, err := shoal(ctx, append(append([]string{"search", "--data", t.TempDir(), "--json", "--timeout", "5s"}, common...), "kestrel", "survey")...)
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var h jsonHit
			if json.Unmarshal([]byte(line), &h) == nil && h.InfoHash == ih {
				hit = h
			}
		}
	}
	if hit.InfoHash == "" || hit.Sources < 1 || hit.Size != int64(len(data)) || !strings.HasPrefix(hit.Magnet, "magnet:?") {
		t.Fatalf("search hit = %+v, want infohash %s with a source and size %d", hit, ih, len(data))
	}
	// A search for its infohash, or its magnet link, finds it too
	// (engine's TestSearchByV2Hash searches by v2 infohash and pieces root).
	for _, q := range []string{strings.ToUpper(ih), hit.Magnet} {
		byHash, _, err := shoal(ctx, append(append([]string{"search", "--data", t.TempDir(), "--json", "--timeout", "30s"}, common...), q)...)
		if err != nil || !strings.Contains(byHash, `"infohash":"`+ih+`"`) {
			t.Fatalf("search for %s: %v, found %q", q, err, byHash)
		}
	}
	// A search ends once the supernodes asked have answered, not at --timeout.
	start := time.Now()
	found, _, err := shoal(ctx, append(append([]string{"search", "--data", t.TempDir(), "--json", "--timeout", "90s"}, common...), "kestrel")...)
	if took := time.Since(start); err != nil || !strings.Contains(found, ih) || took > 45*time.Second {
		t.Fatalf("search with --timeout 90s: %v after %v, found %q", err, took, found)
	} else {
		t.Logf("search with --timeout 90s ended after %v", took)
	}

	out := t.TempDir()
	stdout, stderr, err := shoal(ctx, append(append([]string{"get", "--quiet", "--data", t.TempDir(), "--out", out, "--timeout", "90s"}, common...), hit.Magnet)...)
	if err != nil {
		t.Fatalf("get: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, filepath.Base(src)))
	if err != nil || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("downloaded file differs or is missing: %v", err)
	}
	for _, d := range []*daemon{seed, sn, boot} {
		d.stop(t)
	}
}

func TestCLIGetFailsWithOneLineReason(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, stderr, err := shoal(ctx, "get", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none",
		"--data", t.TempDir(), "--out", t.TempDir(), "--timeout", "2s", strings.Repeat("ab", 20))
	if err == nil {
		t.Fatal("get of an unreachable infohash succeeded")
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "shoal: get: stopped") {
		t.Fatalf("last stderr line = %q, want a one-line reason", last)
	}
}

func TestCLILoopbackOnlyRefusesOtherAddresses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, stderr, err := shoal(ctx, "daemon", "--loopback-only", "--listen", "0.0.0.0:0", "--data", t.TempDir())
	if err == nil || !strings.Contains(stderr, "loopback-only") {
		t.Fatalf("daemon listening on all interfaces in loopback-only mode: err=%v stderr=%q", err, stderr)
	}
	_, _, err = shoal(ctx, "get", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "192.0.2.1:6881",
		"--data", t.TempDir(), "--timeout", "3s", strings.Repeat("cd", 20))
	if err == nil {
		t.Fatal("get with a non-loopback bootstrap succeeded")
	}
}

// TestCLIAllowNet checks --allow-net: listening or bootstrapping outside
// the listed networks fails with a message naming the address and the
// networks, and a malformed list is refused.
func TestCLIAllowNet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, stderr, err := shoal(ctx, "daemon", "--allow-net", "203.0.113.0/24", "--listen", "127.0.0.1:0", "--data", t.TempDir())
	if err == nil || !strings.Contains(stderr, "127.0.0.1") || !strings.Contains(stderr, "203.0.113.0/24") {
		t.Fatalf("daemon listening outside --allow-net: err=%v stderr=%q", err, stderr)
	}
	_, stderr, err = shoal(ctx, "get", "--allow-net", "127.0.0.0/8", "--listen", "127.0.0.1:0", "--bootstrap", "192.0.2.1:6881",
		"--data", t.TempDir(), "--timeout", "3s", strings.Repeat("cd", 20))
	if err == nil || !strings.Contains(stderr, "192.0.2.1") {
		t.Fatalf("get with a bootstrap outside --allow-net: err=%v stderr=%q", err, stderr)
	}
	_, stderr, err = shoal(ctx, "daemon", "--allow-net", "203.0.113.0/33", "--data", t.TempDir())
	if err == nil || !strings.Contains(stderr, "--allow-net") {
		t.Fatalf("malformed --allow-net accepted: err=%v stderr=%q", err, stderr)
	}
}

func TestCLICreate(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "album")
	os.MkdirAll(filepath.Join(src, "disc1"), 0o755)
	os.WriteFile(filepath.Join(src, "disc1", "track.ogg"), bytes.Repeat([]byte("x"), 100000), 0o644)
	os.WriteFile(filepath.Join(src, "cover.jpg"), bytes.Repeat([]byte("y"), 5000), 0o644)
	torrent := filepath.Join(dir, "album.torrent")
	stdout, stderr, err := shoal(context.Background(), "create", "--piece-length", "32768", "--tracker", "http://127.0.0.1:1/announce", "-o", torrent, src)
	if err != nil {
		t.Fatalf("create: %v %s", err, stderr)
	}
	if f := strings.Fields(stdout); len(f) != 3 || len(f[0]) != 40 || len(f[1]) != 64 {
		t.Fatalf("create output %q, want 'V1INFOHASH V2INFOHASH FILE' (a hybrid by default)", stdout)
	}
	b, _ := os.ReadFile(torrent)
	if !bytes.Contains(b, []byte("12:meta versioni2e")) || !bytes.Contains(b, []byte("4:attr1:p")) {
		t.Fatalf("default torrent is not a hybrid with pad files")
	}
	for flag, want := range map[string]int{"--v1": 2, "--v2": 2} {
		stdout, stderr, err := shoal(context.Background(), "create", flag, "-o", torrent+flag, src)
		f := strings.Fields(stdout)
		if err != nil || len(f) != want || (flag == "--v1" && len(f[0]) != 40) || (flag == "--v2" && len(f[0]) != 64) {
			t.Fatalf("create %s: %v %s %q", flag, err, stderr, stdout)
		}
	}
	b, err = os.ReadFile(torrent)
	if err != nil || !bytes.Contains(b, []byte("12:piece lengthi32768e")) || !bytes.Contains(b, []byte("announce")) {
		t.Fatalf("torrent file missing fields: %v", err)
	}
}

// TestCLIEncryptionFlag: a wrong --encryption value is refused with the
// choices named, before anything starts.
func TestCLIEncryptionFlag(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, stderr, err := shoal(ctx, "daemon", "--loopback-only", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--encryption", "always")
	if err == nil || !strings.Contains(stderr, "--encryption \"always\": choose prefer") {
		t.Fatalf("--encryption always: err=%v stderr=%q", err, stderr)
	}
}
