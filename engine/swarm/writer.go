package swarm

import (
	"bufio"
	"sync"
	"time"

	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/wire"
)

// writer owns a connection's outgoing side: control messages are appended to
// a buffer, block uploads are queued as requests and read from disk by the
// writer goroutine, never by the network reader or under the swarm lock.
type writer struct {
	mu      sync.Mutex
	ctrl    []byte
	uploads []wire.Message
	notify  chan struct{}
	done    chan struct{}
	once    sync.Once
}

func (w *writer) init() {
	w.notify = make(chan struct{}, 1)
	w.done = make(chan struct{})
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

func (w *writer) request(b picker.Block) {
	w.mu.Lock()
	w.ctrl = wire.AppendRequest(w.ctrl, uint32(b.Piece), uint32(b.Begin), uint32(b.Length))
	w.mu.Unlock()
	w.kick()
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
	bw := bufio.NewWriterSize(p.conn, 256<<10)
	keepAlive := time.NewTicker(2 * time.Minute)
	defer keepAlive.Stop()
	var ctrl []byte
	var deadline deadline
	block := make([]byte, picker.BlockSize)
	for {
		var up *wire.Message
		ctrl, up = w.take(ctrl)
		if len(ctrl) == 0 && up == nil {
			if bw.Flush() != nil {
				return
			}
			select {
			case <-w.done:
				return
			case <-keepAlive.C:
				ctrl = append(ctrl[:0], 0, 0, 0, 0)
			case <-w.notify:
				continue
			}
		}
		deadline.extend(p.conn.SetWriteDeadline, 2*time.Minute)
		if _, err := bw.Write(ctrl); err != nil {
			return
		}
		if up != nil && !p.s.serveBlock(p, bw, *up, &block) {
			return
		}
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
