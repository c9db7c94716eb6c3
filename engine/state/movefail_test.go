package state

import (
	"context"
	"errors"
	"testing"
)

// TestMoveFailures: a failed move is stored, kept by PutTransfer, survives
// a reopen, and is cleared by an empty reason; a missing transfer is
// ErrNotFound.
func TestMoveFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openTest(t)
	for i := byte(1); i <= 2; i++ {
		if err := db.PutTransfer(ctx, TransferRow{InfoHash: hash(i), Name: "t", State: "seeding"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetMoveFailure(ctx, hash(2), "not a directory", "/srv/done"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMoveFailure(ctx, hash(9), "x", "/y"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failure for a missing transfer: %v", err)
	}
	// An update of the row (a state change) keeps it.
	if err := db.PutTransfer(ctx, TransferRow{InfoHash: hash(2), Name: "t", State: "paused"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.MoveFailures(ctx)
	if err != nil || len(got) != 1 || got[0] != (MoveFailure{InfoHash: hash(2), Err: "not a directory", To: "/srv/done"}) {
		t.Fatalf("after a reopen: %+v, %v", got, err)
	}
	if err := db.SetMoveFailure(ctx, hash(2), "", "/srv/done"); err != nil {
		t.Fatal(err)
	}
	if got, err := db.MoveFailures(ctx); err != nil || len(got) != 0 {
		t.Fatalf("after clearing: %+v, %v", got, err)
	}
}
