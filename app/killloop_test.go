package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// TestKill9LoopKeepsEveryVerifiedByte kills `shoal get` with SIGKILL 30
// times at random moments of a throttled 64 MiB download, lets the 31st
// run finish, and checks the ledger: all-time downloaded is at least the
// file (every verified byte came from the network, and each is counted
// although a kill may come between a piece and the next flush), the file
// is right, and the database passes PRAGMA integrity_check.
func TestKill9LoopKeepsEveryVerifiedByte(t *testing.T) {
	const size, kills = 64 << 20, 30
	src := filepath.Join(t.TempDir(), "Kill Loop.bin")
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	seed := startDaemon(t, "--bootstrap", "none", "--share", src)
	ih := seed.ready.Shared[src]
	dataDir, out := t.TempDir(), t.TempDir()
	args := []string{"get", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none",
		"--data", dataDir, "--out", out, "--timeout", "2m", "--peer", seed.ready.PeerAddr, ih}
	// At 2 MiB/s each run lives 0.3–1.3 s (start-up included), so 30 runs
	// fetch part of the file and leave the rest for the last one. (The
	// limit is a flag, not a proxy: a resumed get also dials the peers it
	// saved, which a proxy would not sit in front of.)
	limited := append([]string{"get", "--max-down", "2MiB"}, args[1:]...)
	for i := 0; i < kills; i++ {
		killAfter(t, limited, randomDuration(300*time.Millisecond, 1300*time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if stdout, stderr, err := shoal(ctx, args...); err != nil {
		t.Fatalf("last get: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, filepath.Base(src)))
	if err != nil || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("file after %d kills differs or is missing: %v", kills, err)
	}
	stdout, stderr, err := shoal(ctx, "ratio", "--data", dataDir)
	if err != nil {
		t.Fatalf("shoal ratio: %v\n%s", err, stderr)
	}
	var r struct{ Downloaded int64 }
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("shoal ratio output %q: %v", stdout, err)
	}
	t.Logf("after %d kills: all-time downloaded %d for a %d-byte file (%.3f×)", kills, r.Downloaded, size, float64(r.Downloaded)/size)
	if r.Downloaded < size {
		t.Fatalf("all-time downloaded %d < file size %d: verified bytes were lost to kill -9", r.Downloaded, size)
	}
	checkIntegrity(t, filepath.Join(dataDir, "shoal.db"))
}

// killAfter starts shoal with args and SIGKILLs it after d (or lets it be
// if it has already exited).
func killAfter(t *testing.T, args []string, d time.Duration) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(shoalBin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("get exited before its kill: %v\n%s", err, stderr.String())
	case <-time.After(d):
	}
	cmd.Process.Kill()
	<-exited
}

func randomDuration(lo, hi time.Duration) time.Duration {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(hi-lo)))
	return lo + time.Duration(n.Int64())
}

// checkIntegrity runs PRAGMA integrity_check on an SQLite file.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check of %s: %q, %v", path, res, err)
	}
}
