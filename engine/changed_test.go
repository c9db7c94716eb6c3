package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestChangedAnnouncesCompletion: a caller that waits on Changed, without
// polling, learns that its download completed, and the snapshot it takes
// then shows the transfer done. The next Changed channel is a fresh one.
func TestChangedAnnouncesCompletion(t *testing.T) {
	seed, src, ih := seederWithFile(t, 3<<20+17)
	leech := enginetest.Start(t, enginetest.Config(t))
	changed := leech.Changed()
	dl := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(ih, ""), Dir: dl,
		Peers: []string{seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case <-changed:
		case <-time.After(60 * time.Second):
			t.Fatal("Changed not closed within 60 s of starting the download")
		}
		tr, ok := enginetest.Transfer(leech.Snapshot(), ih)
		if ok && tr.Done() {
			break
		}
		changed = leech.Changed() // some other change: wait for the next
	}
	select {
	case <-leech.Changed():
		t.Fatal("the channel after the completion is already closed")
	default:
	}
	waitComplete(t, leech, ih, filepath.Join(dl, "honest.bin"), src)
}
