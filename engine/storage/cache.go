package storage

import (
	"container/list"
	"sync"
)

// maxOpenFiles bounds the file descriptors that all Files of the process
// keep open together (a file opened for direct writes counts twice). A
// library of thousands of torrents then runs under the usual limit of 1024
// open files: only the files in use, and the most recently used idle ones,
// are open. The root folder of a Files is opened only for the moment a
// file is opened below it.
const maxOpenFiles = 256

// maxMappings bounds the content files that all Files keep mapped.
const maxMappings = 256

// cache holds the open handles and mappings of every Files, each list in
// least-recently-used order. Its mutex also guards every Files' open and
// maps tables, closed flag, and the refs and stale fields of handles and
// mappings. No system call that can block for long (open, mmap, munmap)
// is made with it held; closing an evicted file and unmapping a retired
// mapping are done after it is released.
type cache struct {
	mu       sync.Mutex
	fds      int       // descriptors held by handles in lru
	lru      list.List // *handle, most recently used first
	maps     list.List // *mapping, most recently used first
	fdLimit  int
	mapLimit int
}

// shared is the one cache for every Files in the process.
var shared = &cache{fdLimit: maxOpenFiles, mapLimit: maxMappings}

// OpenFiles reports how many file descriptors the storage of every torrent
// in the process holds right now, and the bound they stay under (busy
// files may exceed it for the moment they are in use).
func OpenFiles() (open, limit int) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	return shared.fds, shared.fdLimit
}

// used moves h to the front of the LRU list. c.mu must be held.
func (c *cache) used(h *handle) { c.lru.MoveToFront(h.elem) }

// add puts a new handle at the front and returns the handles evicted to
// stay within the limit, to be closed once c.mu is released. c.mu must be
// held.
func (c *cache) add(h *handle) []*handle {
	h.elem = c.lru.PushFront(h)
	c.fds += h.fds()
	return c.evict()
}

// evict retires least recently used idle handles while over the limit.
// c.mu must be held; the returned handles are closed by the caller.
func (c *cache) evict() []*handle {
	var out []*handle
	for e := c.lru.Back(); e != nil && c.fds > c.fdLimit; {
		h := e.Value.(*handle)
		e = e.Prev()
		if h.refs == 0 {
			out = append(out, c.retire(h)...)
		}
	}
	return out
}

// retire takes h out of its Files and the LRU list; it is returned for
// closing when no operation uses it, else closed by the last release.
// c.mu must be held.
func (c *cache) retire(h *handle) []*handle {
	if h.owner.open[h.idx] == h {
		delete(h.owner.open, h.idx)
	}
	if h.elem != nil {
		c.lru.Remove(h.elem)
		h.elem = nil
		c.fds -= h.fds()
	}
	h.stale = true
	if h.refs == 0 {
		return []*handle{h}
	}
	return nil
}

// closeHandles closes handles retired by the cache. c.mu must not be held.
func closeHandles(hs []*handle) {
	for _, h := range hs {
		_ = h.close()
	}
}

// addMap puts a new mapping at the front and retires idle ones over the
// limit; it returns their memory, to be unmapped once c.mu is released.
// c.mu must be held.
func (c *cache) addMap(m *mapping) [][]byte {
	m.elem = c.maps.PushFront(m)
	var out [][]byte
	for e := c.maps.Back(); e != nil && c.maps.Len() > c.mapLimit; {
		old := e.Value.(*mapping)
		e = e.Prev()
		if old.refs == 0 {
			out = append(out, c.retireMap(old))
		}
	}
	return out
}

// retireMap forgets m. If no view uses it, it returns its memory, to be
// unmapped once c.mu is released; else the last unpin unmaps it. c.mu
// must be held.
func (c *cache) retireMap(m *mapping) []byte {
	if m.owner.maps[m.idx] == m {
		delete(m.owner.maps, m.idx)
	}
	if m.elem != nil {
		c.maps.Remove(m.elem)
		m.elem = nil
	}
	m.stale = true
	if m.refs > 0 {
		return nil
	}
	data := m.data
	m.data = nil
	return data
}

// testUnmapping, when set (tests), is called before each unmapAll unmap.
var testUnmapping func()

// unmapAll unmaps memory retired by the cache. c.mu must not be held:
// munmap of a large file takes a while, and every torrent's storage
// would wait for it.
func unmapAll(datas ...[]byte) {
	for _, d := range datas {
		if d == nil {
			continue
		}
		if testUnmapping != nil {
			testUnmapping()
		}
		_ = unmapFile(d)
	}
}
