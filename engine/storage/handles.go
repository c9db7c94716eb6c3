package storage

import (
	"container/list"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// handle is one open content file, shared by concurrent readers and writers
// (os.File.ReadAt and WriteAt are safe for concurrent use). Its refs,
// stale and direct fields are guarded by the cache's mutex.
type handle struct {
	owner    *Files
	idx      int
	f        *os.File
	direct   *os.File // the same file opened for direct writes, or nil
	writable bool
	refs     int           // operations using f right now
	stale    bool          // replaced or evicted: close when refs drops to 0
	elem     *list.Element // in the cache's LRU list, nil once retired
}

// fds is how many descriptors h holds.
func (h *handle) fds() int {
	if h.direct != nil {
		return 2
	}
	return 1
}

// acquire returns an open handle for file i, opening (and for writing,
// creating) it below the root if needed. Call release when done.
func (s *Files) acquire(i int, write bool) (*handle, error) {
	c := s.c
	c.mu.Lock()
	if h, err := s.cached(i, write); h != nil || err != nil {
		c.mu.Unlock()
		return h, err
	}
	c.mu.Unlock()
	f, err := s.openFile(i, write)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	h, err := s.cached(i, write) // opened meanwhile by another caller, or closed
	if h != nil || err != nil {
		c.mu.Unlock()
		_ = f.Close()
		return h, err
	}
	var victims []*handle
	if old := s.open[i]; old != nil {
		victims = c.retire(old)
	}
	h = &handle{owner: s, idx: i, f: f, writable: write, refs: 1}
	s.open[i] = h
	victims = append(victims, c.add(h)...)
	c.mu.Unlock()
	closeHandles(victims)
	return h, nil
}

// cached takes one more use of file i's open handle if it has one fit for
// the access. s.c.mu must be held.
func (s *Files) cached(i int, write bool) (*handle, error) {
	if s.closed {
		return nil, ErrClosed
	}
	h := s.open[i]
	if h == nil || (write && !h.writable) {
		return nil, nil
	}
	h.refs++
	s.c.used(h)
	return h, nil
}

// release ends one use of h.
func (s *Files) release(h *handle) {
	s.c.mu.Lock()
	h.refs--
	last := h.stale && h.refs == 0
	s.c.mu.Unlock()
	if last {
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

// openRoot opens the folder the content lives in, for the moment of one
// operation: a Files keeps no descriptor of its own between operations.
func (s *Files) openRoot() (*os.Root, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", s.dir, err)
	}
	return root, nil
}

// openFile opens file i of the layout below the root without following
// symbolic links. For writing it creates missing folders and the file, and
// extends a short file to its length (sparse, no zero-fill).
func (s *Files) openFile(i int, write bool) (*os.File, error) {
	root, err := s.openRoot()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fl := s.layout.Files[i]
	if err := checkDirs(root, fl.Path, write); err != nil {
		return nil, err
	}
	if _, err := lstatRegular(root, fl.Path); err != nil && (!write || !errors.Is(err, fs.ErrNotExist)) {
		return nil, err
	}
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := root.OpenFile(fl.Path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", fl.Path, err)
	}
	if err := checkOpened(root, f, fl, write); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// lstatRegular returns the Lstat of rel below the root, failing if it is
// anything but a regular file. A missing file wraps both ErrNotPresent and
// fs.ErrNotExist.
func lstatRegular(root *os.Root, rel string) (fs.FileInfo, error) {
	fi, err := root.Lstat(rel)
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
func checkOpened(root *os.Root, f *os.File, fl File, write bool) error {
	opened, err := f.Stat()
	if err != nil {
		return fmt.Errorf("storage: stat %s: %w", fl.Path, err)
	}
	there, err := lstatRegular(root, fl.Path)
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
func checkDirs(root *os.Root, rel string, mkdir bool) error {
	dir := filepath.Dir(rel)
	if dir == "." {
		return nil
	}
	parts := strings.Split(dir, string(filepath.Separator))
	for n := 1; n <= len(parts); n++ {
		p := filepath.Join(parts[:n]...)
		fi, err := root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && mkdir:
			if err := root.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
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
