package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestQueue, on real engines: B may run one download and one seed at
// once. Of three downloads the first runs and the others wait in order;
// moving the third up puts it first in line; a forced start runs the
// second at once; the order and the forced flag survive a restart; when
// the seeder comes back, the downloads finish one place at a time and the
// last finished one waits as a queued seed.
func TestQueue(t *testing.T) {
	a := enginetest.Start(t, enginetest.Config(t))
	bCfg := enginetest.Config(t)
	bCfg.Leaf = true
	b := enginetest.Start(t, bCfg)
	s := b.Settings()
	s.MaxActiveDownloads, s.MaxActiveSeeds = 1, 1
	if err := b.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var ih [3]engine.InfoHash
	for i := range ih {
		src := enginetest.RandomFile(t, dir, fmt.Sprintf("queue-%d.bin", i), 300<<10+i)
		h, err := a.ShareSync(context.Background(), src, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Pause(h); err != nil { // nothing can be fetched yet
			t.Fatal(err)
		}
		ih[i] = h
	}
	for _, h := range ih {
		if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: h.String(), Peers: []string{a.PeerAddr()}}); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(n *enginetest.Node, what string, want [3]string) {
		t.Helper()
		var got [3]string
		enginetest.WaitFor(t, what, 10*time.Second, func() bool {
			snap := n.Snapshot()
			for i, h := range ih {
				tr, _ := enginetest.Transfer(snap, h)
				got[i] = queueText(tr)
			}
			return got == want
		})
	}
	expect(b, "first runs, two wait", [3]string{"running", "queued 1", "queued 2"})
	if err := b.MoveInQueue(ih[2], true); err != nil {
		t.Fatal(err)
	}
	expect(b, "third moved up", [3]string{"running", "queued 2", "queued 1"})
	if err := b.MoveInQueue(ih[0], true); err != nil { // already first: nothing moves
		t.Fatal(err)
	}
	if err := b.ForceStart(ih[1]); err != nil {
		t.Fatal(err)
	}
	expect(b, "second forced", [3]string{"running", "running", "queued 1"})

	b.Stop()
	b = enginetest.Start(t, bCfg)
	expect(b, "after a restart", [3]string{"running", "running", "queued 1"})

	for _, h := range ih {
		if err := a.Resume(h); err != nil {
			t.Fatal(err)
		}
		if err := b.AddPeers(h, a.PeerAddr()); err != nil {
			t.Fatal(err)
		}
	}
	// The first finishes and seeds (the one seed place), the forced one
	// finishes outside the caps, and the third then downloads in the
	// freed download place and, finished, waits for a seed place.
	expect(b, "all downloaded", [3]string{"seeding", "seeding", "queued 1 (complete)"})
	if err := b.Pause(ih[0]); err != nil {
		t.Fatal(err)
	}
	expect(b, "a seed place freed", [3]string{"paused", "seeding", "seeding"})
}

// queueText sums up a transfer's queue state for TestQueue.
func queueText(tr engine.TransferSnapshot) string {
	switch {
	case tr.State == engine.StateQueued && tr.Size > 0 && tr.Have == tr.Size:
		return fmt.Sprintf("queued %d (complete)", tr.Queued)
	case tr.State == engine.StateQueued:
		return fmt.Sprintf("queued %d", tr.Queued)
	case tr.State == engine.StateSeeding || tr.State == engine.StatePaused:
		return string(tr.State)
	case tr.Queued != 0:
		return fmt.Sprintf("bad: %s with place %d", tr.State, tr.Queued)
	}
	return "running"
}
