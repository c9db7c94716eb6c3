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

// TestCreditAndRatioSurviveRestart: what a peer took from us, and our
// all-time ratio, are the same after the engine restarts from SQLite.
func TestCreditAndRatioSurviveRestart(t *testing.T) {
	const size = 3 << 20
	aCfg := enginetest.Config(t)
	a := enginetest.Start(t, aCfg)
	b := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "credit.bin", size)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: ih.String(), Peers: []string{a.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	bID, err := engine.ParseInfoHash(b.Snapshot().Net.PeerID)
	if err != nil {
		t.Fatal(err)
	}
	key := engine.PeerKeyFromID(bID)
	enginetest.WaitFor(t, "A records what B took", 60*time.Second, func() bool {
		_, took := a.Credit(key, bID)
		return took == size
	})
	before := a.Snapshot().Ratio
	a.Stop()
	a2 := enginetest.Start(t, aCfg)
	if gave, took := a2.Credit(key, bID); took != size || gave != 0 {
		t.Fatalf("after restart B's credit = gave %d took %d, want 0 and %d", gave, took, size)
	}
	after := a2.Snapshot().Ratio
	if after.Uploaded != before.Uploaded || after.Downloaded != before.Downloaded || after.Uploaded != size {
		t.Fatalf("all-time ratio before %+v, after restart %+v", before, after)
	}
	if after.SessionUploaded != 0 {
		t.Fatalf("session counters carried over a restart: %+v", after)
	}
	if a2.Snapshot().Net.PeerID != a.Snapshot().Net.PeerID {
		t.Fatal("peer ID changed across a restart")
	}
}
