package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
)

var (
	// ErrNotPresent reports content that is not on disk: a missing file or
	// folder, or a file shorter than its torrent length.
	ErrNotPresent = errors.New("storage: data not present")
	// ErrOutOfRange reports an access outside the torrent's byte space or
	// a piece index out of range.
	ErrOutOfRange = errors.New("storage: out of range")
	// ErrClosed reports use of Files after Close.
	ErrClosed = errors.New("storage: closed")
)

// Files is open storage for one torrent below a folder. The content lives
// at dir/Name (a file for single-file torrents, a folder otherwise). It is
// safe for concurrent use by many goroutines.
type Files struct {
	layout *Layout
	dir    string
	c      *cache
	bufs   sync.Pool // *[]byte of hashChunk bytes
	pieces sync.Pool // *[]byte of a piece: v2 pieces are hashed whole
	// noDirect is set once a direct write was refused: WriteThrough then
	// writes through the page cache.
	noDirect atomic.Bool

	// Guarded by c.mu: storage open for thousands of torrents shares one
	// bounded set of descriptors (see cache).
	closed bool
	open   map[int]*handle
	maps   map[int]*mapping // see AddView
}

// Open prepares storage for l below dir: it creates dir, the torrent's
// folders and its zero-length files. Other files are created on first
// write, sparse. Content already on disk is kept.
func Open(dir string, l *Layout) (*Files, error) {
	if l == nil || len(l.Files) == 0 {
		return nil, fmt.Errorf("storage: open: %w: empty layout", ErrBadInfo)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	s := &Files{layout: l, dir: dir, c: shared, open: make(map[int]*handle), maps: make(map[int]*mapping)}
	s.bufs.New = func() any { b := make([]byte, hashChunk); return &b }
	s.pieces.New = func() any { b := make([]byte, l.PieceLength); return &b }
	if err := s.prepare(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// prepare creates the folders of every stored file and the empty files.
func (s *Files) prepare() error {
	root, err := s.openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	for i, f := range s.layout.Files {
		if f.Pad {
			continue
		}
		if err := checkDirs(root, f.Path, true); err != nil {
			return err
		}
		if f.Length > 0 {
			continue
		}
		_, err := lstatRegular(root, f.Path)
		if err == nil {
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		h, err := s.acquire(i, true)
		if err != nil {
			return err
		}
		s.release(h)
	}
	return nil
}

// Layout returns the layout the storage was opened with.
func (s *Files) Layout() *Layout { return s.layout }

// WriteAt writes p at offset off of the torrent's byte space, across file
// boundaries. Bytes that fall in padding files are dropped.
func (s *Files) WriteAt(p []byte, off int64) (int, error) {
	return s.span(p, off, func(i int, chunk []byte, at int64) (int, error) { return s.segment(i, chunk, at, true) })
}

// ReadAt reads len(p) bytes at offset off of the torrent's byte space,
// across file boundaries. Missing or short files yield ErrNotPresent;
// padding files read as zeros.
func (s *Files) ReadAt(p []byte, off int64) (int, error) {
	return s.span(p, off, func(i int, chunk []byte, at int64) (int, error) { return s.segment(i, chunk, at, false) })
}

// span does a read or write of p at off, one file segment at a time: do
// gets each file's index, its part of p and the offset in that file.
func (s *Files) span(p []byte, off int64, do func(i int, chunk []byte, at int64) (int, error)) (int, error) {
	l := s.layout
	if off < 0 || int64(len(p)) > l.TotalLength-off {
		return 0, fmt.Errorf("storage: access %d+%d of %d: %w", off, len(p), l.TotalLength, ErrOutOfRange)
	}
	done := 0
	for i := l.fileAt(off); done < len(p); i++ {
		f := l.Files[i]
		if f.Length == 0 {
			continue
		}
		at := off + int64(done) - f.Offset
		n := min(int64(len(p)-done), f.Length-at)
		chunk := p[done : done+int(n)]
		m, err := do(i, chunk, at)
		done += m
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// segment reads or writes chunk at offset at of file i.
func (s *Files) segment(i int, chunk []byte, at int64, write bool) (int, error) {
	if s.layout.Files[i].Pad {
		if !write {
			clear(chunk)
		}
		return len(chunk), nil
	}
	h, err := s.acquire(i, write)
	if err != nil {
		return 0, err
	}
	defer s.release(h)
	if write {
		n, err := h.f.WriteAt(chunk, at)
		if err != nil {
			return n, fmt.Errorf("storage: write %s: %w", s.layout.Files[i].Path, err)
		}
		return n, nil
	}
	n, err := h.f.ReadAt(chunk, at)
	if errors.Is(err, io.EOF) {
		return n, fmt.Errorf("storage: read %s: short file: %w", s.layout.Files[i].Path, ErrNotPresent)
	}
	if err != nil {
		return n, fmt.Errorf("storage: read %s: %w", s.layout.Files[i].Path, err)
	}
	return n, nil
}

// Close closes every open file. Operations still running finish first on
// their own handle; later ones fail with ErrClosed.
func (s *Files) Close() error {
	c := s.c
	c.mu.Lock()
	if s.closed {
		c.mu.Unlock()
		return nil
	}
	s.closed = true
	var idle []*handle
	for _, h := range s.open {
		idle = append(idle, c.retire(h)...)
	}
	var unused [][]byte
	for _, m := range s.maps {
		unused = append(unused, c.retireMap(m)) // one still in use goes when its views are released
	}
	c.mu.Unlock()
	unmapAll(unused...)
	var errs []error
	for _, h := range idle {
		errs = append(errs, h.close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	return nil
}
