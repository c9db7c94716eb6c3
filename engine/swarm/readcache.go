package swarm

import (
	"fmt"
	"sync"
)

// readCache keeps the last few whole pieces read for upload: peers request
// a piece's blocks one after another, so one read serves them all and saves
// a syscall per 16 KiB block. Evicted buffers are reused, so serving does
// not churn the garbage collector; blocks are copied out under the lock, so
// a buffer is never reused while someone reads it.
type readCache struct {
	mu      sync.Mutex
	entries []cachedPiece // most recent last
	free    [][]byte
	limit   int64
	size    int64
}

type cachedPiece struct {
	piece int
	data  []byte
}

const readCacheBytes = 16 << 20

// withPiece calls use with the cached bytes [begin, begin+n) of piece,
// under the lock (so the buffer is not reused meanwhile); false if the
// piece is not cached.
func (c *readCache) withPiece(piece int, begin, n int64, use func([]byte) error) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.entries) - 1; i >= 0; i-- {
		if c.entries[i].piece != piece {
			continue
		}
		data := c.entries[i].data
		if begin+n > int64(len(data)) {
			return true, fmt.Errorf("read block: %d+%d beyond piece %d of %d bytes", begin, n, piece, len(data))
		}
		return true, use(data[begin : begin+n])
	}
	return false, nil
}

// copyOut copies piece bytes from begin into dst if the piece is cached.
func (c *readCache) copyOut(dst []byte, piece int, begin int64) (bool, error) {
	return c.withPiece(piece, begin, int64(len(dst)), func(b []byte) error { copy(dst, b); return nil })
}

// has reports whether piece is cached.
func (c *readCache) has(piece int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.entries) - 1; i >= 0; i-- {
		if c.entries[i].piece == piece {
			return true
		}
	}
	return false
}

// buffer returns a reused buffer of size bytes, or a new one.
func (c *readCache) buffer(size int64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, b := range c.free {
		if int64(cap(b)) >= size {
			c.free = append(c.free[:i], c.free[i+1:]...)
			return b[:size]
		}
	}
	return make([]byte, size)
}

// put adds a piece, evicting the oldest beyond the byte limit.
func (c *readCache) put(piece int, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, cachedPiece{piece: piece, data: data})
	c.size += int64(len(data))
	for c.size > c.limit && len(c.entries) > 1 {
		old := c.entries[0]
		c.size -= int64(len(old.data))
		c.entries = c.entries[1:]
		if len(c.free) < 4 {
			c.free = append(c.free, old.data[:cap(old.data)])
		}
	}
}

// cacheable reports whether a piece is small enough for the read cache.
func (s *Swarm) cacheable(piece int) bool { return s.layout.PieceSize(piece) <= readCacheBytes/4 }

// writeBlock adds n bytes of piece from begin to the outbox: as views of
// the mapped file where it can, else read (through the cache when pieces
// are small enough).
func (s *Swarm) writeBlock(o *outbox, piece int, begin int64, n int) error {
	if o.addViews(s.files, s.layout.PieceOffset(piece)+begin, n) {
		return nil
	}
	_, err := s.readBlock(o.grow(n), piece, begin)
	return err
}

// warmCache reads a cacheable piece into the read cache unless it is there.
func (s *Swarm) warmCache(piece int) error {
	if s.rcache.has(piece) {
		return nil
	}
	data := s.rcache.buffer(s.layout.PieceSize(piece))
	if _, err := s.files.ReadAt(data, s.layout.PieceOffset(piece)); err != nil {
		return err
	}
	s.rcache.put(piece, data)
	return nil
}

// readBlock fills buf with piece data from begin, through the cache when
// pieces are small enough to cache.
func (s *Swarm) readBlock(buf []byte, piece int, begin int64) ([]byte, error) {
	size := s.layout.PieceSize(piece)
	if size > readCacheBytes/4 {
		_, err := s.files.ReadAt(buf, s.layout.PieceOffset(piece)+begin)
		return buf, err
	}
	if ok, err := s.rcache.copyOut(buf, piece, begin); ok {
		return buf, err
	}
	data := s.rcache.buffer(size)
	if _, err := s.files.ReadAt(data, s.layout.PieceOffset(piece)); err != nil {
		return nil, err
	}
	if begin+int64(len(buf)) > size {
		return nil, fmt.Errorf("read block: %d+%d beyond piece %d of %d bytes", begin, len(buf), piece, size)
	}
	copy(buf, data[begin:]) // before put: afterwards the cache owns data
	s.rcache.put(piece, data)
	return buf, nil
}
