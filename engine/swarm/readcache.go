package swarm

import (
	"fmt"
	"sync"
)

// readCache keeps the last few whole pieces read for upload: peers request
// a piece's blocks one after another, so one read serves them all and saves
// a syscall per 16 KiB block.
type readCache struct {
	mu      sync.Mutex
	entries []cachedPiece // most recent last
	limit   int64
	size    int64
}

type cachedPiece struct {
	piece int
	data  []byte
}

const readCacheBytes = 16 << 20

// get returns a cached piece.
func (c *readCache) get(piece int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.entries) - 1; i >= 0; i-- {
		if c.entries[i].piece == piece {
			return c.entries[i].data
		}
	}
	return nil
}

// put adds a piece, evicting the oldest beyond the byte limit.
func (c *readCache) put(piece int, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, cachedPiece{piece: piece, data: data})
	c.size += int64(len(data))
	for c.size > c.limit && len(c.entries) > 1 {
		c.size -= int64(len(c.entries[0].data))
		c.entries = c.entries[1:]
	}
}

// readBlock returns len(buf) bytes of a piece from begin: a slice of a
// cached piece (never written to: cached pieces are immutable), or buf
// filled from disk when the piece is too large to cache.
func (s *Swarm) readBlock(buf []byte, piece int, begin int64) ([]byte, error) {
	size := s.layout.PieceSize(piece)
	if size > readCacheBytes/4 {
		_, err := s.files.ReadAt(buf, s.layout.PieceOffset(piece)+begin)
		return buf, err
	}
	data := s.rcache.get(piece)
	if data == nil {
		data = make([]byte, size)
		if _, err := s.files.ReadAt(data, s.layout.PieceOffset(piece)); err != nil {
			return nil, err
		}
		s.rcache.put(piece, data)
	}
	if begin+int64(len(buf)) > int64(len(data)) {
		return nil, fmt.Errorf("read block: %d+%d beyond piece %d of %d bytes", begin, len(buf), piece, len(data))
	}
	return data[begin : begin+int64(len(buf))], nil
}
