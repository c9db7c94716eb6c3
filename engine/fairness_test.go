package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestRatioTargetStopsWithinOnePiece: B downloads from the seed, then is
// the only source for C, with a share-ratio target of 0.5. B must stop
// seeding having uploaded between half the content and half plus one piece.
func TestRatioTargetStopsWithinOnePiece(t *testing.T) {
	const size = 8 << 20
	seed := enginetest.Start(t, enginetest.Config(t))
	b := enginetest.Start(t, enginetest.Config(t))
	c := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "ratio-target.bin", size)
	ih, err := seed.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.Download(ctx, engine.DownloadRequest{Source: ih.String(), Peers: []string{seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "B completes", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(b.Snapshot(), ih)
		return ok && tr.Size == size && tr.Have == size
	})
	if err := seed.Pause(ih); err != nil { // C may only get data from B
		t.Fatal(err)
	}
	half := 0.5
	if err := b.SetTransferOptions(ih, engine.TransferOptions{RatioTarget: &half}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Download(ctx, engine.DownloadRequest{Source: ih.String(), Peers: []string{b.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	var tr engine.TransferSnapshot
	enginetest.WaitFor(t, "B stops seeding at its target", 60*time.Second, func() bool {
		tr, _ = enginetest.Transfer(b.Snapshot(), ih)
		return tr.State == engine.StatePaused && tr.Uploaded >= size/2
	})
	time.Sleep(1500 * time.Millisecond) // one more flush: nothing may trickle out after the stop
	tr, _ = enginetest.Transfer(b.Snapshot(), ih)
	pieceLen := tr.Size / int64(tr.Pieces)
	if tr.Uploaded < size/2 || tr.Uploaded > size/2+pieceLen {
		t.Fatalf("B uploaded %d bytes; target is %d, allowed up to one piece (%d) more", tr.Uploaded, size/2, pieceLen)
	}
	ct, _ := enginetest.Transfer(c.Snapshot(), ih)
	if ct.Have >= size {
		t.Fatalf("C completed (%d bytes) although its only source stopped at half", ct.Have)
	}
	t.Logf("B uploaded %d of target %d (piece %d); C has %d", tr.Uploaded, size/2, pieceLen, ct.Have)
}
