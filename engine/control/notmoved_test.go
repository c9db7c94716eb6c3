package control_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/control"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestStatusShowsFailedMove: a finished download that could not move to
// the folder for finished downloads (a file is in the way) is in status
// as not_moved, with the folder and the reason in words, after the
// instance restarts too; a Move that succeeds clears it.
func TestStatusShowsFailedMove(t *testing.T) {
	a := enginetest.Start(t, enginetest.Config(t))
	b := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "Tape 3.wav", 150<<10+1)
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
	enginetest.WaitFor(t, "the failed move", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(b.Snapshot(), ih)
		return ok && tr.MoveErr != ""
	})
	b.Stop()

	b2 := enginetest.Start(t, b.Config)
	dir := b2.Config.DataDir
	srv, err := control.Listen(dir, b2.Engine, nil)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	notMoved := func() *control.NotMoved {
		st, err := control.GetStatus(ctx(t), dir)
		if err != nil || len(st.Transfers) != 1 {
			t.Fatalf("status: %+v, %v", st, err)
		}
		return st.Transfers[0].NotMoved
	}
	enginetest.WaitFor(t, "the transfer after the restart", 30*time.Second, func() bool {
		_, ok := enginetest.Transfer(b2.Snapshot(), ih)
		return ok
	})
	want := control.NotMoved{To: done, Why: "a file of that name is in the way"}
	if got := notMoved(); got == nil || *got != want {
		t.Fatalf("not_moved after a restart: %+v, want %+v", got, want)
	}
	os.Remove(done)
	if err := b2.Move(ih, done); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "not_moved to clear after a Move", 30*time.Second, func() bool { return notMoved() == nil })
}
