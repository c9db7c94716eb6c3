package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestTransferQueue: new transfers go last, an update keeps the place, a
// new order and the forced flag are stored, and both survive a reopen.
func TestTransferQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openTest(t)
	for i := byte(1); i <= 3; i++ {
		if err := db.PutTransfer(ctx, TransferRow{InfoHash: hash(i), Name: "t", State: "downloading", Added: time.Unix(int64(100-i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	// An update (a state change) keeps the place.
	if err := db.PutTransfer(ctx, TransferRow{InfoHash: hash(1), Name: "t", State: "paused"}); err != nil {
		t.Fatal(err)
	}
	check := func(db *DB, want ...byte) {
		t.Helper()
		q, err := db.TransferQueue(ctx)
		if err != nil || len(q) != len(want) {
			t.Fatalf("queue %+v, %v", q, err)
		}
		for i, w := range want {
			if q[i].InfoHash != hash(w) {
				t.Fatalf("queue place %d holds %x, want %x", i, q[i].InfoHash[:1], w)
			}
		}
	}
	check(db, 1, 2, 3)
	if err := db.SetQueueOrder(ctx, [][20]byte{hash(3), hash(1), hash(2)}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetForced(ctx, hash(2), true); err != nil {
		t.Fatal(err)
	}
	if err := db.SetForced(ctx, hash(9), true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("forced on a missing transfer: %v", err)
	}
	check(db, 3, 1, 2)
	db.Close()
	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	check(db2, 3, 1, 2)
	if q, _ := db2.TransferQueue(ctx); !q[2].Forced || q[0].Forced {
		t.Fatalf("forced flags %+v", q)
	}
}
