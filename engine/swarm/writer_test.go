package swarm

import (
	"bufio"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/wire"
)

// TestDeadlineExtend: a deadline is set on first use, left alone while it
// is within a second of d ahead, and moved once it falls further behind.
func TestDeadlineExtend(t *testing.T) {
	var sets []time.Time
	set := func(at time.Time) error { sets = append(sets, at); return nil }
	var dl deadline
	const d = 3 * time.Minute
	dl.extend(set, d)
	if len(sets) != 1 || time.Until(sets[0]) < d-time.Second {
		t.Fatalf("first extend set %v, want one deadline about %v ahead", sets, d)
	}
	dl.extend(set, d)
	if len(sets) != 1 {
		t.Fatalf("extend right after set the deadline again: %v", sets)
	}
	dl.at = dl.at.Add(-2 * time.Second) // as if two seconds passed
	dl.extend(set, d)
	if len(sets) != 2 || time.Until(sets[1]) < d-time.Second {
		t.Fatalf("extend after 2 s set %v, want a second deadline about %v ahead", sets, d)
	}
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// readRequests decodes n messages from r and checks they are the requests
// for blocks first, first+1, ... of piece 7, in order.
func readRequests(t *testing.T, r io.Reader, first, n int) {
	t.Helper()
	dec := wire.NewDecoder(bufio.NewReader(r), 1<<20)
	for i := first; i < first+n; i++ {
		m, err := dec.Next()
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if m.ID != wire.Request || m.Index != 7 || int(m.Begin) != i*picker.BlockSize {
			t.Fatalf("message %d is %+v, want the request for block %d of piece 7", i, m, i)
		}
	}
}

func queueRequests(w *writer, first, n int) {
	for i := first; i < first+n; i++ {
		w.request(picker.Block{Piece: 7, Begin: i * picker.BlockSize, Length: picker.BlockSize})
	}
}

// TestSendNowWritesItself: with the writer goroutine idle (here: not
// running at all), sendNow puts the queued requests on the wire itself.
func TestSendNowWritesItself(t *testing.T) {
	client, server := tcpPair(t)
	var w writer
	w.init(client)
	queueRequests(&w, 0, 100)
	w.sendNow()
	server.SetReadDeadline(time.Now().Add(10 * time.Second))
	readRequests(t, server, 0, 100)
}

// TestSendNowLeavesABusyWriterAlone: while the writer goroutine holds the
// connection, sendNow only wakes it; the requests stay queued for it.
func TestSendNowLeavesABusyWriterAlone(t *testing.T) {
	client, _ := tcpPair(t)
	var w writer
	w.init(client)
	w.wmu.Lock()
	queueRequests(&w, 0, 3)
	w.sendNow()
	w.mu.Lock()
	queued := len(w.ctrl)
	w.mu.Unlock()
	if queued != 3*17 {
		t.Fatalf("%d bytes left queued, want the 3 requests (51 bytes) left for the writer", queued)
	}
	select {
	case <-w.notify:
	default:
		t.Fatal("sendNow did not wake the busy writer")
	}
	w.wmu.Unlock()
}

// TestSendNowDoesNotBlockOnAFullSocket: with the peer not reading, sendNow
// returns at once; what the socket did not take goes out first once the
// writer runs, and the peer gets every request whole and in order.
func TestSendNowDoesNotBlockOnAFullSocket(t *testing.T) {
	client, server := tcpPair(t)
	filled := fillSocket(t, client)
	p := &peer{conn: client}
	p.w.init(client)
	queueRequests(&p.w, 0, 2000)
	returned := make(chan struct{})
	go func() {
		p.w.sendNow()
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("sendNow blocked on a full socket")
	}
	if len(p.w.unsent) == 0 {
		t.Fatal("the full socket took every request: the test did not fill it")
	}
	go p.w.run(p)
	t.Cleanup(p.w.stop)
	server.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.CopyN(io.Discard, server, filled); err != nil {
		t.Fatal(err)
	}
	readRequests(t, server, 0, 2000)
}

// fillSocket writes zeros to c until the socket takes no more, even after
// a pause, and returns how many bytes went in.
func fillSocket(t *testing.T, c net.Conn) int64 {
	t.Helper()
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	var total int64
	for still := 0; still < 5; {
		n := writeNow(raw, chunk)
		total += int64(n)
		if n > 0 {
			still = 0
			continue
		}
		still++
		time.Sleep(20 * time.Millisecond)
	}
	return total
}

// TestPauseLetsRequestsOut: a writer sleeping on an upload limit flushes
// what it buffered and lets sendNow send requests meanwhile; after it
// resumes, its next message follows them.
func TestPauseLetsRequestsOut(t *testing.T) {
	client, server := tcpPair(t)
	var w writer
	w.init(client)
	o := newOutbox(client)
	w.wmu.Lock() // the writer goroutine at work
	queueRequests(&w, 0, 1)
	o.ctrl, _ = w.take(nil) // it took request 0
	o.write(o.ctrl)
	resume := w.pause(o)
	queueRequests(&w, 1, 5)
	w.sendNow()
	if err := resume(); err != nil {
		t.Fatal(err)
	}
	o.write(wire.AppendRequest(nil, 7, 6*picker.BlockSize, picker.BlockSize))
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	w.wmu.Unlock()
	server.SetReadDeadline(time.Now().Add(10 * time.Second))
	readRequests(t, server, 0, 7)
}
