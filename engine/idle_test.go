package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestIdleLibraryCostsNothing runs an engine with 400 shared items and
// nobody connected: the items add no goroutine of their own, the flush
// looks at none of them, and Snapshot lists them all. A download of one
// item wakes it; once the downloader has gone it is idle again.
func TestIdleLibraryCostsNothing(t *testing.T) {
	ctx := context.Background()
	seed, err := Open(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	const n = 400
	var last InfoHash
	var content []byte
	for i := range n {
		content = bytes.Repeat([]byte(fmt.Sprintf("idle item %d\n", i)), 1000)
		path := filepath.Join(src, fmt.Sprintf("item-%03d.txt", i))
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if last, err = seed.ShareSync(ctx, path, nil); err != nil {
			t.Fatal(err)
		}
	}
	before := runtime.NumGoroutine()
	runCtx, stop := context.WithCancel(ctx)
	go seed.Run(runCtx)
	defer func() { stop(); <-seed.Stopped() }()
	time.Sleep(3 * time.Second)
	if grew := runtime.NumGoroutine() - before; grew > 60 {
		t.Fatalf("an engine with %d idle items runs %d goroutines more than before Run, want a shared few", n, grew)
	}
	// No tracker and no DHT node to ask: every item's announce is settled
	// at once, not one per announceSpacing (400 wake-ups over 20 s, which
	// this 10-s wait would not see through).
	waitUntil(t, "every quiet announce settled", 10*time.Second, func() bool {
		seed.ann.mu.Lock()
		defer seed.ann.mu.Unlock()
		return seed.ann.queue.Len() == n && time.Until(seed.ann.queue[0].due) > dhtReannounce/2
	})
	if active := seed.act.list(); len(active) != 0 {
		t.Fatalf("%d idle items are in the flush's active set, want none", len(active))
	}
	if got := len(seed.Snapshot().Library); got != n {
		t.Fatalf("Snapshot lists %d library items, want %d", got, n)
	}
	if a, b := seed.Snapshot().Library, seed.Snapshot().Library; &a[0] != &b[0] {
		t.Fatal("two snapshots of an unchanged library each copied its rows, want one shared slice")
	}

	leech, err := Open(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	leechCtx, stopLeech := context.WithCancel(ctx)
	go leech.Run(leechCtx)
	peer, _, _ := seed.Addrs()
	if _, err := leech.Download(ctx, DownloadRequest{Source: last.String(), Peers: []string{peer}}); err != nil {
		t.Fatal(err)
	}
	var dir string
	waitUntil(t, "the download", 30*time.Second, func() bool {
		for _, tr := range leech.Snapshot().Transfers {
			if tr.InfoHash == last && tr.Done() {
				dir = tr.Dir
				return true
			}
		}
		return false
	})
	got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("item-%03d.txt", n-1)))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("downloaded item differs from the shared one (err %v)", err)
	}
	stopLeech()
	<-leech.Stopped()
	waitUntil(t, "the seed's item to be idle again", 15*time.Second, func() bool { return len(seed.act.list()) == 0 })
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// idleItemHeapLimit bounds the Go heap one idle library item (a small
// single file) holds in a running engine: about 1,950 bytes since a
// waiting item has no context, stop hook or tracker announcer of its own
// (lazy.go, announcerFor), 2,600 before, 5,000 before an idle item waited
// for its swarm, 5,570 before swarms made their maps and logger as first
// needed and stopped copying an empty ban list; a 10,000-item library's
// live heap is this times 10,000. A share's files also carry their BEP 52
// pieces roots for search (32 bytes a file, in its leaf entry): 128 bytes
// more.
const idleItemHeapLimit = 2<<10 + 256

// TestIdleLibraryItemHeap runs an engine on a library of 300 shared
// items and one on an empty data folder: the difference in live heap,
// per item, stays under idleItemHeapLimit.
func TestIdleLibraryItemHeap(t *testing.T) {
	ctx := context.Background()
	const n = 300
	lib := t.TempDir()
	e, err := Open(Config{DataDir: lib, Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for i := range n {
		path := filepath.Join(src, fmt.Sprintf("item-%03d.txt", i))
		if err := os.WriteFile(path, bytes.Repeat([]byte(fmt.Sprintf("heap item %d\n", i)), 500), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ShareSync(ctx, path, nil); err != nil {
			t.Fatal(err)
		}
	}
	runOnce(t, e)
	empty, stopEmpty := runningHeap(t, t.TempDir())
	stopEmpty()
	full, stopFull := runningHeap(t, lib)
	defer stopFull()
	per := (full - empty) / n
	t.Logf("live heap: %d bytes for an empty engine, %d with %d idle items: %d bytes an item", empty, full, n, per)
	if per > idleItemHeapLimit {
		t.Fatalf("an idle library item holds %d bytes of heap, want at most %d", per, idleItemHeapLimit)
	}
}

// runOnce runs e briefly and stops it, so its data folder can be opened
// again.
func runOnce(t testing.TB, e *Engine) {
	t.Helper()
	runCtx, stop := context.WithCancel(context.Background())
	go e.Run(runCtx)
	time.Sleep(200 * time.Millisecond)
	stop()
	<-e.Stopped()
}

// runningHeap opens and runs an engine on dir and returns how much the
// live heap grew with it, once it has settled, and how to stop it.
func runningHeap(t *testing.T, dir string) (int64, func()) {
	t.Helper()
	before := liveHeap()
	e, err := Open(Config{DataDir: dir, Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	go e.Run(runCtx)
	time.Sleep(2 * time.Second)
	grew := liveHeap() - before
	return grew, func() { stop(); <-e.Stopped() }
}

// liveHeap is the heap in use after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestStartupMemoryReleased: once a start has settled, Run gives the
// memory the start used only for the while back to the OS, once (an
// idle daemon otherwise keeps its start's peak resident).
func TestStartupMemoryReleased(t *testing.T) {
	e, err := Open(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	calls := make(chan struct{}, 4)
	e.startRel = startupRelease{after: 100 * time.Millisecond, free: func() { calls <- struct{}{} }}
	ctx, stop := context.WithCancel(context.Background())
	go e.Run(ctx)
	defer func() { stop(); <-e.Stopped() }()
	select {
	case <-calls:
	case <-time.After(30 * time.Second):
		t.Fatal("the start's memory was not given back within 30 s")
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(calls); n != 0 {
		t.Fatalf("the start's memory was given back %d more times, want once", n)
	}
}
