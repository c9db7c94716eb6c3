package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestMoveCompletedTo: with "move finished downloads to" set, B's download
// lands in its download folder while it runs and in the chosen folder once
// it has finished, where B goes on seeding it (C gets every byte from B
// alone). A relative folder is refused with the setting unchanged.
func TestMoveCompletedTo(t *testing.T) {
	a := enginetest.Start(t, enginetest.Config(t))
	b := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "Field Recording 7.flac", 700<<10+3)
	want, _ := os.ReadFile(src)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := filepath.Join(t.TempDir(), "Finished")
	s := b.Settings()
	s.MoveCompletedTo = "relative/folder"
	if err := b.SetSettings(s); err == nil {
		t.Fatal("a relative folder was accepted")
	}
	s.MoveCompletedTo = done
	if err := b.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(ih, ""), Peers: []string{a.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(done, "Field Recording 7.flac")
	enginetest.WaitFor(t, "B's finished download to move", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(b.Snapshot(), ih)
		return ok && tr.Done() && tr.Dir == done
	})
	if got, err := os.ReadFile(moved); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("moved file: %v (equal %v)", err, bytes.Equal(got, want))
	}
	if _, err := os.Stat(filepath.Join(b.DownloadDir(), "Field Recording 7.flac")); !os.IsNotExist(err) {
		t.Fatalf("the file is still in the download folder: %v", err)
	}

	a.Stop()
	c := enginetest.Start(t, enginetest.Config(t))
	dl := t.TempDir()
	if _, err := c.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(ih, ""), Dir: dl, Peers: []string{b.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "C gets the file from B's new folder", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(c.Snapshot(), ih)
		return ok && tr.Done()
	})
	if got, _ := os.ReadFile(filepath.Join(dl, "Field Recording 7.flac")); !bytes.Equal(got, want) {
		t.Fatal("C's copy differs")
	}
}

// TestMoveCompletedToFails: when the finished download cannot move (the
// chosen folder became a file, which even root cannot write into), B's
// snapshot says why and where to (MoveErr, MoveTo) while it seeds on from
// the download folder; a Move by hand that succeeds clears it.
func TestMoveCompletedToFails(t *testing.T) {
	a := enginetest.Start(t, enginetest.Config(t))
	b := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "Field Recording 8.flac", 300<<10+5)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := filepath.Join(t.TempDir(), "Finished")
	s := b.Settings()
	s.MoveCompletedTo = done
	if err := b.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(done); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(done, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(ih, ""), Peers: []string{a.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	var tr engine.TransferSnapshot
	enginetest.WaitFor(t, "B's failed move to show in its snapshot", 60*time.Second, func() bool {
		var ok bool
		tr, ok = enginetest.Transfer(b.Snapshot(), ih)
		return ok && tr.MoveErr != ""
	})
	if !strings.Contains(tr.MoveErr, "not a directory") || tr.MoveTo != done {
		t.Errorf("MoveErr %q, MoveTo %q: want the reason and %s", tr.MoveErr, tr.MoveTo, done)
	}
	if tr.Dir != b.DownloadDir() || !tr.Done() || tr.State != engine.StateSeeding {
		t.Errorf("after the failed move: dir %s, done %v, state %s; want it seeding from %s", tr.Dir, tr.Done(), tr.State, b.DownloadDir())
	}
	if _, err := os.Stat(filepath.Join(b.DownloadDir(), "Field Recording 8.flac")); err != nil {
		t.Fatalf("the file left the download folder: %v", err)
	}

	os.Remove(done)
	if err := b.Move(ih, done); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "the failure to clear after a Move by hand", 60*time.Second, func() bool {
		tr, _ = enginetest.Transfer(b.Snapshot(), ih)
		return tr.MoveErr == "" && tr.MoveTo == "" && tr.Dir == done
	})
}

// TestMoveFailureSurvivesRestart: a failed automatic move is still in B's
// snapshot after B restarts on the same data folder (it is kept in
// SQLite); a Move by hand that succeeds clears it for good, restart
// included.
func TestMoveFailureSurvivesRestart(t *testing.T) {
	a := enginetest.Start(t, enginetest.Config(t))
	b := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "Field Recording 9.flac", 200<<10+7)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := filepath.Join(t.TempDir(), "Finished")
	s := b.Settings()
	s.MoveCompletedTo = done
	if err := b.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	os.Remove(done)
	if err := os.WriteFile(done, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(ih, ""), Peers: []string{a.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	var before engine.TransferSnapshot
	enginetest.WaitFor(t, "B's failed move to show", 60*time.Second, func() bool {
		var ok bool
		before, ok = enginetest.Transfer(b.Snapshot(), ih)
		return ok && before.MoveErr != ""
	})
	a.Stop()
	b.Stop()

	b2 := enginetest.Start(t, b.Config)
	enginetest.WaitFor(t, "the failed move to show after a restart", 30*time.Second, func() bool {
		tr, ok := enginetest.Transfer(b2.Snapshot(), ih)
		return ok && tr.MoveErr == before.MoveErr && tr.MoveTo == done
	})
	os.Remove(done)
	if err := b2.Move(ih, done); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "the failure to clear after a Move by hand", 30*time.Second, func() bool {
		tr, _ := enginetest.Transfer(b2.Snapshot(), ih)
		return tr.MoveErr == "" && tr.Dir == done
	})
	b2.Stop()

	b3 := enginetest.Start(t, b.Config)
	enginetest.WaitFor(t, "the moved download after another restart", 30*time.Second, func() bool {
		_, ok := enginetest.Transfer(b3.Snapshot(), ih)
		return ok
	})
	if tr, _ := enginetest.Transfer(b3.Snapshot(), ih); tr.MoveErr != "" || tr.Dir != done {
		t.Fatalf("after a successful move and a restart: MoveErr %q, dir %s; want none and %s", tr.MoveErr, tr.Dir, done)
	}
}
