package engine_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestOldSettingKeysAreMigrated: a data folder written before migration
// 0004 (keys "settings.v1" and "transfer-options:<hex>") opens with its
// settings and a transfer's options intact under the new keys.
func TestOldSettingKeysAreMigrated(t *testing.T) {
	cfg := enginetest.Config(t)
	e := enginetest.Start(t, cfg)
	file := enginetest.RandomFile(t, t.TempDir(), "keys.bin", 1000)
	ih, err := e.ShareSync(context.Background(), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := e.Settings()
	s.RatioTarget, s.SeedTimeLimit, s.OnTarget = 2.5, 3*time.Hour, engine.TargetStop
	ratio := 4.0
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if err := e.SetTransferOptions(ih, engine.TransferOptions{UploadLimit: 12345, RatioTarget: &ratio}); err != nil {
		t.Fatal(err)
	}
	e.Stop()

	// Turn the folder back into one from before 0004.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(cfg.DataDir, "shoal.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE settings SET key = 'settings.v1' WHERE key = 'settings_v1'`,
		`UPDATE settings SET key = 'transfer-options:' || substr(key, 18) WHERE key LIKE 'transfer\_options:%' ESCAPE '\'`,
		`PRAGMA user_version = 3`,
	} {
		if res, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		} else if n, _ := res.RowsAffected(); n != 1 && q[0] == 'U' {
			t.Fatalf("%s changed %d rows, want 1", q, n)
		}
	}
	db.Close()

	e = enginetest.Start(t, cfg)
	got := e.Settings()
	if got.RatioTarget != 2.5 || got.SeedTimeLimit != 3*time.Hour || got.OnTarget != engine.TargetStop {
		t.Fatalf("settings after migration: ratio %v, seed time %v, on target %q; want 2.5, 3h, stop",
			got.RatioTarget, got.SeedTimeLimit, got.OnTarget)
	}
	o, err := e.TransferOptions(ih)
	if err != nil {
		t.Fatal(err)
	}
	if o.UploadLimit != 12345 || o.RatioTarget == nil || *o.RatioTarget != 4 {
		t.Fatalf("transfer options after migration: %+v, want upload limit 12345 and ratio 4", o)
	}
}
