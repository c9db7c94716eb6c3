package state

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestRootsToFind: an item without roots and a finished download are
// listed until their roots are recorded; recording none (nil) takes them
// off the lists too; an unfinished download or one without metadata is
// never listed; PutTransfer keeps a download's roots; a gone item is
// ErrNotFound.
func TestRootsToFind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []LibraryRow{{InfoHash: hash(1), Name: "old", Path: "/s/old", Info: []byte("d1:ai1ee"), Added: now},
		{InfoHash: hash(2), Name: "new", Path: "/s/new", Info: []byte("d1:ai1ee"), Added: now, Roots: [][32]byte{{9}}}} {
		if err := db.PutLibrary(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	done := TransferRow{InfoHash: hash(3), Name: "done", Dir: "/d", Info: []byte("d1:ai1ee"), State: "seeding",
		Added: now, Completed: now.Add(time.Hour)}
	for _, r := range []TransferRow{done, {InfoHash: hash(4), Name: "going", Dir: "/d", Info: []byte("d1:ai1ee"), State: "downloading", Added: now},
		{InfoHash: hash(5), Name: "magnet", Dir: "/d", State: "downloading", Added: now, Completed: now}} {
		if err := db.PutTransfer(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	lib, err := db.LibraryWithoutRoots(ctx)
	if err != nil || !slices.Equal(lib, [][20]byte{hash(1)}) {
		t.Fatalf("LibraryWithoutRoots = %x, %v; want only the old item", lib, err)
	}
	fin, err := db.FinishedWithoutRoots(ctx)
	if err != nil || !slices.Equal(fin, [][20]byte{hash(3)}) {
		t.Fatalf("FinishedWithoutRoots = %x, %v; want only the finished download", fin, err)
	}
	roots := [][32]byte{{1, 2}, {3}}
	if err := db.SetLibraryRoots(ctx, hash(1), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTransferRoots(ctx, hash(3), roots); err != nil {
		t.Fatal(err)
	}
	if err := db.PutTransfer(ctx, done); err != nil { // a later save keeps them
		t.Fatal(err)
	}
	lib, err1 := db.LibraryWithoutRoots(ctx)
	fin, err2 := db.FinishedWithoutRoots(ctx)
	if len(lib) != 0 || len(fin) != 0 || err1 != nil || err2 != nil {
		t.Errorf("after recording: library %x (%v), finished %x (%v); want none", lib, err1, fin, err2)
	}
	if r, err := db.Transfer(ctx, hash(3)); err != nil || !slices.Equal(r.Roots, roots) {
		t.Errorf("download's roots %x, %v; want %x", r.Roots, err, roots)
	}
	if r, err := db.LibraryItem(ctx, hash(1)); err != nil || r.Roots != nil {
		t.Errorf("item's roots %x, %v; want none", r.Roots, err)
	}
	if err := db.SetTransferRoots(ctx, hash(7), roots); !errors.Is(err, ErrNotFound) {
		t.Errorf("roots of a gone download: %v, want ErrNotFound", err)
	}
}
