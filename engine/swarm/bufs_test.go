package swarm

import (
	"testing"
	"unsafe"

	"github.com/shoalp2p/shoal/engine/storage"
)

func TestCarveBuffers(t *testing.T) {
	odd := int64(1<<20 + 4096) // the slot of a piece of 1 MiB + 1
	cases := []struct {
		pieceLen  int64
		numPieces int
		carved    int
		want      int
	}{
		{1 << 20, 1024, 0, firstArena >> 20},                                // the first arena is small
		{1 << 20, 1024, firstArena >> 20, (maxBuffered - firstArena) >> 20}, // the second has the rest
		{1 << 20, 1024, maxBuffered >> 20, 0},                               // and that is all
		{16 << 10, 5, 0, 5},                                                 // no more than the torrent needs
		{1<<20 + 1, 100, 0, int(firstArena / odd)},                          // odd lengths get aligned slots
		{1<<20 + 1, 100, int(firstArena / odd), int(maxBuffered/odd - firstArena/odd)},
		{16 << 20, 10, 0, 1}, // an arena holds one piece at least
		{64 << 20, 10, 0, 0}, // pieces above the cap go to disk
	}
	for _, c := range cases {
		l := &storage.Layout{PieceLength: c.pieceLen, NumPieces: c.numPieces}
		bufs := carveBuffers(l, c.carved)
		if len(bufs) != c.want {
			t.Errorf("piece length %d, %d pieces, %d carved before: %d buffers, want %d", c.pieceLen, c.numPieces, c.carved, len(bufs), c.want)
		}
		end := uintptr(0)
		for i, b := range bufs {
			at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
			if int64(len(b)) != c.pieceLen || int64(cap(b)) != c.pieceLen || at%storage.DirectAlign != 0 || at < end {
				t.Fatalf("piece length %d: buffer %d has len %d cap %d at %#x (previous ends at %#x)", c.pieceLen, i, len(b), cap(b), at, end)
			}
			end = at + uintptr(len(b))
		}
	}
}

// TestBuffersAreReused: a released piece buffer is the next one handed
// out, so a download cycles through a few hot buffers of the arena.
func TestBuffersAreReused(t *testing.T) {
	l := &storage.Layout{PieceLength: 256 << 10, NumPieces: 1000, TotalLength: 1000 * 256 << 10}
	s := &Swarm{layout: l, bufs: map[int][]byte{}, onDisk: map[int]bool{}, writing: map[int]int{}}
	first := s.pieceBuffer(0)
	second := s.pieceBuffer(1)
	if &first[0] == &second[0] {
		t.Fatal("two pieces share a buffer")
	}
	s.releaseBuffer(0)
	if again := s.pieceBuffer(2); &again[0] != &first[0] {
		t.Error("piece 2 did not get the buffer piece 0 released")
	}
	for p := 3; p < l.NumPieces; p++ {
		if s.pieceBuffer(p) == nil {
			if s.buffered+l.PieceLength <= maxBuffered {
				t.Fatalf("piece %d sent to disk with %d bytes buffered", p, s.buffered)
			}
			break
		}
	}
	if len(s.freeBufs) != 0 || s.buffered > maxBuffered {
		t.Errorf("arena full: %d free buffers left, %d bytes buffered", len(s.freeBufs), s.buffered)
	}
}
