package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// scaleShares is how many single-file shares TestManySharesUnderFDLimit
// makes: three times the usual soft limit of 1024 open files.
const scaleShares = 3000

// TestManySharesUnderFDLimit shares 3,000 small files from one daemon
// whose open-file limit is the usual 1024, then restarts it on the same
// data folder. Each share used to keep its files open, so the daemon died
// with "too many open files"; now handles come from one bounded cache and
// the daemon serves with a few dozen descriptors. A download of one of the
// items from the restarted daemon shows the library is really seeded.
func TestManySharesUnderFDLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 3,000 files")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to lower the file limit with ulimit")
	}
	src := t.TempDir()
	paths := make([]string, scaleShares)
	for i := range paths {
		paths[i] = filepath.Join(src, fmt.Sprintf("item-%04d.bin", i))
		if err := os.WriteFile(paths[i], scaleContent(i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := t.TempDir()
	args := []string{"daemon", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none", "--data", data}
	for _, p := range paths {
		args = append(args, "--share", p)
	}
	d := startLimited(t, 1024, args, 3*time.Minute)
	if len(d.ready.Shared) != scaleShares {
		t.Fatalf("daemon shared %d items, want %d", len(d.ready.Shared), scaleShares)
	}
	ih := d.ready.Shared[paths[1234]]
	settle(t, d, 2*time.Second)
	d.stop(t)

	d = startLimited(t, 1024, args[:8], time.Minute) // the library comes from shoal.db
	settle(t, d, 2*time.Second)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	_, stderr, err := shoal(ctx, "get", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none",
		"--data", t.TempDir(), "--out", out, "--quiet", "--peer", d.ready.PeerAddr, ih)
	if err != nil {
		t.Fatalf("get %s from the restarted daemon: %v\n%s", ih, err, stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, "item-1234.bin"))
	if err != nil || !bytes.Equal(got, scaleContent(1234)) {
		t.Fatalf("downloaded item-1234.bin differs from the shared one (err %v)", err)
	}
	t.Logf("after the download the daemon holds %d descriptors", openFDs(t, d.cmd.Process.Pid))
	d.stop(t)
}

// scaleContent is the distinct content of share i (a few KiB).
func scaleContent(i int) []byte {
	b := bytes.Repeat([]byte(fmt.Sprintf("shoal scale item %d\n", i)), 200)
	return b[:len(b)-i%97]
}

// startLimited runs shoal with args under `ulimit -n limit` and waits up
// to wait for its ready line.
func startLimited(t *testing.T, limit int, args []string, wait time.Duration) *daemon {
	t.Helper()
	sh := append([]string{"-c", `ulimit -n "$0" && exec "$@"`, strconv.Itoa(limit), shoalBin}, args...)
	cmd := exec.Command("sh", sh...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(wait):
		t.Fatalf("no ready line within %v; stderr:\n%s", wait, tail(stderr.String()))
	}
	if err := json.Unmarshal([]byte(line), &d.ready); err != nil {
		cmd.Wait()
		t.Fatalf("daemon under ulimit -n %d gave no ready line (%v); stderr:\n%s", limit, err, tail(stderr.String()))
	}
	return d
}

// settle lets the daemon run for a while, then checks it is still alive
// and far from the limit.
func settle(t *testing.T, d *daemon, wait time.Duration) {
	t.Helper()
	time.Sleep(wait)
	if err := d.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("daemon died: %v", err)
	}
	if n := openFDs(t, d.cmd.Process.Pid); n > 300 {
		t.Fatalf("daemon holds %d open descriptors, want under 300", n)
	} else {
		t.Logf("daemon holds %d open descriptors", n)
	}
}

// openFDs counts a process's open file descriptors (Linux /proc).
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

// tail keeps the end of a long log.
func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
