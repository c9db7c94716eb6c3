package storage

import (
	"container/list"
	"fmt"
)

// mapping is one content file mapped read-only, so uploads are copied by
// the kernel from the page cache to the socket without passing through a
// buffer of ours. Fields are guarded by the cache's mutex.
type mapping struct {
	owner *Files
	idx   int
	data  []byte
	refs  int           // views in use
	stale bool          // evicted or closed: unmapped when refs drops to 0
	elem  *list.Element // in the cache's LRU list of mappings
}

// Views gathers read-only views of content for one vectored write
// (writev). Bufs holds them in the order added and stays valid until
// Release. Only the kernel may read them: a file truncated by someone else
// meanwhile makes the write fail with EFAULT, where a read from Go would
// crash the program.
type Views struct {
	Bufs [][]byte
	pins []*mapping
	s    *Files
}

// AddView appends views of n bytes at off of the torrent's byte space to
// v. It adds nothing and reports false when the range cannot be mapped
// (padding, a missing or short file, a system without mmap); the caller
// reads those bytes instead, and gets ReadAt's errors.
func (s *Files) AddView(v *Views, off int64, n int) bool {
	l := s.layout
	if !canMap || n <= 0 || off < 0 || int64(n) > l.TotalLength-off || (v.s != nil && v.s != s) {
		return false
	}
	v.s = s
	bufs, pins := len(v.Bufs), len(v.pins)
	end := off + int64(n)
	for i := l.fileAt(off); off < end; i++ {
		f := l.Files[i]
		if f.Length == 0 {
			continue
		}
		m, err := s.pin(i)
		if err != nil {
			v.undo(bufs, pins)
			return false
		}
		at := off - f.Offset
		chunk := min(end-off, f.Length-at)
		v.Bufs = append(v.Bufs, m.data[at:at+chunk])
		v.pins = append(v.pins, m)
		off += chunk
	}
	return true
}

// undo releases the views past the first bufs and pins.
func (v *Views) undo(bufs, pins int) {
	for _, m := range v.pins[pins:] {
		v.s.unpin(m)
	}
	clear(v.Bufs[bufs:])
	clear(v.pins[pins:])
	v.Bufs, v.pins = v.Bufs[:bufs], v.pins[:pins]
}

// Release ends the use of every view in v and empties it for reuse.
func (v *Views) Release() {
	if v.s != nil {
		v.undo(0, 0)
	}
}

// pin returns file i's mapping, mapping it on first use.
func (s *Files) pin(i int) (*mapping, error) {
	if s.layout.Files[i].Pad {
		return nil, fmt.Errorf("storage: map %s: padding has no file", s.layout.Files[i].Path)
	}
	c := s.c
	c.mu.Lock()
	m, err := s.pinned(i)
	c.mu.Unlock()
	if m != nil || err != nil {
		return m, err
	}
	data, err := s.mapFile(i)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if m, err := s.pinned(i); m != nil || err != nil { // mapped meanwhile, or closed
		c.mu.Unlock()
		unmapAll(data)
		return m, err
	}
	m = &mapping{owner: s, idx: i, data: data, refs: 1}
	s.maps[i] = m
	evicted := c.addMap(m)
	c.mu.Unlock()
	unmapAll(evicted...)
	return m, nil
}

// pinned takes one more use of file i's mapping if it has one.
// s.c.mu must be held.
func (s *Files) pinned(i int) (*mapping, error) {
	if s.closed {
		return nil, ErrClosed
	}
	m := s.maps[i]
	if m == nil {
		return nil, nil
	}
	m.refs++
	s.c.maps.MoveToFront(m.elem)
	return m, nil
}

// unpin ends one use of m.
func (s *Files) unpin(m *mapping) {
	s.c.mu.Lock()
	m.refs--
	var data []byte
	if m.stale && m.refs == 0 {
		data, m.data = m.data, nil
	}
	s.c.mu.Unlock()
	unmapAll(data)
}

// mapFile maps file i, which must be on disk at its full length.
func (s *Files) mapFile(i int) ([]byte, error) {
	h, err := s.acquire(i, false)
	if err != nil {
		return nil, err
	}
	defer s.release(h)
	fl := s.layout.Files[i]
	fi, err := h.f.Stat()
	if err != nil {
		return nil, fmt.Errorf("storage: stat %s: %w", fl.Path, err)
	}
	if fi.Size() < fl.Length {
		return nil, fmt.Errorf("storage: map %s: short file: %w", fl.Path, ErrNotPresent)
	}
	raw, err := h.f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("storage: map %s: %w", fl.Path, err)
	}
	var data []byte
	cerr := raw.Control(func(fd uintptr) { data, err = mapFD(int(fd), fl.Length) })
	if err = firstErr(cerr, err); err != nil {
		return nil, fmt.Errorf("storage: map %s: %w", fl.Path, err)
	}
	return data, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
