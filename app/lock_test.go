package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondDaemonOnOneFolderRefuses: a second `shoal daemon` on a data
// folder that a running one holds exits non-zero with one line naming the
// folder and the first one's PID, without touching shoal.db or its WAL
// files. The first daemon is stopped (SIGSTOP) meanwhile so that nothing
// else can change the files, then goes on serving.
func TestSecondDaemonOnOneFolderRefuses(t *testing.T) {
	dir := t.TempDir()
	first := startDaemon(t, "--data", dir, "--bootstrap", "none")
	if err := first.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	before := sumDB(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, stderr, err := shoal(ctx, "daemon", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none", "--data", dir)
	after := sumDB(t, dir)
	first.cmd.Process.Signal(syscall.SIGCONT)

	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("second daemon: err %v, want a non-zero exit; stderr %q", err, stderr)
	}
	lines := shoalLines(stderr)
	pid := strconv.Itoa(first.cmd.Process.Pid)
	if len(lines) != 1 || !strings.Contains(lines[0], dir) || !strings.Contains(lines[0], "process "+pid) {
		t.Errorf("stderr is not one line naming %s and process %s: %q", dir, pid, stderr)
	}
	if !maps.Equal(before, after) {
		t.Errorf("the refused daemon changed the database files:\nbefore %v\nafter  %v", before, after)
	}
	out, _, err := shoal(ctx, "ratio", "--data", dir)
	if err != nil || !strings.Contains(out, "uploaded") {
		t.Errorf("shoal ratio while the daemon runs: %v %q", err, out)
	}
	first.stop(t)
}

// TestDaemonAfterKill9TakesFolder: a daemon killed with SIGKILL leaves its
// PID in shoal.lock, but the kernel has dropped its lock, so the next
// daemon on that folder starts.
func TestDaemonAfterKill9TakesFolder(t *testing.T) {
	dir := t.TempDir()
	first := startDaemon(t, "--data", dir, "--bootstrap", "none")
	first.cmd.Process.Kill()
	first.cmd.Wait()
	b, err := os.ReadFile(filepath.Join(dir, "shoal.lock"))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(first.cmd.Process.Pid) {
		t.Fatalf("lock file after kill: %q %v, want the killed pid", b, err)
	}
	second := startDaemon(t, "--data", dir, "--bootstrap", "none")
	second.stop(t)
}

// sumDB hashes shoal.db and its -wal and -shm files ("absent" if missing).
func sumDB(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, name := range []string{"shoal.db", "shoal.db-wal", "shoal.db-shm"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			sums[name] = "absent"
		case err != nil:
			t.Fatal(err)
		default:
			sums[name] = fmt.Sprintf("%d bytes, sha256 %x", len(b), sha256.Sum256(b))
		}
	}
	return sums
}

// shoalLines are the lines of a command's stderr that Shoal wrote (not a
// library's warnings).
func shoalLines(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "shoal:") {
			lines = append(lines, l)
		}
	}
	return lines
}
