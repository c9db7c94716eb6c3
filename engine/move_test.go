package engine_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestMoveFinishedDownload: B downloads a file from A, then moves it to
// another folder: the file is there and no longer in the old one, B seeds
// it from there (C downloads it from B alone) and a restart keeps the new
// folder. A download without metadata, a shared item and a destination
// that already holds the name are refused with nothing moved.
func TestMoveFinishedDownload(t *testing.T) {
	a := enginetest.Start(t, enginetest.Config(t))
	bCfg := enginetest.Config(t)
	b := enginetest.Start(t, bCfg)
	src := enginetest.RandomFile(t, t.TempDir(), "Lecture 3.mkv", 600<<10+9)
	want, _ := os.ReadFile(src)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "lecture.torrent")
	if err := a.SaveTorrent(ih, torrent); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: torrent, Peers: []string{a.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "B completes", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(b.Snapshot(), ih)
		return ok && tr.Done()
	})
	oldDir := b.DownloadDir()

	taken := t.TempDir()
	if err := os.WriteFile(filepath.Join(taken, "Lecture 3.mkv"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Move(ih, taken); !errors.Is(err, engine.ErrExists) {
		t.Fatalf("move onto an existing file: %v, want ErrExists", err)
	}
	if err := a.Move(ih, taken); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("move of a shared item: %v, want ErrNotFound", err)
	}
	var lone engine.InfoHash
	lone[0] = 0x77
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: lone.String()}); err != nil {
		t.Fatal(err)
	}
	if err := b.Move(lone, taken); !errors.Is(err, engine.ErrNoMetadata) {
		t.Fatalf("move without metadata: %v, want ErrNoMetadata", err)
	}

	newDir := filepath.Join(t.TempDir(), "Videos", "Lectures")
	if err := b.Move(ih, newDir); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(newDir, "Lecture 3.mkv")); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("moved file differs or is missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(oldDir, "Lecture 3.mkv")); !os.IsNotExist(err) {
		t.Fatalf("the old copy is still there: %v", err)
	}
	if tr, _ := enginetest.Transfer(b.Snapshot(), ih); tr.Dir != newDir || !tr.Done() {
		t.Fatalf("after the move B lists %+v, want done in %s", tr, newDir)
	}

	cCfg := enginetest.Config(t)
	c := enginetest.Start(t, cCfg)
	if _, err := c.Download(context.Background(), engine.DownloadRequest{Source: torrent, Peers: []string{b.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "C completes from B's moved copy", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(c.Snapshot(), ih)
		return ok && tr.Done()
	})
	if got, err := os.ReadFile(filepath.Join(c.DownloadDir(), "Lecture 3.mkv")); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("C's copy differs or is missing: %v", err)
	}

	b.Stop()
	b = enginetest.Start(t, bCfg)
	enginetest.WaitFor(t, "B back, seeding from the new folder", 30*time.Second, func() bool {
		tr, ok := enginetest.Transfer(b.Snapshot(), ih)
		return ok && tr.Dir == newDir && tr.Done()
	})
}
