package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestSecondOpenOnOneFolderFails: while one engine runs on a folder, a
// second Open on it fails with ErrDataDirInUse naming the folder and this
// process; once the first has stopped, the folder can be opened again.
func TestSecondOpenOnOneFolderFails(t *testing.T) {
	cfg := enginetest.Config(t)
	e, err := engine.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)

	_, err = engine.Open(cfg)
	var inUse *engine.DataDirInUseError
	if !errors.Is(err, engine.ErrDataDirInUse) || !errors.As(err, &inUse) {
		cancel()
		t.Fatalf("second Open: got %v, want ErrDataDirInUse", err)
	}
	if inUse.PID != os.Getpid() || inUse.Dir != cfg.DataDir {
		t.Errorf("error names pid %d dir %q, want %d %q", inUse.PID, inUse.Dir, os.Getpid(), cfg.DataDir)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, cfg.DataDir) || !strings.Contains(msg, "--data") {
		t.Errorf("message is not one line naming the folder and what to do: %q", msg)
	}
	if _, err := engine.ReadRatio(cfg.DataDir); err != nil {
		t.Errorf("ReadRatio while the engine runs: %v", err)
	}

	cancel()
	select {
	case <-e.Stopped():
	case <-time.After(30 * time.Second):
		t.Fatal("engine did not stop")
	}
	enginetest.Start(t, cfg) // the lock was released by Run's return
}

// TestStaleLockFileIsIgnored: a lock file left by a dead process (its PID
// still inside) does not keep the folder taken; only a held flock does.
func TestStaleLockFileIsIgnored(t *testing.T) {
	cfg := enginetest.Config(t)
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "shoal.lock"), []byte("999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	enginetest.Start(t, cfg)
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, "shoal.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want this process's pid %d", got, os.Getpid())
	}
}

// TestFailedOpenReleasesLock: an Open that fails after taking the lock
// (here: the listen address is taken) leaves the folder free.
func TestFailedOpenReleasesLock(t *testing.T) {
	first := enginetest.Start(t, enginetest.Config(t))
	cfg := enginetest.Config(t)
	cfg.Listen = first.PeerAddr()
	if _, err := engine.Open(cfg); err == nil {
		t.Fatal("Open on a taken port succeeded")
	}
	cfg.Listen = "127.0.0.1:0"
	enginetest.Start(t, cfg)
}
