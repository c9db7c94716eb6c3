package state

import (
	"context"
	"errors"
	"fmt"
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
