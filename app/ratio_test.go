package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRatioSurvivesKill9: a seeder killed with SIGKILL after serving a
// download keeps its all-time upload count, readable with `shoal ratio`,
// and a restarted daemon on the same folder still has it.
func TestRatioSurvivesKill9(t *testing.T) {
	const size = 2<<20 + 99
	src := filepath.Join(t.TempDir(), "ledger.bin")
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	seed := startDaemon(t, "--bootstrap", "none", "--share", src)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, stderr, err := shoal(ctx, "get", "--quiet", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none",
		"--data", t.TempDir(), "--out", t.TempDir(), "--peer", seed.ready.PeerAddr, seed.ready.Shared[src]); err != nil {
		t.Fatalf("get: %v: %s", err, stderr)
	}
	// The ledger is flushed every second; give it a few, then pull the plug.
	var r ratioJSON
	deadline := time.Now().Add(20 * time.Second)
	for r = readRatio(t, seed.ready.DataDir); r.Uploaded < size && time.Now().Before(deadline); r = readRatio(t, seed.ready.DataDir) {
		time.Sleep(200 * time.Millisecond)
	}
	seed.cmd.Process.Signal(syscall.SIGKILL)
	seed.cmd.Wait()
	if r = readRatio(t, seed.ready.DataDir); r.Uploaded != size {
		t.Fatalf("after kill -9: uploaded %d, want %d", r.Uploaded, size)
	}
	again := startDaemon(t, "--bootstrap", "none", "--data", seed.ready.DataDir) // a later --data wins over startDaemon's own
	again.stop(t)
	if r = readRatio(t, seed.ready.DataDir); r.Uploaded != size {
		t.Fatalf("after a restart: uploaded %d, want %d", r.Uploaded, size)
	}
}

type ratioJSON struct {
	Uploaded   int64 `json:"uploaded"`
	Downloaded int64 `json:"downloaded"`
}

func readRatio(t *testing.T, dir string) ratioJSON {
	t.Helper()
	out, stderr, err := shoal(context.Background(), "ratio", "--data", dir)
	if err != nil {
		t.Fatalf("shoal ratio: %v: %s", err, stderr)
	}
	var r ratioJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("shoal ratio output %q: %v", out, err)
	}
	return r
}
