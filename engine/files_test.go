package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestSkipFiles: a skipped file of a multi-file torrent is not downloaded,
// the others are, and the transfer counts as done; its snapshot counts
// all three files.
func TestSkipFiles(t *testing.T) {
	a := enginetest.Start(t, enginetest.Config(t))
	bCfg := enginetest.Config(t)
	b := enginetest.Start(t, bCfg)
	dir := filepath.Join(t.TempDir(), "Album")
	for _, name := range []string{"a.flac", "b.flac", "c.flac"} {
		enginetest.RandomFile(t, dir, name, 3<<20)
	}
	ih, err := a.ShareSync(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The file is skipped before b knows a: skipped after, its pieces
	// may have arrived in between (a loaded machine, -race).
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: ih.String()}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetTransferOptions(ih, engine.TransferOptions{SkipFiles: []int{1}}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPeers(ih, a.PeerAddr()); err != nil {
		t.Fatal(err)
	}
	var tr engine.TransferSnapshot
	enginetest.WaitFor(t, "wanted files done", 60*time.Second, func() bool {
		tr, _ = enginetest.Transfer(b.Snapshot(), ih)
		return tr.Done()
	})
	if tr.Wanted >= tr.Size || tr.Have >= tr.Size {
		t.Fatalf("wanted %d have %d of %d: the skipped file was fetched", tr.Wanted, tr.Have, tr.Size)
	}
	if tr.Files != 3 {
		t.Errorf("snapshot counts %d files, want 3 (the Library's Files column)", tr.Files)
	}
	for _, name := range []string{"a.flac", "c.flac"} {
		want, _ := os.ReadFile(filepath.Join(dir, name))
		got, err := os.ReadFile(filepath.Join(bCfg.DataDir, "downloads", "Album", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s differs or is missing: %v", name, err)
		}
	}
	files, err := b.Files(ih)
	if err != nil || len(files) != 3 || files[1].Wanted || files[1].Have >= files[1].Size {
		t.Fatalf("files = %+v, %v; want b.flac unwanted and incomplete", files, err)
	}
}

// TestPausedTransferResumesAfterRestart: a transfer paused before a restart
// starts again when resumed.
func TestPausedTransferResumesAfterRestart(t *testing.T) {
	const size = 2 << 20
	a := enginetest.Start(t, enginetest.Config(t))
	bCfg := enginetest.Config(t)
	b := enginetest.Start(t, bCfg)
	src := enginetest.RandomFile(t, t.TempDir(), "paused.bin", size)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Pause(ih); err != nil { // nothing can be fetched yet
		t.Fatal(err)
	}
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: ih.String(), Peers: []string{a.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Pause(ih); err != nil {
		t.Fatal(err)
	}
	b.Stop()
	b2 := enginetest.Start(t, bCfg)
	if tr, ok := enginetest.Transfer(b2.Snapshot(), ih); !ok || tr.State != engine.StatePaused {
		t.Fatalf("after restart: %+v (found %v), want paused", tr, ok)
	}
	if err := a.Resume(ih); err != nil {
		t.Fatal(err)
	}
	if err := b2.Resume(ih); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "resumed download completes", 60*time.Second, func() bool {
		tr, _ := enginetest.Transfer(b2.Snapshot(), ih)
		return tr.Done()
	})
}
