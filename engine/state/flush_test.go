package state

import (
	"context"
	"errors"
	"testing"
)

// TestFlushRecordsPiecesWithTheirBytes: traffic and progress land together;
// bytes found again after a crash count toward the totals and the transfer
// but credit nobody; the checked flag only ever goes from false to true.
func TestFlushRecordsPiecesWithTheirBytes(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	dl := sampleTransfer(1) // Uploaded 10, Downloaded 20 to start
	if err := db.PutTransfer(ctx, dl); err != nil {
		t.Fatal(err)
	}
	peer := hash(100)
	batch := []Traffic{
		{InfoHash: dl.InfoHash, PeerID: peer, Key: PeerKeyFromIP("127.0.0.1"), Up: 5, Down: 1000},
		{InfoHash: dl.InfoHash, Down: 300}, // found again by a recheck
	}
	prog := []Progress{{InfoHash: dl.InfoHash, Bitfield: []byte{0xc0}, State: "downloading", Checked: true}}
	if err := db.Flush(ctx, batch, prog); err != nil {
		t.Fatal(err)
	}
	wantTotals(t, db, 5, 1300)
	got, err := db.Transfer(ctx, dl.InfoHash)
	if err != nil || got.Downloaded != 20+1300 || string(got.Bitfield) != "\xc0" || !got.Checked {
		t.Fatalf("transfer after flush = %+v, %v", got, err)
	}
	if c, err := db.Credit(ctx, [20]byte{}, PeerKey{}); err != nil || c.Downloaded != 0 {
		t.Fatalf("recovered bytes credited a peer: %+v, %v", c, err)
	}
	if c, err := db.Credit(ctx, peer, PeerKeyFromIP("127.0.0.1")); err != nil || c.Downloaded != 1000 {
		t.Fatalf("peer credit = %+v, %v; want 1000 downloaded", c, err)
	}
	prog[0].Checked, prog[0].Bitfield = false, []byte{0xe0}
	if err := db.Flush(ctx, nil, prog); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Transfer(ctx, dl.InfoHash); !got.Checked || string(got.Bitfield) != "\xe0" {
		t.Fatalf("second flush: checked %v bitfield %x; checked must stay, bitfield move", got.Checked, got.Bitfield)
	}
}

// TestFlushIsAllOrNothing: a bad entry rejects the progress too.
func TestFlushIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	dl := sampleTransfer(1)
	if err := db.PutTransfer(ctx, dl); err != nil {
		t.Fatal(err)
	}
	err := db.Flush(ctx, []Traffic{{InfoHash: dl.InfoHash, Down: -1}},
		[]Progress{{InfoHash: dl.InfoHash, Bitfield: []byte{0xff}, State: "seeding"}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Flush with negative bytes = %v, want ErrInvalid", err)
	}
	if got, _ := db.Transfer(ctx, dl.InfoHash); string(got.Bitfield) == "\xff" {
		t.Fatal("progress recorded although its batch was rejected")
	}
}
