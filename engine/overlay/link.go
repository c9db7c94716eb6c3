package overlay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Timings of every link. A side that has sent nothing for pingInterval
// sends a ping; a side that has received nothing for idleTimeout drops the
// link. A peer whose process ends is noticed at once (its kernel closes the
// connection); idleTimeout is for a peer that vanished without a word (a
// machine off, a network gone), noticed within seconds. It is not tighter
// because a busy machine delays its pings: with 4 s, a loaded 3,000-node
// simulation dropped thousands of live links, and redialling them all
// loaded it further. Pings cost one write on every idle link each interval.
const (
	pingInterval     = 3 * time.Second
	idleTimeout      = 12 * time.Second
	writeTimeout     = 4 * time.Second
	handshakeTimeout = 5 * time.Second
	failTimeout      = time.Second
	outQueueLen      = 1024
)

// Error codes sent in error frames.
const (
	CodeFull           = "full"             // no room for another leaf or neighbour; Supernodes lists others
	CodeFrameTooLarge  = "frame_too_large"  // length header above MaxFrameSize; link closed
	CodeMalformed      = "malformed"        // undecodable or invalid frame; link closed
	CodeProtocol       = "protocol"         // valid frame at the wrong time; link closed
	CodeTooManyEntries = "too_many_entries" // leaf over its entry quota; extra entries ignored
	CodeBadEntry       = "bad_entry"        // an entry broke a size rule; it was ignored
	CodeRateLimited    = "rate_limited"     // query over the leaf's rate; query dropped
	CodeBadQuery       = "bad_query"        // empty, too long or too many words; query dropped
	CodeDuplicate      = "duplicate_link"   // a link between these two supernodes exists
	CodeSelf           = "self"             // a supernode dialled itself
	CodeTableTooLarge  = "table_too_large"  // an advert's keyword table broke the size or density limit; advert ignored
)

// ErrFull matches a RemoteError whose code is CodeFull.
var ErrFull = errors.New("overlay: supernode full")

// errLinkClosed means the link ended before a frame could be queued.
var errLinkClosed = errors.New("overlay: link closed")

// RemoteError is an error frame received from the peer.
type RemoteError struct {
	Code       string
	Text       string
	Supernodes []string // other supernodes to try (with CodeFull)
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("overlay: peer error %s: %s", e.Code, e.Text)
}

// Is makes errors.Is(err, ErrFull) true for a "full" answer.
func (e *RemoteError) Is(target error) bool {
	return target == ErrFull && e.Code == CodeFull
}

func remoteError(m *message) *RemoteError {
	return &RemoteError{Code: m.Code, Text: m.Text, Supernodes: m.Supernodes}
}

// link is one framed overlay connection: the caller's goroutine reads, an
// owned goroutine writes from a bounded queue and sends keepalives.
type link struct {
	count *traffic // may be nil
	conn  net.Conn
	r     *bufio.Reader
	out   chan *message
	done  chan struct{}
	once  sync.Once
	wmu   sync.Mutex // serialises writes to conn
}

func newLink(c net.Conn, r *bufio.Reader) *link {
	return &link{conn: c, r: r, out: make(chan *message, outQueueLen), done: make(chan struct{})}
}

// run passes every frame but pings to handle until the link fails, handle
// returns an error, or ctx ends. It returns after its writer has stopped.
func (l *link) run(ctx context.Context, handle func(*message) error) error {
	stop := context.AfterFunc(ctx, l.close)
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.writeLoop()
	}()
	err := l.readLoop(handle)
	l.close()
	wg.Wait()
	return err
}

func (l *link) readLoop(handle func(*message) error) error {
	for {
		if err := l.conn.SetReadDeadline(time.Now().Add(idleTimeout)); err != nil {
			return fmt.Errorf("overlay: set read deadline: %w", err)
		}
		m, err := readFrame(l.r)
		switch {
		case errors.Is(err, ErrFrameTooLarge):
			l.fail(CodeFrameTooLarge, err.Error(), nil)
			return err
		case errors.Is(err, ErrMalformed):
			l.fail(CodeMalformed, err.Error(), nil)
			return err
		case err != nil:
			return err
		case m.Type == typePing:
			continue
		}
		if err := handle(m); err != nil {
			return err
		}
	}
}

// writeLoop sends queued frames, and a ping at each tick of pingInterval
// unless something went out in the last half of it: the peer hears from us
// at least every 1.5 pingIntervals, well within its idleTimeout. Frames
// queued together go out in one write (see writeQueued).
func (l *link) writeLoop() {
	tick := time.NewTicker(pingInterval)
	defer tick.Stop()
	last := time.Now()
	for {
		var m *message
		select {
		case <-l.done:
			return
		case m = <-l.out:
		case now := <-tick.C:
			if now.Sub(last) < pingInterval/2 {
				continue
			}
			m = pingMessage
		}
		if err := l.writeQueued(m); err != nil {
			l.close()
			return
		}
		last = time.Now()
	}
}

// writeBatchBytes bounds the frames writeQueued joins into one write.
const writeBatchBytes = 64 << 10

// writeQueued sends first and whatever else is queued already (up to
// writeBatchBytes) in one write: a busy link costs one system call, and
// one wake-up of its reader, per batch rather than per frame. A frame that
// cannot be encoded is dropped alone; the link goes on.
func (l *link) writeQueued(first *message) error {
	type frame struct {
		typ  string
		size int
	}
	var buf []byte
	var frames []frame
	for m := first; m != nil; m = l.nextQueued(len(buf)) {
		b, err := frameBytes(m)
		if err != nil {
			l.count.drop(m.Type)
			continue
		}
		buf = append(buf, b...)
		frames = append(frames, frame{m.Type, len(b)})
	}
	if len(buf) == 0 {
		return nil
	}
	if err := l.writeBytes(buf, writeTimeout); err != nil {
		return fmt.Errorf("overlay: write %d frames: %w", len(frames), err)
	}
	for _, f := range frames {
		l.count.add(f.typ, f.size)
	}
	return nil
}

// nextQueued returns the next queued frame without waiting, or nil when
// none is queued or the batch already holds size bytes.
func (l *link) nextQueued(size int) *message {
	if size >= writeBatchBytes {
		return nil
	}
	select {
	case m := <-l.out:
		return m
	default:
		return nil
	}
}

// frameBytes is m's frame (the shared ping frame for a ping).
func frameBytes(m *message) ([]byte, error) {
	if m == pingMessage {
		return pingFrame, nil
	}
	return encodeFrame(m)
}

// write sends one frame now, under the write lock.
func (l *link) write(m *message, timeout time.Duration) error {
	b, err := frameBytes(m)
	if err != nil {
		return err
	}
	if err := l.writeBytes(b, timeout); err != nil {
		return fmt.Errorf("overlay: write %s: %w", m.Type, err)
	}
	l.count.add(m.Type, len(b))
	return nil
}

// writeBytes writes b to the connection within timeout, under the write
// lock.
func (l *link) writeBytes(b []byte, timeout time.Duration) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	_, err := l.conn.Write(b)
	return err
}

// trySend queues m without blocking; it reports false if the queue is full
// or the link closed. Search traffic uses it: a slow peer loses frames
// rather than stalling the supernode.
func (l *link) trySend(m *message) bool {
	select {
	case <-l.done:
		return false
	default:
	}
	select {
	case l.out <- m:
		return true
	default:
		l.count.drop(m.Type)
		return false
	}
}

// send queues m, waiting for room.
func (l *link) send(ctx context.Context, m *message) error {
	select {
	case l.out <- m:
		return nil
	case <-l.done:
		return errLinkClosed
	case <-ctx.Done():
		return fmt.Errorf("overlay: send %s: %w", m.Type, ctx.Err())
	}
}

// sendError queues a non-fatal error frame.
func (l *link) sendError(code, text string) {
	l.trySend(&message{Type: typeError, Code: code, Text: trimString(text, maxErrTextLen)})
}

// fail writes an error frame straight away and closes the link.
func (l *link) fail(code, text string, supers []string) {
	m := &message{Type: typeError, Code: code, Text: trimString(text, maxErrTextLen), Supernodes: supers}
	_ = l.write(m, failTimeout) // best effort: the link is going anyway
	l.close()
}

// close ends the link; safe to call many times from any goroutine.
func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		l.conn.Close()
	})
}

// dialOverlay connects to a supernode, sends Magic and hello, and waits for
// the welcome. An error frame comes back as a *RemoteError.
func dialOverlay(ctx context.Context, dial Dialer, addr string, hello *message) (*link, *message, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("overlay: dial %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	l := newLink(c, bufio.NewReader(c))
	reply, err := l.handshakeOut(hello)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("overlay: handshake with %s: %w", addr, err)
	}
	return l, reply, nil
}

func (l *link) handshakeOut(hello *message) (*message, error) {
	if err := l.conn.SetDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(l.conn, Magic); err != nil {
		return nil, fmt.Errorf("write magic: %w", err)
	}
	if err := writeFrame(l.conn, hello); err != nil {
		return nil, err
	}
	reply, err := readFrame(l.r)
	if err != nil {
		return nil, err
	}
	switch reply.Type {
	case typeWelcome:
		return reply, l.conn.SetDeadline(time.Time{})
	case typeError:
		return nil, remoteError(reply)
	}
	return nil, fmt.Errorf("%w: %q instead of welcome", ErrMalformed, reply.Type)
}

// acceptOverlay reads Magic and the hello frame of an accepted connection.
func acceptOverlay(c net.Conn) (*link, *message, error) {
	if err := c.SetDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return nil, nil, fmt.Errorf("overlay: accept: %w", err)
	}
	l := newLink(c, bufio.NewReader(c))
	var magic [len(Magic)]byte
	if _, err := io.ReadFull(l.r, magic[:]); err != nil {
		return nil, nil, fmt.Errorf("overlay: accept: read magic: %w", err)
	}
	if string(magic[:]) != Magic {
		return nil, nil, fmt.Errorf("overlay: accept: %w", ErrBadMagic)
	}
	hello, err := readFrame(l.r)
	if err == nil && hello.Type != typeHello {
		err = fmt.Errorf("%w: %q before hello", ErrMalformed, hello.Type)
	}
	if err != nil {
		l.fail(CodeMalformed, err.Error(), nil)
		return nil, nil, fmt.Errorf("overlay: accept: %w", err)
	}
	return l, hello, c.SetDeadline(time.Time{})
}
