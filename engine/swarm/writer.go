package swarm

import (
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/wire"
)

// writer owns a connection's outgoing side: control messages are appended to
// a buffer, block uploads are queued as requests and read from disk by the
// writer goroutine, never by the network reader or under the swarm lock.
//
// Bytes reach the socket in whole messages, from one goroutine at a time:
// whoever holds wmu. The writer goroutine holds it while it has anything
// to send (and lets go only with its buffer flushed), and the reader takes
// it to send our requests itself when the writer is idle (sendNow), so a
// top-up does not wait for the writer goroutine to be scheduled: on a busy
// machine that wait left the seeder without requests for a third of a
// transfer.
type writer struct {
	wmu    sync.Mutex      // held while writing to the connection
	unsent []byte          // guarded by wmu: what the socket did not take from sendNow; goes first
	nowBuf []byte          // guarded by wmu: sendNow's copy of the queue
	raw    syscall.RawConn // the connection's descriptor, or nil: sendNow then wakes the writer

	mu      sync.Mutex
	ctrl    []byte
	uploads []wire.Message
	notify  chan struct{}
	done    chan struct{}
	once    sync.Once
}

func (w *writer) init(conn net.Conn) {
	w.notify = make(chan struct{}, 1)
	w.done = make(chan struct{})
	if sc, ok := conn.(syscall.Conn); ok {
		w.raw, _ = sc.SyscallConn()
	}
}

func (w *writer) kick() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *writer) stop() { w.once.Do(func() { close(w.done) }) }

// send queues a control message.
func (w *writer) send(m wire.Message) {
	w.mu.Lock()
	w.ctrl = wire.AppendMessage(w.ctrl, m)
	w.mu.Unlock()
	w.kick()
}

func (w *writer) sendExtended(id uint8, payload []byte) {
	w.mu.Lock()
	w.ctrl = wire.AppendExtended(w.ctrl, id, payload)
	w.mu.Unlock()
	w.kick()
}

// request queues a request without waking the writer: the caller sends
// the batch with kick or sendNow.
func (w *writer) request(b picker.Block) {
	w.mu.Lock()
	w.ctrl = wire.AppendRequest(w.ctrl, uint32(b.Piece), uint32(b.Begin), uint32(b.Length))
	w.mu.Unlock()
}

// sendNow writes the queued control messages from the calling goroutine if
// the writer is idle, as far as the socket takes them without waiting;
// otherwise, and for the rest, it wakes the writer. It never blocks: a
// reader that blocked on a write while its peer's reader blocked on one
// too would wait for ever.
func (w *writer) sendNow() {
	if w.raw == nil || !w.wmu.TryLock() {
		w.kick()
		return
	}
	defer w.wmu.Unlock()
	if len(w.unsent) > 0 {
		w.kick() // the writer sends that first
		return
	}
	w.mu.Lock()
	w.nowBuf = append(w.nowBuf[:0], w.ctrl...)
	w.ctrl = w.ctrl[:0]
	w.mu.Unlock()
	if n := writeNow(w.raw, w.nowBuf); n < len(w.nowBuf) {
		w.unsent = append(w.unsent, w.nowBuf[n:]...)
		w.kick()
	}
}

// queueUpload adds a request to serve; false if the queue is full.
func (w *writer) queueUpload(m wire.Message) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.uploads) >= maxUploadQ {
		return false
	}
	w.uploads = append(w.uploads, m)
	w.kick()
	return true
}

func (w *writer) cancelUpload(index, begin, length uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, m := range w.uploads {
		if m.Index == index && m.Begin == begin && m.Length == length {
			w.uploads = append(w.uploads[:i], w.uploads[i+1:]...)
			return
		}
	}
}

// dropUploads empties the upload queue (we choked the peer) and returns what
// was dropped, so fast-extension peers can be sent rejects.
func (w *writer) dropUploads() []wire.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.uploads
	w.uploads = nil
	return out
}

// take returns pending control bytes and at most one upload.
func (w *writer) take(buf []byte) ([]byte, *wire.Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf = append(buf[:0], w.ctrl...)
	w.ctrl = w.ctrl[:0]
	if len(w.uploads) == 0 {
		return buf, nil
	}
	m := w.uploads[0]
	w.uploads = w.uploads[1:]
	return buf, &m
}

// run writes until the connection closes. Keep-alives go out every 2 minutes.
func (w *writer) run(p *peer) {
	o := newOutbox(p.conn)
	defer o.v.Release()
	keepAlive := time.NewTicker(2 * time.Minute)
	defer keepAlive.Stop()
	for {
		w.wmu.Lock()
		err := w.drain(p, o)
		w.wmu.Unlock()
		if err != nil {
			return
		}
		select {
		case <-w.done:
			return
		case <-keepAlive.C:
			w.mu.Lock()
			w.ctrl = append(w.ctrl, 0, 0, 0, 0)
			w.mu.Unlock()
		case <-w.notify:
		}
	}
}

// drain writes everything queued. Caller holds w.wmu.
func (w *writer) drain(p *peer, o *outbox) error {
	w.resume(o)
	for {
		var up *wire.Message
		o.ctrl, up = w.take(o.ctrl)
		if len(o.ctrl) == 0 && up == nil {
			return o.flush()
		}
		o.dl.extend(p.conn.SetWriteDeadline, 2*time.Minute)
		o.write(o.ctrl)
		if up != nil {
			if err := p.s.serveBlock(p, o, *up); err != nil {
				return err
			}
		}
		if o.size >= outboxFlush {
			if err := o.flush(); err != nil {
				return err
			}
		}
	}
}

// resume puts what sendNow could not write first in line. Caller holds w.wmu.
func (w *writer) resume(o *outbox) {
	o.write(w.unsent)
	w.unsent = w.unsent[:0]
}

// pause sends what the outbox holds and lets sendNow use the connection
// while the writer sleeps (on a rate limit); it returns the call that
// takes the connection back. Caller holds w.wmu.
func (w *writer) pause(o *outbox) (resume func() error) {
	err := o.flush()
	w.wmu.Unlock()
	return func() error {
		w.wmu.Lock()
		w.resume(o)
		return err
	}
}

// deadline keeps a connection's read or write deadline about d ahead
// without resetting it for every message: moving a deadline costs a clock
// read and a runtime timer update, and a busy connection handles tens of
// thousands of messages a second. It is moved once the deadline is less
// than d minus a second away, so it is never more than a second short.
type deadline struct {
	at time.Time
}

func (dl *deadline) extend(set func(time.Time) error, d time.Duration) {
	now := time.Now()
	if dl.at.Sub(now) > d-time.Second {
		return
	}
	dl.at = now.Add(d)
	set(dl.at)
}
