package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxOpenFiles bounds the file handles one Files keeps open.
const maxOpenFiles = 64

// handle is one open content file, shared by concurrent readers and writers
// (os.File.ReadAt and WriteAt are safe for concurrent use).
type handle struct {
	idx      int
	f        *os.File
	direct   *os.File // the same file opened for direct writes, or nil
	writable bool
	refs     int    // operations using f right now
	used     uint64 // tick of the last acquire, for eviction
	stale    bool   // replaced or evicted: close when refs drops to 0
}

// acquire returns an open handle for file i, opening (and for writing,
// creating) it below the root if needed. Call release when done.
func (s *Files) acquire(i int, write bool) (*handle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.tick++
	if h := s.open[i]; h != nil && (h.writable || !write) {
		h.refs++
		h.used = s.tick
		return h, nil
	}
	f, err := s.openFile(i, write)
	if err != nil {
		return nil, err
	}
	if old := s.open[i]; old != nil {
		s.retire(old)
	}
	h := &handle{idx: i, f: f, writable: write, refs: 1, used: s.tick}
	s.open[i] = h
	s.evict()
	return h, nil
}

// release ends one use of h.
func (s *Files) release(h *handle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.refs--
	if h.stale && h.refs == 0 {
		_ = h.close()
	}
}

// close closes h's descriptors.
func (h *handle) close() error {
	var err error
	if h.direct != nil {
		err = h.direct.Close()
	}
	return errors.Join(h.f.Close(), err)
}

// sameOpenFile fails unless a and b are open on the same file.
func sameOpenFile(a, b *os.File) error {
	ai, err := a.Stat()
	if err != nil {
		return err
	}
	bi, err := b.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(ai, bi) {
		return errors.New("file changed while opening")
	}
	return nil
}

// retire removes h from the open set and closes it once unused.
// s.mu must be held.
func (s *Files) retire(h *handle) {
	delete(s.open, h.idx)
	h.stale = true
	if h.refs == 0 {
		_ = h.close()
	}
}

// evict closes least recently used idle handles above maxOpenFiles.
// s.mu must be held.
func (s *Files) evict() {
	for len(s.open) > maxOpenFiles {
		var lru *handle
		for _, h := range s.open {
			if h.refs == 0 && (lru == nil || h.used < lru.used) {
				lru = h
			}
		}
		if lru == nil {
			return // all busy; shrink on a later acquire
		}
		s.retire(lru)
	}
}

// openFile opens file i of the layout below the root without following
// symbolic links. For writing it creates missing folders and the file, and
// extends a short file to its length (sparse, no zero-fill).
func (s *Files) openFile(i int, write bool) (*os.File, error) {
	fl := s.layout.Files[i]
	if err := s.checkDirs(fl.Path, write); err != nil {
		return nil, err
	}
	if _, err := s.lstatRegular(fl.Path); err != nil && (!write || !errors.Is(err, fs.ErrNotExist)) {
		return nil, err
	}
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := s.root.OpenFile(fl.Path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", fl.Path, err)
	}
	if err := s.checkOpened(f, fl, write); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// lstatRegular returns the Lstat of rel below the root, failing if it is
// anything but a regular file. A missing file wraps both ErrNotPresent and
// fs.ErrNotExist.
func (s *Files) lstatRegular(rel string) (fs.FileInfo, error) {
	fi, err := s.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("storage: open %s: %w (%w)", rel, ErrNotPresent, err)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: lstat %s: %w", rel, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("storage: open %s: %w: not a regular file (%v)", rel, ErrUnsafePath, fi.Mode().Type())
	}
	return fi, nil
}

// checkOpened makes sure the opened f is the regular file now at fl.Path
// (not something swapped in through a symbolic link after the first check)
// and, for writing, extends it to its length.
func (s *Files) checkOpened(f *os.File, fl File, write bool) error {
	opened, err := f.Stat()
	if err != nil {
		return fmt.Errorf("storage: stat %s: %w", fl.Path, err)
	}
	there, err := s.lstatRegular(fl.Path)
	if err != nil {
		return err
	}
	if !os.SameFile(opened, there) {
		return fmt.Errorf("storage: open %s: %w: file changed while opening", fl.Path, ErrUnsafePath)
	}
	if write && opened.Size() < fl.Length {
		if err := f.Truncate(fl.Length); err != nil {
			return fmt.Errorf("storage: extend %s: %w", fl.Path, err)
		}
	}
	return nil
}

// checkDirs walks the folders of rel (a path below the root) with Lstat and
// fails if any of them is a symbolic link or not a folder. With mkdir it
// creates missing folders; without, a missing folder is ErrNotPresent.
func (s *Files) checkDirs(rel string, mkdir bool) error {
	dir := filepath.Dir(rel)
	if dir == "." {
		return nil
	}
	parts := strings.Split(dir, string(filepath.Separator))
	for n := 1; n <= len(parts); n++ {
		p := filepath.Join(parts[:n]...)
		fi, err := s.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && mkdir:
			if err := s.root.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("storage: mkdir %s: %w", p, err)
			}
			continue
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("storage: open %s: %w", rel, ErrNotPresent)
		case err != nil:
			return fmt.Errorf("storage: lstat %s: %w", p, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("storage: %s: %w: not a folder (%v)", p, ErrUnsafePath, fi.Mode().Type())
		}
	}
	return nil
}
