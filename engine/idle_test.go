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
