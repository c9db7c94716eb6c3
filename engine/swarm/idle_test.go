package swarm

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// TestIdleSwarmsCostNoGoroutine starts 300 seeding swarms with nobody to
// talk to: none keeps a goroutine (nor, so, a ticker) of its own. Then a
// leecher connects to one: that one wakes, serves the whole content, and
// goes back to sleep once the leecher has gone.
func TestIdleSwarmsCostNoGoroutine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, info := makeContent(t, 300<<10, 64<<10)
	ih := infoHash(info)
	pieces := len(mustInfo(t, info).Pieces) / 20
	waitFor(t, "other tests' goroutines to end", 10*time.Second, func() bool { return runtime.NumGoroutine() < 50 })
	before := runtime.NumGoroutine()
	const n = 300
	var seeds []*Swarm
	for range n {
		s, err := New(Config{InfoHash: ih, InfoBytes: info, Dir: filepath.Dir(path), Have: allHave(pieces)})
		if err != nil {
			t.Fatal(err)
		}
		s.Start(ctx)
		seeds = append(seeds, s)
	}
	time.Sleep(200 * time.Millisecond)
	if got := runtime.NumGoroutine() - before; got > 5 {
		t.Fatalf("%d idle swarms run %d goroutines, want none of their own", n, got)
	}
	for i, s := range seeds {
		if !s.Idle() {
			t.Fatalf("swarm %d is not idle", i)
		}
	}
	seed := startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: filepath.Dir(path), Have: allHave(pieces)})
	waitFor(t, "the listening seed to sleep", 5*time.Second, seed.s.Idle)
	lctx, lcancel := context.WithCancel(ctx)
	leech := startNode(t, lctx, Config{InfoHash: ih, Dir: t.TempDir()})
	leech.s.AddPeers(seed.addr)
	waitFor(t, "leecher complete", 30*time.Second, leech.s.Complete)
	lcancel()
	<-leech.s.Done()
	waitFor(t, "the seed to sleep again", 10*time.Second, seed.s.Idle)
	if up := seed.s.Stats().TotalUp; up < 300<<10 {
		t.Fatalf("seed uploaded %d bytes, want the content's 300 KiB", up)
	}
	cancel()
	for _, s := range seeds {
		<-s.Done()
	}
}

// TestPieceHashesHeldOnce: a seeding swarm keeps its piece hashes once,
// in the info bytes it serves to peers asking for metadata: its parsed
// info and its layout's hash list view that memory instead of holding
// copies, whether the swarm parsed the info itself or was given it parsed
// (as the engine does). With thousands of large torrents in a library,
// copies of the hashes were most of what idle ones held. The hashes still
// check the content: a leecher downloads it from such a seed.
func TestPieceHashesHeldOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, info := makeContent(t, 600<<10, 16<<10)
	ih := infoHash(info)
	pieces := len(mustInfo(t, info).Pieces) / 20
	inside := func(b []byte) bool {
		start, end := uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&info[len(info)-1]))
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		return p >= start && p+uintptr(len(b))-1 <= end
	}
	parsed, err := ParseInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	for name, given := range map[string]*infoT{"parsed by the swarm": nil, "given parsed": parsed} {
		s, err := New(Config{InfoHash: ih, InfoBytes: info, Info: given, Dir: filepath.Dir(path), Have: allHave(pieces)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.Info()
		hashes := s.layout.Hashes
		if len(hashes) != pieces || !inside(got.Pieces) ||
			!inside(unsafe.Slice((*byte)(unsafe.Pointer(&hashes[0])), 20*len(hashes))) {
			t.Fatalf("%s: the %d piece hashes are held apart from the info bytes (info's in them: %v)",
				name, pieces, inside(got.Pieces))
		}
	}
	seed := startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Info: parsed, Dir: filepath.Dir(path), Have: allHave(pieces)})
	leech := startNode(t, ctx, Config{InfoHash: ih, Dir: t.TempDir()})
	leech.s.AddPeers(seed.addr)
	waitFor(t, "leecher complete", 30*time.Second, leech.s.Complete)
}
