package storage

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/anacrolix/torrent/metainfo"
)

// joined concatenates v's views (a test may read them: nothing truncates
// its files).
func joined(v *Views) []byte {
	var out []byte
	for _, b := range v.Bufs {
		out = append(out, b...)
	}
	return out
}

// TestViewsMatchContent: views of any range, across file boundaries and
// past zero-length files, hold exactly the content ReadAt returns, and
// Release gives every mapping back.
func TestViewsMatchContent(t *testing.T) {
	t.Parallel()
	if !canMap {
		t.Skip("no mmap on this system")
	}
	fx := multiFixture(t)
	s, _ := openFixture(t, fx)
	if _, err := s.WriteAt(fx.data, 0); err != nil {
		t.Fatal(err)
	}
	var v Views
	for range 300 {
		off := rand.Int64N(int64(len(fx.data)))
		n := int(rand.Int64N(min(int64(len(fx.data))-off, 40*kib))) + 1
		if !s.AddView(&v, off, n) {
			t.Fatalf("AddView(%d, %d) refused a range on disk", off, n)
		}
		if got := joined(&v); !bytes.Equal(got, fx.data[off:off+int64(n)]) {
			t.Fatalf("views of %d+%d differ from the content", off, n)
		}
		v.Release()
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	for _, m := range s.maps {
		if m.refs != 0 {
			t.Fatalf("file %d still has %d views after Release", m.idx, m.refs)
		}
	}
}

// TestViewsRefused: a range on a missing or short file, in padding or out
// of range gets no views, so the caller reads it and sees ReadAt's error.
func TestViewsRefused(t *testing.T) {
	t.Parallel()
	pad := fi(16*kib-100, ".pad", "x")
	pad.Attr = "p"
	fx := newFixture(t, 16*kib, 3, fi(100, "a"), pad, fi(16*kib, "b"))
	s, dir := openFixture(t, fx)
	var v Views
	for _, c := range []struct {
		name string
		off  int64
		n    int
	}{
		{"missing file", 16 * kib, 100},
		{"padding", 50, 100},
		{"past the end", 32*kib - 10, 20},
		{"negative offset", -1, 10},
	} {
		if s.AddView(&v, c.off, c.n) || len(v.Bufs) != 0 || len(v.pins) != 0 {
			t.Errorf("%s: AddView(%d, %d) gave %d views", c.name, c.off, c.n, len(v.Bufs))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "t", "b"), []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s.AddView(&v, 16*kib, 100) {
		t.Error("AddView mapped a file shorter than its torrent length")
	}
}

// TestViewsOutliveClose: Close while views are in use leaves them valid;
// the mapping goes when they are released.
func TestViewsOutliveClose(t *testing.T) {
	t.Parallel()
	if !canMap {
		t.Skip("no mmap on this system")
	}
	fx := newFixture(t, 16*kib, 5, fi(64*kib, "a"))
	s, _ := openFixture(t, fx)
	if _, err := s.WriteAt(fx.data, 0); err != nil {
		t.Fatal(err)
	}
	var v Views
	if !s.AddView(&v, 1000, 5000) {
		t.Fatal("AddView refused")
	}
	m := v.pins[0]
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(joined(&v), fx.data[1000:6000]) {
		t.Fatal("views changed after Close")
	}
	v.Release()
	if m.data != nil || len(s.maps) != 0 {
		t.Fatal("the mapping survived Close and Release")
	}
	if s.AddView(&v, 0, 10) {
		t.Fatal("AddView after Close")
	}
}

// TestViewsEvicted: no more than maxMappings files stay mapped.
func TestViewsEvicted(t *testing.T) {
	t.Parallel()
	if !canMap {
		t.Skip("no mmap on this system")
	}
	var files []metainfo.FileInfo
	for i := range 2 * maxMappings {
		files = append(files, fi(1000, "d", string(rune('a'+i%26)), string(rune('a'+i/26))))
	}
	fx := newFixture(t, 16*kib, 6, files...)
	s, _ := openFixture(t, fx)
	if _, err := s.WriteAt(fx.data, 0); err != nil {
		t.Fatal(err)
	}
	var v Views
	for off := int64(0); off < int64(len(fx.data)); off += 1000 {
		if !s.AddView(&v, off, 1000) {
			t.Fatalf("AddView(%d) refused", off)
		}
		v.Release()
	}
	if n := len(s.maps); n > maxMappings {
		t.Fatalf("%d files mapped, limit %d", n, maxMappings)
	}
}
