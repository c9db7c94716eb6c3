//go:build unix

package storage

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
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
