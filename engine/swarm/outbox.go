package swarm

import (
	"net"

	"github.com/shoalp2p/shoal/engine/storage"
)

// outboxFlush is how much the writer gathers before it writes: enough to
// make a system call worth it, little enough to keep data moving.
const outboxFlush = 256 << 10

// outbox gathers what a connection's writer sends and writes it with one
// vectored write (writev). Control messages and piece headers are copied
// into an arena. Block payloads are views of the content files' page
// cache when the files can be mapped, so the kernel copies them to the
// socket straight from the cache (one copy, where reading them into a
// buffer first made three), else they are read into the arena too.
type outbox struct {
	conn  net.Conn
	views bool // payloads may be views: conn is a TCP socket, written by writev
	arena []byte
	segs  []outSeg
	v     storage.Views
	size  int
	iov   net.Buffers
	ctrl  []byte // take's buffer
	dl    deadline
}

// outSeg is arena[lo:hi], or o.v.Bufs[view] if view >= 0.
type outSeg struct{ lo, hi, view int }

func newOutbox(conn net.Conn) *outbox {
	_, tcp := conn.(*net.TCPConn)
	return &outbox{conn: conn, views: tcp, arena: make([]byte, 0, outboxFlush+32<<10)}
}

// write copies b into the outbox.
func (o *outbox) write(b []byte) {
	if len(b) == 0 {
		return
	}
	lo := len(o.arena)
	o.arena = append(o.arena, b...)
	o.extend(lo)
}

// grow adds n bytes to the outbox and returns them for the caller to fill.
func (o *outbox) grow(n int) []byte {
	lo := len(o.arena)
	o.arena = append(o.arena, make([]byte, n)...)
	o.extend(lo)
	return o.arena[lo:]
}

// extend records arena[lo:] as the outbox's latest bytes.
func (o *outbox) extend(lo int) {
	hi := len(o.arena)
	o.size += hi - lo
	if n := len(o.segs); n > 0 && o.segs[n-1].view < 0 && o.segs[n-1].hi == lo {
		o.segs[n-1].hi = hi
		return
	}
	o.segs = append(o.segs, outSeg{lo: lo, hi: hi, view: -1})
}

// addViews adds n bytes of content at off as views of the files' memory
// maps; false, adding nothing, if they cannot be mapped.
func (o *outbox) addViews(files *storage.Files, off int64, n int) bool {
	if !o.views {
		return false
	}
	first := len(o.v.Bufs)
	if !files.AddView(&o.v, off, n) {
		return false
	}
	for i := first; i < len(o.v.Bufs); i++ {
		o.segs = append(o.segs, outSeg{view: i})
	}
	o.size += n
	return true
}

// flush writes everything gathered and empties the outbox.
func (o *outbox) flush() error {
	if o.size == 0 {
		return nil
	}
	o.iov = o.iov[:0]
	for _, s := range o.segs {
		if s.view >= 0 {
			o.iov = append(o.iov, o.v.Bufs[s.view])
		} else {
			o.iov = append(o.iov, o.arena[s.lo:s.hi])
		}
	}
	iov := o.iov
	_, err := iov.WriteTo(o.conn)
	clear(o.iov)
	o.v.Release()
	o.arena, o.segs, o.size = o.arena[:0], o.segs[:0], 0
	return err
}
