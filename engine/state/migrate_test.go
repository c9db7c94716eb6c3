package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"testing/fstest"
)

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, body := range files {
		m["migrations/"+name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		want    []int
		wantErr bool
	}{
		{"ordered", map[string]string{"0002_b.sql": "B", "0001_a.sql": "A", "0010_c.sql": "C"}, nil, true},
		{"three", map[string]string{"0002_b.sql": "B", "0001_a.sql": "A", "0003_c.sql": "C"}, []int{1, 2, 3}, false},
		{"gap", map[string]string{"0001_a.sql": "A", "0003_c.sql": "C"}, nil, true},
		{"bad name", map[string]string{"init.sql": "A"}, nil, true},
		{"zero", map[string]string{"0000_a.sql": "A"}, nil, true},
		{"duplicate", map[string]string{"0001_a.sql": "A", "1_b.sql": "B"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := loadMigrations(mapFS(tc.files))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			for i, m := range ms {
				if m.version != tc.want[i] {
					t.Fatalf("versions %v, want %v", ms, tc.want)
				}
			}
		})
	}
	ms, err := loadMigrations(migrationFiles)
	if err != nil || len(ms) != SchemaVersion() || len(ms) == 0 {
		t.Fatalf("embedded migrations: %d, %v", len(ms), err)
	}
}

// TestMigrateUpgradeAndRollback upgrades a file of this build's version
// with one more migration, then checks that a failing next one leaves no
// trace.
func TestMigrateUpgradeAndRollback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shoal.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, "kept", "yes"); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	ms, _ := loadMigrations(migrationFiles)
	for _, m := range ms {
		files[m.name] = m.sql
	}
	n := int64(len(ms))
	files[fmt.Sprintf("%04d_extra.sql", n+1)] = "CREATE TABLE extra (a INTEGER); INSERT INTO extra VALUES (7);"
	if err := migrate(ctx, db.w, mapFS(files)); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if v := pragmaInt(t, db.w, "user_version"); v != n+1 {
		t.Fatalf("user_version = %d, want %d", v, n+1)
	}
	var a int
	if err := db.r.QueryRow("SELECT a FROM extra").Scan(&a); err != nil || a != 7 {
		t.Fatalf("extra table: %d, %v", a, err)
	}
	files[fmt.Sprintf("%04d_bad.sql", n+2)] = "CREATE TABLE half (a INTEGER); THIS IS NOT SQL;"
	if err := migrate(ctx, db.w, mapFS(files)); err == nil {
		t.Fatal("bad migration applied")
	}
	if v := pragmaInt(t, db.w, "user_version"); v != n+1 {
		t.Fatalf("user_version after failure = %d, want %d", v, n+1)
	}
	if err := db.r.QueryRow("SELECT count(*) FROM half").Scan(&a); err == nil {
		t.Fatal("table from the failed migration exists")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// This build knows only n versions, so the upgraded file is too new.
	if _, err := Open(path); !errors.Is(err, ErrTooNew) {
		t.Fatalf("reopen upgraded file: %v, want ErrTooNew", err)
	}
}

// TestSettingKeysMigration: a database from before migration 0004 with the
// old keys "settings.v1" and "transfer-options:<hex>" has them renamed to
// the one convention, values kept, other keys untouched.
func TestSettingKeysMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, m := range ms[:3] {
		before[m.name] = m.sql
	}
	if err := migrate(ctx, w, mapFS(before)); err != nil {
		t.Fatal(err)
	}
	old := map[string]string{"settings.v1": `{"RatioTarget":2.5}`, "transfer-options:abcd": `{"UploadLimit":12345}`, "peer_id": "ff"}
	for k, v := range old {
		if _, err := w.Exec("INSERT INTO settings (key, value) VALUES (?, ?)", k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate(ctx, w, migrationFiles); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"settings_v1": old["settings.v1"], "transfer_options:abcd": old["transfer-options:abcd"], "peer_id": "ff"}
	got := map[string]string{}
	rows, err := w.Query("SELECT key, value FROM settings")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		got[k] = v
	}
	if !maps.Equal(got, want) {
		t.Fatalf("settings after migration = %v, want %v", got, want)
	}
}
