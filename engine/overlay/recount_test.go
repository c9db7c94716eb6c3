package overlay

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestReopenCountsBehind: reopening an index file returns before the keys
// of the entries it kept are counted (a start with 10,000 shares waited
// 0.1 s for that). Until the count is whole, searches work and the
// keyword table's readers wait; writes made meanwhile (a local share
// renamed, one added) wait for the count, and the table then holds the
// same keys as a count from scratch.
func TestReopenCountsBehind(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	x, err := openIndex(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var kept []Entry
	for i := range recountBatch + 500 { // more than one batch
		kept = append(kept, Entry{InfoHash: ihN(i + 1), Name: fmt.Sprintf("kept share %d volume%d", i, i%37), Size: int64(i)})
	}
	if _, err := x.put(ctx, localLeafID, "127.0.0.1:1", kept, localLeafQuota); err != nil {
		t.Fatal(err)
	}
	x.close()

	release := make(chan struct{})
	x = reopenWithHook(t, path, func() { <-release })
	select {
	case <-x.kw.whole:
		t.Fatal("the key counts were whole when openIndex returned, want them counted after")
	default:
	}
	if hits, err := x.search(ctx, "volume5", 100); err != nil || len(hits) == 0 {
		t.Fatalf("a search while the keys are counted: %d hits, %v", len(hits), err)
	}
	wrote := make(chan error, 1)
	go func() {
		renamed := Entry{InfoHash: ihN(1), Name: "renamed zebra", Size: 0}
		added := Entry{InfoHash: ihN(99999), Name: "added giraffe", Size: 1}
		_, err := x.put(ctx, localLeafID, "127.0.0.1:1", []Entry{renamed, added}, localLeafQuota)
		wrote <- err
	}()
	read := make(chan []uint32, 1)
	go func() { read <- x.kw.keys() }()
	select {
	case <-wrote:
		t.Fatal("a write went ahead of the count")
	case <-read:
		t.Fatal("the keys were read before the count was whole")
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if got := <-read; len(got) == 0 {
		t.Fatal("the keys read once the count was whole are none")
	}
	after := x.kw.keys()
	x.wmu.Lock()
	if err := x.recount(ctx); err != nil {
		x.wmu.Unlock()
		t.Fatal(err)
	}
	x.wmu.Unlock()
	fresh := x.kw.keys()
	slices.Sort(after)
	slices.Sort(fresh)
	if !slices.Equal(after, fresh) {
		t.Fatalf("after the count and the writes the table has %d keys, a count from scratch %d", len(after), len(fresh))
	}
	for _, q := range []string{"zebra", "giraffe", "volume36"} {
		keys, err := x.queryKeys(ctx, q)
		if err != nil || !x.kw.hasAll(keys) {
			t.Errorf("%q: keys not in the table (%v)", q, err)
		}
	}
}

// TestRecountWaitsForUse: the count of a reopened index's kept entries
// does not begin while nothing needs it: not while the engine's start goes
// on after NewSupernode (the library is read, the ready line printed), on
// a busy machine the count's CPU would have been taken from that start. It
// begins when the supernode runs, or at the first write or keyword-table
// read, whichever is first (a write here; Run in the engine).
func TestRecountWaitsForUse(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	x, err := openIndex(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.put(ctx, localLeafID, "127.0.0.1:1", []Entry{{InfoHash: ihN(1), Name: "kept okapi", Size: 1}}, localLeafQuota); err != nil {
		t.Fatal(err)
	}
	x.close()

	began := make(chan struct{})
	x = reopenWithHook(t, path, func() { close(began) })
	select {
	case <-began:
		t.Fatal("the recount began with nothing using the index, want it to wait for the supernode's run or a first use")
	case <-time.After(500 * time.Millisecond):
	}
	if _, err := x.put(ctx, localLeafID, "127.0.0.1:1", []Entry{{InfoHash: ihN(2), Name: "added tapir", Size: 2}}, localLeafQuota); err != nil {
		t.Fatal(err)
	}
	select {
	case <-began:
	default:
		t.Fatal("a write went ahead of the count, or the count never began")
	}
	keys, err := x.queryKeys(ctx, "okapi")
	if err != nil || !x.kw.hasAll(keys) {
		t.Fatalf("the kept entry's keys are not in the table after the write (%v)", err)
	}
}

// ihN is an infohash made of n.
func ihN(n int) [20]byte {
	var h [20]byte
	binary.BigEndian.PutUint64(h[12:], uint64(n))
	h[0] = 0xab
	return h
}

// reopenWithHook opens the index file at path again with hook run just
// before its recount of the kept entries begins; the index is closed and
// the hook removed when the test ends.
func reopenWithHook(t *testing.T, path string, hook func()) *index {
	t.Helper()
	testBeforeRecount = hook
	t.Cleanup(func() { testBeforeRecount = nil })
	x, err := openIndex(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.close() })
	return x
}
