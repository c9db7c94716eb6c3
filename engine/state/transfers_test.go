package state

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func sampleTransfer(n byte) TransferRow {
	return TransferRow{
		InfoHash: hash(n), Name: "ubuntu.iso", Dir: "/tmp/dl", Source: "magnet:?xt=urn:btih:x",
		Info: []byte("d4:name3:fooe"), State: "downloading", Bitfield: []byte{0xf0, 0x01},
		Uploaded: 10, Downloaded: 20,
		Added:     time.Date(2026, 5, 1, 10, 0, 0, 123, time.UTC),
		Completed: time.Time{}, Peers: []string{"127.0.0.1:6881", "[::1]:51413"},
	}
}

func TestPutTransferUpsert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	r := sampleTransfer(1)
	if err := db.PutTransfer(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := db.Transfer(ctx, r.InfoHash)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("Transfer = %+v, %v\nwant %+v", got, err, r)
	}
	upd := r
	upd.Name, upd.State, upd.Bitfield, upd.Peers = "renamed", "seeding", []byte{0xff, 0xff}, nil
	upd.Uploaded, upd.Downloaded = 999, 999 // ignored on update
	upd.Info, upd.Added = nil, time.Time{}  // keep stored values
	upd.Completed = time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	if err := db.PutTransfer(ctx, upd); err != nil {
		t.Fatal(err)
	}
	want := upd
	want.Uploaded, want.Downloaded, want.Info, want.Added = 10, 20, r.Info, r.Added
	got, err = db.Transfer(ctx, r.InfoHash)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after update = %+v, %v\nwant %+v", got, err, want)
	}
}

func TestPutTransferDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	fakeClock(db, now)
	r := TransferRow{InfoHash: hash(3), Name: "magnet only", State: "metadata"}
	if err := db.PutTransfer(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := db.Transfer(ctx, r.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Info != nil || got.Bitfield != nil || got.Peers != nil || !got.Completed.IsZero() {
		t.Errorf("empty fields read back as %+v", got)
	}
	if !got.Added.Equal(now) {
		t.Errorf("Added = %v, want %v", got.Added, now)
	}
	bad := r
	bad.Peers = []string{"\xff\xfe"}
	if err := db.PutTransfer(ctx, bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid UTF-8 peer: err = %v, want ErrInvalid", err)
	}
}

func TestTransfersOrderAndDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, n := range []byte{5, 2, 8} {
		r := sampleTransfer(n)
		r.Added = base.Add(time.Duration(i) * time.Hour)
		if err := db.PutTransfer(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Transfers(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("Transfers: %d rows, %v", len(all), err)
	}
	for i, n := range []byte{5, 2, 8} {
		if all[i].InfoHash != hash(n) {
			t.Errorf("row %d = %x, want %x", i, all[i].InfoHash, hash(n))
		}
	}
	if err := db.DeleteTransfer(ctx, hash(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Transfer(ctx, hash(2)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted transfer: %v", err)
	}
	if err := db.DeleteTransfer(ctx, hash(2)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestSaveProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	r := sampleTransfer(4)
	if err := db.PutTransfer(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveProgress(ctx, r.InfoHash, []byte{0xff, 0x80}, "seeding"); err != nil {
		t.Fatal(err)
	}
	got, err := db.Transfer(ctx, r.InfoHash)
	if err != nil || !reflect.DeepEqual(got.Bitfield, []byte{0xff, 0x80}) || got.State != "seeding" {
		t.Fatalf("after SaveProgress: %+v, %v", got, err)
	}
	if got.Name != r.Name || got.Uploaded != r.Uploaded {
		t.Fatalf("SaveProgress touched other fields: %+v", got)
	}
	// Durable writes run with synchronous=FULL...
	var during int
	err = db.writeDurable(ctx, "probe", func(tx *sql.Tx) error {
		return tx.QueryRow("PRAGMA synchronous").Scan(&during)
	})
	if err != nil || during != 2 {
		t.Fatalf("synchronous inside a durable write = %d, %v; want 2 (FULL)", during, err)
	}
	// ...and the single writer connection is back to NORMAL afterwards.
	if s := pragmaInt(t, db.w, "synchronous"); s != 1 {
		t.Fatalf("synchronous after SaveProgress = %d, want 1", s)
	}
	// A cancelled context fails but still restores the pragma.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.SaveProgress(cctx, r.InfoHash, []byte{0}, "x"); err == nil {
		t.Fatal("SaveProgress with cancelled context succeeded")
	}
	if s := pragmaInt(t, db.w, "synchronous"); s != 1 {
		t.Fatalf("synchronous after cancelled SaveProgress = %d, want 1", s)
	}
}

const childEnv = "SHOAL_STATE_KILL_CHILD_DB"

// TestSaveProgressSurvivesKill runs the test binary again as a child that
// saves progress and then SIGKILLs itself without closing the database; the
// parent reopens the file and must find the progress.
func TestSaveProgressSurvivesKill(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		killChild(path)
		return
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shoal.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSaveProgressSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Success() {
		t.Fatalf("child was not killed: err=%v output:\n%s", err, out)
	}
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
		t.Fatalf("no WAL left behind, so the child closed cleanly: %v", err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Transfer(context.Background(), hash(7))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Bitfield, []byte{0xde, 0xad, 0xbe, 0xef}) || got.State != "paused" {
		t.Fatalf("progress lost: bitfield %x state %q", got.Bitfield, got.State)
	}
}

// killChild is the child side of TestSaveProgressSurvivesKill.
func killChild(path string) {
	ctx := context.Background()
	db, err := Open(path)
	if err != nil {
		os.Exit(3)
	}
	r := sampleTransfer(7)
	if db.PutTransfer(ctx, r) != nil || db.SaveProgress(ctx, r.InfoHash, []byte{0xde, 0xad, 0xbe, 0xef}, "paused") != nil {
		os.Exit(4)
	}
	p, _ := os.FindProcess(os.Getpid())
	_ = p.Kill()
	time.Sleep(time.Minute)
	os.Exit(5)
}

func TestLibrary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	rows := []LibraryRow{
		{InfoHash: hash(30), Name: "b", Path: "/s/b", Size: 5, Files: 1, Info: []byte("d1:ai1ee"), Added: base.Add(time.Hour)},
		{InfoHash: hash(10), Name: "a", Path: "/s/a", Size: 1 << 40, Files: 3, Info: []byte("d1:bi2ee"), Added: base,
			Roots: [][32]byte{{1, 2}, {3}}},
	}
	for _, r := range rows {
		if err := db.PutLibrary(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Library(ctx)
	if err != nil || !reflect.DeepEqual(got, []LibraryRow{rows[1], rows[0]}) {
		t.Fatalf("Library = %+v, %v", got, err)
	}
	upd := rows[0]
	upd.Name, upd.Size = "b2", 6
	if err := db.PutLibrary(ctx, upd); err != nil {
		t.Fatal(err)
	}
	one, err := db.LibraryItem(ctx, upd.InfoHash)
	if err != nil || !reflect.DeepEqual(one, upd) {
		t.Fatalf("LibraryItem = %+v, %v", one, err)
	}
	if err := db.DeleteLibrary(ctx, hash(10)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Library(ctx); len(got) != 1 || got[0].InfoHash != hash(30) {
		t.Fatalf("after delete: %+v", got)
	}
}
