package engine_test

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

func sha256File(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestShareSearchDownloadRestart is the first end-to-end path: A shares, S is
// a supernode, B searches, finds A, downloads by infohash alone (peers from
// the DHT), and after a restart B still has it without fetching again.
func TestShareSearchDownloadRestart(t *testing.T) {
	const size = 6<<20 + 4321
	boot := enginetest.Start(t, enginetest.Config(t))
	sCfg := enginetest.Config(t, boot.DHTAddr())
	sCfg.Supernode = true
	s := enginetest.Start(t, sCfg)
	a := enginetest.Start(t, enginetest.Config(t, boot.DHTAddr()))
	bCfg := enginetest.Config(t, boot.DHTAddr())
	b := enginetest.Start(t, bCfg)

	src := enginetest.RandomFile(t, t.TempDir(), "Aurora Borealis Timelapse.mkv", size)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}

	var hit engine.Hit
	enginetest.WaitFor(t, "search hit for 'borealis'", 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hits, err := b.Search(ctx, "borealis")
		if err != nil {
			return false
		}
		for h := range hits {
			if h.InfoHash == ih {
				hit = h
			}
		}
		return !hit.InfoHash.IsZero()
	})
	if !slices.Contains(hit.Sources, a.PeerAddr()) {
		t.Fatalf("hit sources %v do not include A at %s", hit.Sources, a.PeerAddr())
	}
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: ih.String()}); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "B completes", 90*time.Second, func() bool {
		tr, ok := enginetest.Transfer(b.Snapshot(), ih)
		return ok && tr.Size == size && tr.Have == size
	})
	got := sha256File(t, filepath.Join(bCfg.DataDir, "downloads", "Aurora Borealis Timelapse.mkv"))
	if got != sha256File(t, src) {
		t.Fatal("B's file differs from A's")
	}
	enginetest.WaitFor(t, "ratio counters settle", 10*time.Second, func() bool {
		return a.Snapshot().Ratio.Uploaded == size && b.Snapshot().Ratio.Downloaded == size
	})
	_ = s

	b.Stop()
	b2 := enginetest.Start(t, bCfg)
	snap := b2.Snapshot()
	tr, ok := enginetest.Transfer(snap, ih)
	if !ok || tr.Have != size {
		t.Fatalf("after restart transfer = %+v (found %v), want complete", tr, ok)
	}
	if snap.Ratio.Downloaded != size || snap.Ratio.SessionDownloaded != 0 {
		t.Fatalf("after restart ratio = %+v, want all-time download %d kept and nothing fetched", snap.Ratio, size)
	}
}
