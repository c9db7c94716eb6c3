package engine_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestDamagedDatabaseIsRebuilt damages shoal.db on purpose, two ways, and
// starts again on it: Open must not fail; it names the damage in words,
// keeps the damaged file aside, and rebuilds the shared item and the
// finished download from the files on disk (the download rechecked to
// complete). Before, the engine stopped with "state: totals: sql: no rows
// in result set".
func TestDamagedDatabaseIsRebuilt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, db string)
	}{
		{"totals page overwritten", overwriteRootPage("totals")},
		{"header overwritten", overwriteAt(0, 100)},
	} {
		t.Run(tc.name, func(t *testing.T) { testDamagedDatabase(t, tc.damage) })
	}
}

func testDamagedDatabase(t *testing.T, damage func(t *testing.T, db string)) {
	ctx := context.Background()
	seeder := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "kept.bin", 300<<10)
	ih, err := seeder.ShareSync(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := enginetest.Config(t)
	node := enginetest.Start(t, cfg)
	mine := enginetest.RandomFile(t, t.TempDir(), "mine.bin", 100<<10)
	shared, err := node.ShareSync(ctx, mine, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Download(ctx, engine.DownloadRequest{Source: ih.String(), Peers: []string{seeder.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "download", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(node.Snapshot(), ih)
		return ok && tr.Size > 0 && tr.Have == tr.Size
	})
	node.Stop()
	dbPath := filepath.Join(cfg.DataDir, "shoal.db")
	damage(t, dbPath)

	again := enginetest.Start(t, cfg)
	msg := again.Recovered()
	for _, want := range []string{"damaged", dbPath, "1 shared items and 1 transfers", "could not be rebuilt"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Recovered() = %q; want it to say %q", msg, want)
		}
	}
	aside, _ := filepath.Glob(dbPath + ".damaged-*")
	if len(aside) == 0 {
		t.Fatalf("the damaged database was not kept aside")
	}
	enginetest.WaitFor(t, "rebuilt download rechecked", 30*time.Second, func() bool {
		tr, ok := enginetest.Transfer(again.Snapshot(), ih)
		return ok && tr.Size > 0 && tr.Have == tr.Size
	})
	if !libraryHas(again.Snapshot(), shared) {
		t.Fatalf("shared item %s not rebuilt: %+v", shared, again.Snapshot().Library)
	}
	if r := again.Snapshot().Ratio; r.Downloaded != 0 {
		t.Errorf("all-time downloaded after rebuild = %d; the rebuilt ledger starts at zero, a recheck is no download", r.Downloaded)
	}
}

func libraryHas(s engine.Snapshot, ih engine.InfoHash) bool {
	for _, it := range s.Library {
		if it.InfoHash == ih {
			return true
		}
	}
	return false
}

// overwriteAt returns a damage that writes n random bytes at off.
func overwriteAt(off int64, n int) func(t *testing.T, db string) {
	return func(t *testing.T, db string) {
		t.Helper()
		junk := make([]byte, n)
		rand.Read(junk)
		f, err := os.OpenFile(db, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(junk, off); err != nil {
			t.Fatal(err)
		}
	}
}

// overwriteRootPage returns a damage that fills the root b-tree page of
// table with random bytes, as a bad sector or a stray write would.
func overwriteRootPage(table string) func(t *testing.T, db string) {
	return func(t *testing.T, db string) {
		t.Helper()
		conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var root, pageSize int64
		err = conn.QueryRow("SELECT rootpage FROM sqlite_schema WHERE name = ?", table).Scan(&root)
		if err == nil {
			err = conn.QueryRow("PRAGMA page_size").Scan(&pageSize)
		}
		conn.Close()
		if err != nil {
			t.Fatal(fmt.Errorf("find the %s page: %w", table, err))
		}
		overwriteAt((root-1)*pageSize, int(pageSize))(t, db)
	}
}
