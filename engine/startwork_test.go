package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestStartDoesNoPerItemWork: Open, which a daemon's ready line and the
// window wait for, takes each library item from one read and registers it,
// and does nothing else per item: no search leaf entry is made for any of
// them until Run (sharesLoop makes them all at once after the start). On
// a machine busy enough that Shoal gets a few percent of a core, a start's
// time is its CPU before ready divided by that share, so with 10,000 items
// each piece of work per item there costs seconds. After Run, every item
// has its entry, with the pieces roots its row kept, and options saved
// for an item are applied again (found in one pass over the settings).
func TestStartDoesNoPerItemWork(t *testing.T) {
	ctx := context.Background()
	const n = 40
	lib, src := t.TempDir(), t.TempDir()
	cfg := Config{DataDir: lib, Listen: "127.0.0.1:0", LoopbackOnly: true}
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ihs := make([]InfoHash, n)
	for i := range n {
		path := filepath.Join(src, fmt.Sprintf("start-%02d.txt", i))
		if err := os.WriteFile(path, []byte(fmt.Sprintf("start item %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		if ihs[i], err = e.ShareSync(ctx, path, nil); err != nil {
			t.Fatal(err)
		}
	}
	const limit = 12345
	if err := e.SetTransferOptions(ihs[3], TransferOptions{UploadLimit: limit}); err != nil {
		t.Fatal(err)
	}
	runOnce(t, e)

	e, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.Library(ctx)
	if err != nil || len(rows) != n || len(rows[0].Roots) == 0 {
		t.Fatalf("the library has %d rows (err %v), the first with %d pieces roots; want %d, with roots", len(rows), err, len(rows[0].Roots), n)
	}
	if made := entriesMade(t, e, ihs); made != 0 {
		t.Fatalf("Open made the search leaf entry of %d of %d library items; want none before Run", made, n)
	}
	if o, err := e.TransferOptions(ihs[3]); err != nil || o.UploadLimit != limit {
		t.Fatalf("item 3's options after the start: %+v, %v; want the upload limit %d saved before", o, err, limit)
	}

	runCtx, stop := context.WithCancel(ctx)
	go e.Run(runCtx)
	defer func() { stop(); <-e.Stopped() }()
	waitUntil(t, "every item's leaf entry after Run", 30*time.Second, func() bool { return entriesMade(t, e, ihs) == n })
	for _, row := range rows {
		tr, err := e.lookup(row.InfoHash)
		if err != nil {
			t.Fatal(err)
		}
		if entry, ok := tr.leafEntry(); !ok || entry.Name != row.Name || !reflect.DeepEqual(entry.Roots, row.Roots) {
			t.Fatalf("leaf entry of %s: %+v (%v); want its name and the %d pieces roots of its row", row.Name, entry, ok, len(row.Roots))
		}
	}
}

// entriesMade counts the items of ihs whose search leaf entry is made.
func entriesMade(t *testing.T, e *Engine, ihs []InfoHash) int {
	t.Helper()
	made := 0
	for _, ih := range ihs {
		tr, err := e.lookup(ih)
		if err != nil {
			t.Fatal(err)
		}
		tr.mu.Lock()
		if tr.entry != nil {
			made++
		}
		tr.mu.Unlock()
	}
	return made
}
