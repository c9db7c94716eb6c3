package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLazyLibraryItem restarts an engine on a library of 30 shared files:
// no item's info dictionary is parsed and no swarm is made at the start,
// yet the Library rows, the search leaf's entries and a search by
// infohash are right. A peer downloading one item makes that item's swarm
// only, and Files makes another's.
func TestLazyLibraryItem(t *testing.T) {
	ctx := context.Background()
	const n = 30
	lib, src := t.TempDir(), t.TempDir()
	e, err := Open(Config{DataDir: lib, Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ihs := make([]InfoHash, n)
	contents := make([][]byte, n)
	for i := range n {
		contents[i] = bytes.Repeat([]byte(fmt.Sprintf("lazy item %d\n", i)), 300+i)
		path := filepath.Join(src, fmt.Sprintf("lazy-%02d.txt", i))
		if err := os.WriteFile(path, contents[i], 0o644); err != nil {
			t.Fatal(err)
		}
		if ihs[i], err = e.ShareSync(ctx, path, nil); err != nil {
			t.Fatal(err)
		}
	}
	runOnce(t, e)

	seed, _ := openRunning(t, Config{DataDir: lib, Listen: "127.0.0.1:0", LoopbackOnly: true})
	time.Sleep(500 * time.Millisecond)
	for i, ih := range ihs {
		tr, err := seed.lookup(ih)
		if err != nil {
			t.Fatal(err)
		}
		if !tr.waits() {
			t.Fatalf("item %d has its swarm (its info parsed) right after the start, want it made when first needed", i)
		}
		entry, ok := tr.leafEntry()
		if want := fmt.Sprintf("lazy-%02d.txt", i); !ok || entry.Name != want || entry.Size != int64(len(contents[i])) || len(entry.Files) != 0 {
			t.Fatalf("item %d's search entry is %+v (%v), want %s of %d bytes", i, entry, ok, want, len(contents[i]))
		}
	}
	rows := seed.Snapshot().Library
	if len(rows) != n {
		t.Fatalf("Snapshot lists %d library items, want %d", len(rows), n)
	}
	for _, r := range rows {
		var i int
		if _, err := fmt.Sscanf(r.Name, "lazy-%02d.txt", &i); err != nil || r.InfoHash != ihs[i] || r.Size != int64(len(contents[i])) || r.Files != 1 {
			t.Fatalf("Library row %+v does not match what was shared", r)
		}
	}
	if hits := seed.libraryHits(ihs[3].String()); len(hits) != 1 || hits[0].Name != "lazy-03.txt" {
		t.Fatalf("a search for item 3's infohash found %+v, want the item", hits)
	}

	leech, _ := openRunning(t, Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	peer, _, _ := seed.Addrs()
	const k = 7
	if _, err := leech.Download(ctx, DownloadRequest{Source: ihs[k].String(), Peers: []string{peer}}); err != nil {
		t.Fatal(err)
	}
	var dir string
	waitUntil(t, "the download of a waiting item", 60*time.Second, func() bool {
		for _, tr := range leech.Snapshot().Transfers {
			if tr.InfoHash == ihs[k] && tr.Done() {
				dir = tr.Dir
				return true
			}
		}
		return false
	})
	got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("lazy-%02d.txt", k)))
	if err != nil || !bytes.Equal(got, contents[k]) {
		t.Fatalf("downloaded item differs from the shared one (err %v)", err)
	}
	files, err := seed.Files(ihs[k+1])
	if err != nil || len(files) != 1 || files[0].Size != int64(len(contents[k+1])) || files[0].Have != files[0].Size {
		t.Fatalf("Files of a waiting item = %+v, %v; want its one file, all present", files, err)
	}
	for i, ih := range ihs {
		tr, _ := seed.lookup(ih)
		if made := !tr.waits(); made != (i == k || i == k+1) {
			t.Fatalf("item %d: swarm made = %v; want only the downloaded item's and the one Files asked for", i, made)
		}
	}
}

// TestWaitingItemStops: a library item that waits for its swarm has no
// context of its own after the start (its cost is its record and its
// place in the announcer's queue). Removing a waiting item drops it from
// the announcer; an item whose swarm was made after the start (Files)
// gets a context of its own, and removing it stops its swarm and its
// announces; the engine then stops cleanly.
func TestWaitingItemStops(t *testing.T) {
	ctx := context.Background()
	lib, src := t.TempDir(), t.TempDir()
	e, err := Open(Config{DataDir: lib, Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ihs := make([]InfoHash, 3)
	for i := range ihs {
		path := filepath.Join(src, fmt.Sprintf("stop-%d.txt", i))
		if err := os.WriteFile(path, bytes.Repeat([]byte{byte('a' + i)}, 5000), 0o644); err != nil {
			t.Fatal(err)
		}
		if ihs[i], err = e.ShareSync(ctx, path, nil); err != nil {
			t.Fatal(err)
		}
	}
	runOnce(t, e)
	seed, stop := openRunning(t, Config{DataDir: lib, Listen: "127.0.0.1:0", LoopbackOnly: true})
	items := make([]*transfer, len(ihs))
	waitUntil(t, "every item scheduled", 10*time.Second, func() bool {
		for i, ih := range ihs {
			items[i], _ = seed.lookup(ih)
			if items[i] == nil || seed.ann.itemOf(items[i]) == nil {
				return false
			}
		}
		return true
	})
	seed.mu.Lock()
	runCtx := seed.runCtx
	seed.mu.Unlock()
	for i, tr := range items {
		tr.mu.Lock()
		own := tr.ctx != runCtx
		tr.mu.Unlock()
		if !tr.waits() || own {
			t.Fatalf("item %d: waits %v, context of its own %v; want a waiting item with none", i, tr.waits(), own)
		}
	}
	if err := seed.Remove(ihs[0], false); err != nil {
		t.Fatal(err)
	}
	if seed.ann.itemOf(items[0]) != nil {
		t.Fatal("a removed waiting item is still in the announcer's queue")
	}
	if _, err := seed.Files(ihs[1]); err != nil {
		t.Fatal(err)
	}
	sw := items[1].madeSwarm()
	items[1].mu.Lock()
	own := items[1].ctx != nil && items[1].ctx != runCtx
	items[1].mu.Unlock()
	if sw == nil || !own {
		t.Fatalf("after Files: swarm %v, context of its own %v; want both", sw != nil, own)
	}
	if err := seed.Remove(ihs[1], false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sw.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the removed item's swarm did not stop")
	}
	waitUntil(t, "the removed item to leave the announcer", 10*time.Second, func() bool { return seed.ann.itemOf(items[1]) == nil })
	if seed.ann.itemOf(items[2]) == nil {
		t.Fatal("the item left alone is no longer scheduled")
	}
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the engine did not stop")
	}
}

// TestLazyHybridItem restarts an engine on a library of hybrid shares
// (the default Settings.ShareFormat): no item's swarm is made at the start, yet each
// answers to its alias (the v2 infohash cut to 20 bytes), its search entry
// and a search by its v2 infohash carry its v2 hashes, and a peer with
// only a btmh magnet link downloads one from it, which makes that item's
// swarm alone.
func TestLazyHybridItem(t *testing.T) {
	ctx := context.Background()
	const n = 4
	lib, src := t.TempDir(), t.TempDir()
	e, err := Open(Config{DataDir: lib, Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	s := e.Settings()
	s.ShareFormat = FormatHybrid // the default, set as a user would
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	ihs, v2s := make([]InfoHash, n), make([][32]byte, n)
	contents := make([][]byte, n)
	for i := range n {
		contents[i] = bytes.Repeat([]byte(fmt.Sprintf("hybrid item %d\n", i)), 2000+i)
		path := filepath.Join(src, fmt.Sprintf("hybrid-%d.txt", i))
		if err := os.WriteFile(path, contents[i], 0o644); err != nil {
			t.Fatal(err)
		}
		if ihs[i], err = e.ShareSync(ctx, path, nil); err != nil {
			t.Fatal(err)
		}
		tr, _ := e.lookup(ihs[i])
		tr.mu.Lock()
		v2s[i] = sha256.Sum256(tr.lazyInfo)
		tr.mu.Unlock()
	}
	runOnce(t, e)

	seed, _ := openRunning(t, Config{DataDir: lib, Listen: "127.0.0.1:0", LoopbackOnly: true})
	time.Sleep(500 * time.Millisecond)
	for i, ih := range ihs {
		tr, err := seed.lookup(ih)
		if err != nil {
			t.Fatal(err)
		}
		if !tr.waits() {
			t.Fatalf("hybrid item %d has its swarm right after the start, want it made when first needed", i)
		}
		if got := seed.transferNamed(InfoHash(v2s[i][:20])); got != tr {
			t.Fatalf("hybrid item %d does not answer to its v2 infohash while it waits", i)
		}
		entry, ok := tr.leafEntry()
		if !ok || entry.V2 != v2s[i] || len(entry.Roots) != 1 {
			t.Fatalf("hybrid item %d's search entry: v2 %x, %d roots (%v); want v2 %x and its file's root", i, entry.V2, len(entry.Roots), ok, v2s[i])
		}
	}
	if hits := seed.libraryHits(hex.EncodeToString(v2s[2][:])); len(hits) != 1 || hits[0].InfoHash != ihs[2] || hits[0].V2 != v2s[2] {
		t.Fatalf("a search for item 2's v2 infohash found %+v, want the item", hits)
	}

	leech, _ := openRunning(t, Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	peer, _, _ := seed.Addrs()
	const k = 1
	magnet := "magnet:?xt=urn:btmh:1220" + hex.EncodeToString(v2s[k][:]) + "&dn=hybrid"
	got, err := leech.Download(ctx, DownloadRequest{Source: magnet, Peers: []string{peer}})
	if err != nil {
		t.Fatal(err)
	}
	var dir string
	waitUntil(t, "the download of a waiting hybrid item by its v2 name", 60*time.Second, func() bool {
		for _, tr := range leech.Snapshot().Transfers {
			if tr.InfoHash == got && tr.Done() {
				dir = tr.Dir
				return true
			}
		}
		return false
	})
	data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("hybrid-%d.txt", k)))
	if err != nil || !bytes.Equal(data, contents[k]) {
		t.Fatalf("downloaded item differs from the shared one (err %v)", err)
	}
	for i, ih := range ihs {
		tr, _ := seed.lookup(ih)
		if made := !tr.waits(); made != (i == k) {
			t.Fatalf("hybrid item %d: swarm made = %v; want only the downloaded item's", i, made)
		}
	}
}
