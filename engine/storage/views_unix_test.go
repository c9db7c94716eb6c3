//go:build unix

package storage

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestViewOfTruncatedFile: when someone truncates a file under a view, a
// write from the view fails with an error instead of crashing us (the
// reason only the kernel may read views).
func TestViewOfTruncatedFile(t *testing.T) {
	t.Parallel()
	if !canMap {
		t.Skip("no mmap on this system")
	}
	fx := newFixture(t, 16*kib, 7, fi(256*kib))
	s, dir := openFixture(t, fx)
	if _, err := s.WriteAt(fx.data, 0); err != nil {
		t.Fatal(err)
	}
	var v Views
	if !s.AddView(&v, 128*kib, 64*kib) {
		t.Fatal("AddView refused")
	}
	defer v.Release()
	if err := os.Truncate(filepath.Join(dir, "t"), 0); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	raw, err := w.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var werr error
	raw.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), v.Bufs[0])
		return true
	})
	if !errors.Is(werr, syscall.EFAULT) {
		t.Fatalf("write from a view of a truncated file: n=%d err=%v, want EFAULT", n, werr)
	}
}

// TestUnmapWithoutCacheLock: the last Release of a closed file's views
// unmaps it with the descriptor cache's lock free, so every other
// torrent's storage goes on meanwhile (munmap of a large file takes a
// while).
func TestUnmapWithoutCacheLock(t *testing.T) {
	if !canMap {
		t.Skip("no mmap on this system")
	}
	fx := newFixture(t, 16*kib, 7, fi(256*kib))
	s, _ := openFixture(t, fx)
	if _, err := s.WriteAt(fx.data, 0); err != nil {
		t.Fatal(err)
	}
	var v Views
	if !s.AddView(&v, 0, 64*kib) {
		t.Fatal("AddView refused")
	}
	if err := s.Close(); err != nil { // the mapping is in use: it stays until Release
		t.Fatal(err)
	}
	free := make(chan bool, 1)
	testUnmapping = func() {
		got := make(chan struct{})
		go func() {
			s.c.mu.Lock()
			s.c.mu.Unlock()
			close(got)
		}()
		select {
		case <-got:
			free <- true
		case <-time.After(5 * time.Second):
			free <- false
		}
	}
	defer func() { testUnmapping = nil }()
	v.Release()
	select {
	case ok := <-free:
		if !ok {
			t.Fatal("the cache's lock was held while the file was unmapped")
		}
	default:
		t.Fatal("Release of the last view did not unmap the closed file's mapping")
	}
}
