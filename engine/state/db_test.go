package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openTest opens a fresh database in a temporary folder and closes it when
// the test ends.
func openTest(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "shoal.db")
	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, path
}

// hash returns a distinct 20-byte value for n.
func hash(n byte) [20]byte {
	var h [20]byte
	for i := range h {
		h[i] = n + byte(i)
	}
	return h
}

// fakeClock is a settable clock for deterministic timestamps.
func fakeClock(db *DB, start time.Time) func(time.Duration) {
	now := start
	db.now = func() time.Time { return now }
	return func(d time.Duration) { now = now.Add(d) }
}

func pragmaInt(t *testing.T, p *sql.DB, name string) int64 {
	t.Helper()
	var v int64
	if err := p.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestMigrationsFromEmpty(t *testing.T) {
	t.Parallel()
	db, path := openTest(t)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	if got, want := pragmaInt(t, db.w, "user_version"), int64(SchemaVersion()); got != want || want < 1 {
		t.Errorf("user_version = %d, want %d (>= 1)", got, want)
	}
	if got := pragmaInt(t, db.w, "application_id"); got != int64(ApplicationID) {
		t.Errorf("application_id = %#x, want %#x", got, ApplicationID)
	}
	if got := pragmaInt(t, db.w, "foreign_keys"); got != 1 {
		t.Errorf("foreign_keys = %d, want 1", got)
	}
	if got := pragmaInt(t, db.w, "synchronous"); got != 1 {
		t.Errorf("synchronous = %d, want 1 (NORMAL)", got)
	}
	if got := pragmaInt(t, db.w, "busy_timeout"); got != 5000 {
		t.Errorf("busy_timeout = %d, want 5000", got)
	}
	var mode string
	if err := db.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	for _, table := range []string{"settings", "library", "transfers", "infohash_traffic",
		"peer_credit", "totals", "daily_traffic", "peers", "peer_hash_fails", "dht_nodes", "supernodes"} {
		var n int
		err := db.r.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("table %s: count %d, err %v", table, n, err)
		}
	}
}

func TestReaderIsReadOnly(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	if _, err := db.r.Exec("INSERT INTO settings (key, value) VALUES ('a', 'b')"); err == nil {
		t.Fatal("write through the read pool succeeded")
	}
}

func TestOpenPathWithURIChars(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a?b#c%20d", "deep", "shoal.db")
	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.SetSetting(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("file not at the literal path: %v", err)
	}
}

// foreignDB creates an SQLite file with the given setup SQL, bypassing Open.
func foreignDB(t *testing.T, setup string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.db")
	p, err := sql.Open("sqlite3", "file:"+uriPath(path))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Exec(setup); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(garbage, []byte("this is definitely not an SQLite database file, just text padding it out to a page"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want error // nil: any error
	}{
		{"other application id", foreignDB(t, "PRAGMA application_id = 1234; CREATE TABLE x (a)"), ErrWrongApplication},
		{"other app id empty", foreignDB(t, "PRAGMA application_id = 42"), ErrWrongApplication},
		{"tables but no id", foreignDB(t, "CREATE TABLE moz_places (id INTEGER)"), ErrWrongApplication},
		{"newer schema", foreignDB(t, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 9999", ApplicationID)), ErrTooNew},
		{"not sqlite", garbage, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(tc.path)
			if err == nil {
				_ = db.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Open error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := db.Setting(context.Background(), "x"); err == nil {
		t.Fatal("read after Close succeeded")
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	if _, ok, err := db.Setting(ctx, "port"); ok || err != nil {
		t.Fatalf("missing setting: ok=%v err=%v", ok, err)
	}
	for _, v := range []string{"6881", "", "51413"} {
		if err := db.SetSetting(ctx, "port", v); err != nil {
			t.Fatal(err)
		}
		got, ok, err := db.Setting(ctx, "port")
		if err != nil || !ok || got != v {
			t.Fatalf("Setting = %q, %v, %v; want %q", got, ok, err, v)
		}
	}
	if err := db.SetSetting(ctx, "nick", "ana"); err != nil {
		t.Fatal(err)
	}
	all, err := db.Settings(ctx)
	if err != nil || len(all) != 2 || all["nick"] != "ana" || all["port"] != "51413" {
		t.Fatalf("Settings = %v, %v", all, err)
	}
	if err := db.DeleteSetting(ctx, "nick"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Setting(ctx, "nick"); ok {
		t.Fatal("deleted setting still there")
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	ih := hash(9)
	tests := []struct {
		name string
		call func() error
	}{
		{"Transfer", func() error { _, err := db.Transfer(ctx, ih); return err }},
		{"DeleteTransfer", func() error { return db.DeleteTransfer(ctx, ih) }},
		{"SaveProgress", func() error { return db.SaveProgress(ctx, ih, []byte{1}, "x") }},
		{"LibraryItem", func() error { _, err := db.LibraryItem(ctx, ih); return err }},
		{"DeleteLibrary", func() error { return db.DeleteLibrary(ctx, ih) }},
		{"Peer", func() error { _, err := db.Peer(ctx, PeerKeyFromIP("127.0.0.9")); return err }},
		{"Unban", func() error { return db.Unban(ctx, PeerKeyFromIP("127.0.0.9")) }},
	}
	for _, tc := range tests {
		if err := tc.call(); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", tc.name, err)
		}
	}
}
