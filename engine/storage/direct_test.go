package storage

import (
	"bytes"
	"crypto/sha1"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"

	"github.com/anacrolix/torrent/metainfo"
)

func TestAlignedBuffer(t *testing.T) {
	for _, n := range []int{1, 4095, 4096, 16 << 10, 1<<20 + 7} {
		b := AlignedBuffer(n)
		if len(b) != n || cap(b) != n || !aligned(b) {
			t.Errorf("AlignedBuffer(%d): len %d cap %d aligned %v", n, len(b), cap(b), aligned(b))
		}
	}
}

func TestHugeBuffer(t *testing.T) {
	for _, n := range []int{4096, 1 << 20, 32 << 20, 3<<20 + 4096} {
		b := HugeBuffer(n)
		at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		if len(b) != n || cap(b) != n || !aligned(b) || n >= hugePage && at%hugePage != 0 {
			t.Errorf("HugeBuffer(%d): len %d cap %d at %#x", n, len(b), cap(b), at)
		}
		b[0], b[n-1] = 1, 2 // all of it is usable
	}
}

// TestWriteThrough writes every piece with WriteThrough, in parallel and
// over stale cached data, and checks each file holds exactly its bytes:
// aligned files go direct, unaligned ones and tails buffered.
func TestWriteThrough(t *testing.T) {
	pad := fi(16*kib-100, ".pad", "x")
	pad.Attr = "p"
	cases := []struct {
		name string
		fx   func(t *testing.T) fixture
	}{
		{"single file with a short tail", func(t *testing.T) fixture {
			return newFixture(t, 64*kib, 7, metainfo.FileInfo{Length: 5*64*kib + 4096 + 123})
		}},
		{"unaligned files", func(t *testing.T) fixture { return multiFixture(t) }},
		{"padded files", func(t *testing.T) fixture {
			fx := newFixture(t, 16*kib, 3, fi(100, "a"), pad, fi(48*kib+10, "b"))
			clear(fx.data[100 : 16*kib])
			return rehash(t, fx)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fx := c.fx(t)
			s, dir := openFixture(t, fx)
			// Stale bytes already in the page cache must not survive.
			garbage := bytes.Repeat([]byte{0xee}, len(fx.data))
			if _, err := s.WriteAt(garbage, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ReadAt(make([]byte, len(fx.data)), 0); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for _, i := range rand.Perm(fx.layout.NumPieces) {
				wg.Go(func() {
					buf := AlignedBuffer(len(fx.piece(i)))
					copy(buf, fx.piece(i))
					if n, err := s.WriteThrough(buf, fx.layout.PieceOffset(i)); err != nil || n != len(buf) {
						t.Errorf("WriteThrough piece %d: n=%d err=%v", i, n, err)
					}
				})
			}
			wg.Wait()
			checkStored(t, s, dir, fx)
			t.Logf("direct writes refused here: %v", s.noDirect.Load())
		})
	}
}

func TestWriteThroughErrors(t *testing.T) {
	fx := multiFixture(t)
	s, _ := openFixture(t, fx)
	if _, err := s.WriteThrough(make([]byte, 10), fx.layout.TotalLength-5); err == nil {
		t.Error("a write past the end succeeded")
	}
	if _, err := s.WriteThrough(make([]byte, 1), -1); err == nil {
		t.Error("a write at a negative offset succeeded")
	}
	_ = s.Close()
	if _, err := s.WriteThrough(AlignedBuffer(4096), 0); err == nil {
		t.Error("a write after Close succeeded")
	}
}

// rehash recomputes fx's piece hashes after its data was edited.
func rehash(t *testing.T, fx fixture) fixture {
	t.Helper()
	for i := range fx.layout.NumPieces {
		fx.layout.Hashes[i] = sha1.Sum(fx.piece(i))
	}
	return fx
}
