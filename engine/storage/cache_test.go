package storage

import (
	"os"
	"runtime"
	"testing"
)

// TestCacheSharedByAllTorrents opens storage for three times as many
// single-file torrents as the cache allows descriptors and reads them
// all, twice: the process holds no more than the cache's limit, a Files
// holds no descriptor of its own, and a torrent read long ago has no file
// open any more (it was evicted, and reopens transparently).
func TestCacheSharedByAllTorrents(t *testing.T) { // not parallel: it counts the process's descriptors
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	before := countFDs(t)
	const n = 3 * maxOpenFiles
	all := make([]*Files, n)
	fxs := make([]fixture, n)
	for i := range all {
		fxs[i] = newFixture(t, 16*kib, uint64(i), fi(int64(5000+i)))
		all[i], _ = openFixture(t, fxs[i])
	}
	if got := countFDs(t); got > before+2 {
		t.Fatalf("opening %d torrents took %d descriptors, want none", n, got-before)
	}
	for round := range 2 {
		for i, s := range all {
			if _, err := s.WriteAt(fxs[i].data, 0); round == 0 && err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, len(fxs[i].data))
			if _, err := s.ReadAt(buf, 0); err != nil {
				t.Fatalf("round %d, torrent %d: %v", round, i, err)
			}
			if string(buf) != string(fxs[i].data) {
				t.Fatalf("round %d, torrent %d: read differs from written", round, i)
			}
		}
		if got := countFDs(t); got > before+maxOpenFiles+2 {
			t.Fatalf("round %d: %d descriptors in use by %d torrents, limit %d", round, got-before, n, maxOpenFiles)
		}
	}
	open, limit := OpenFiles()
	if open > limit {
		t.Fatalf("cache holds %d descriptors, limit %d", open, limit)
	}
	shared.mu.Lock()
	idle := len(all[0].open)
	shared.mu.Unlock()
	if idle != 0 {
		t.Fatalf("the least recently used torrent still holds %d files", idle)
	}
	for _, s := range all {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := countFDs(t); got > before+2 {
		t.Fatalf("%d descriptors left after closing every torrent", got-before)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}
