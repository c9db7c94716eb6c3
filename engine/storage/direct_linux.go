package storage

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// directFile returns h's second descriptor, opened with O_DIRECT on the
// same file (checked), opening it on first use. The cache's lock is taken
// briefly; the second descriptor counts against the cache's limit.
func (s *Files) directFile(h *handle) (*os.File, error) {
	s.c.mu.Lock()
	d := h.direct
	s.c.mu.Unlock()
	if d != nil {
		return d, nil
	}
	path := s.layout.Files[h.idx].Path
	root, err := s.openRoot()
	if err != nil {
		return nil, err
	}
	d, err = root.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT, 0)
	root.Close()
	if err != nil {
		if directRefused(err) {
			return nil, fmt.Errorf("%w: open %s: %w", errDirectUnsupported, path, err)
		}
		return nil, fmt.Errorf("storage: open %s for direct writes: %w", path, err)
	}
	if err := sameOpenFile(h.f, d); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("storage: open %s: %w: %w", path, ErrUnsafePath, err)
	}
	c := s.c
	c.mu.Lock()
	if h.direct != nil { // another writer got there first
		c.mu.Unlock()
		_ = d.Close()
		return h.direct, nil
	}
	h.direct = d
	var victims []*handle
	if h.elem != nil {
		c.fds++
		victims = c.evict()
	}
	c.mu.Unlock()
	closeHandles(victims)
	return d, nil
}

// directRefused reports the errors a filesystem gives when it cannot do
// direct I/O (or not with this alignment).
func directRefused(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP)
}

// adviseHuge asks for transparent huge pages behind b, which starts on a
// huge-page boundary. It is advice: where THP is off, b keeps small pages.
func adviseHuge(b []byte) {
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
}
