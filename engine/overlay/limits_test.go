package overlay

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// rawPeer speaks the overlay protocol frame by frame, to provoke limits.
type rawPeer struct {
	c net.Conn
	r *bufio.Reader
}

// dialRaw connects, sends Magic and hello, and returns the reply frame.
func dialRaw(t *testing.T, addr string, hello *message) (*rawPeer, *message) {
	t.Helper()
	c, err := loopback.Dial(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := &rawPeer{c: c, r: bufio.NewReader(c)}
	if _, err := io.WriteString(c, Magic); err != nil {
		t.Fatal(err)
	}
	p.send(t, hello)
	reply, err := p.read()
	if err != nil {
		t.Fatalf("hello reply: %v", err)
	}
	return p, reply
}

func (p *rawPeer) send(t *testing.T, m *message) {
	t.Helper()
	if err := writeFrame(p.c, m); err != nil {
		t.Fatal(err)
	}
}

func (p *rawPeer) read() (*message, error) {
	p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return readFrame(p.r)
}

// dialLeaf connects as a leaf and insists on a welcome.
func dialLeaf(t *testing.T, addr string) *rawPeer {
	t.Helper()
	p, reply := dialRaw(t, addr, leafHello())
	if reply.Type != typeWelcome {
		t.Fatalf("hello answered with %+v", reply)
	}
	return p
}

// expectError reads past pings and hits to the next error frame.
func (p *rawPeer) expectError(t *testing.T, code string) *message {
	t.Helper()
	for {
		m, err := p.read()
		if err != nil {
			t.Fatalf("waiting for %q error: %v", code, err)
		}
		if m.Type != typeError {
			continue
		}
		if m.Code != code {
			t.Fatalf("error %q (%s), want %q", m.Code, m.Text, code)
		}
		return m
	}
}

// expectClosed reads until the supernode closes the connection.
func (p *rawPeer) expectClosed(t *testing.T) {
	t.Helper()
	for {
		if _, err := p.read(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("link not closed")
			}
			return
		}
	}
}

func leafHello() *message { return &message{Type: typeHello, Role: roleLeaf, Port: 6881} }

func query(words string) *message {
	return &message{Type: typeQuery, ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", len(words)), Words: words}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	other := listenNode(t) // only named by the Finder, as a place to go
	nodes := startNodes(t, 1, func(int, []string) SupernodeConfig {
		return SupernodeConfig{Finder: StaticFinder{other.addr}, MaxEntriesPerLeaf: 3, QueryRate: 0.5, QueryBurst: 2}
	})
	addr := nodes[0].addr
	sn := nodes[0].sn

	t.Run("frame size", func(t *testing.T) {
		p, welcome := dialRaw(t, addr, leafHello())
		if welcome.Type != typeWelcome || welcome.Addr != addr {
			t.Fatalf("welcome %+v", welcome)
		}
		p.c.Write(binary.BigEndian.AppendUint32(nil, MaxFrameSize+1))
		p.expectError(t, CodeFrameTooLarge)
		p.expectClosed(t)
	})
	t.Run("malformed", func(t *testing.T) {
		p := dialLeaf(t, addr)
		p.c.Write(frameOf(`{"type":"share","add":[{"ih":"nothex"}]}`))
		p.expectError(t, CodeMalformed)
		p.expectClosed(t)
	})
	t.Run("wrong frame for a leaf", func(t *testing.T) {
		p := dialLeaf(t, addr)
		p.send(t, &message{Type: typeHits, ID: testID})
		p.expectError(t, CodeProtocol)
		p.expectClosed(t)
	})
	t.Run("entries per leaf", func(t *testing.T) {
		p := dialLeaf(t, addr)
		var add []wireEntry
		for i := range 5 {
			add = append(add, wireEntry{InfoHash: hash20(ih(byte(30 + i))), Name: "quota item"})
		}
		p.send(t, &message{Type: typeShare, Add: add})
		if m := p.expectError(t, CodeTooManyEntries); !strings.Contains(m.Text, "2 entries") {
			t.Fatalf("text %q", m.Text)
		}
		hits, err := sn.idx.search(context.Background(), "quota", 10)
		if err != nil || len(hits) != 3 {
			t.Fatalf("%d entries stored, want 3 (%v)", len(hits), err)
		}
	})
	t.Run("bad entry", func(t *testing.T) {
		p := dialLeaf(t, addr)
		p.send(t, &message{Type: typeShare, Add: []wireEntry{
			{InfoHash: hash20(ih(40)), Name: ""},
			{InfoHash: hash20(ih(41)), Name: "ok", Files: []string{strings.Repeat("p", maxPathLen+1)}},
			{InfoHash: hash20(ih(42)), Name: "fine entry"},
		}})
		p.expectError(t, CodeBadEntry)
		p.expectError(t, CodeBadEntry)
		waitFor(t, 5*time.Second, "good entry kept", func() bool { return indexed(sn, "fine entry") })
	})
	t.Run("query words", func(t *testing.T) {
		p := dialLeaf(t, addr)
		for _, w := range []string{"a b c d e f g h i", strings.Repeat("y", maxQueryBytes+1), `"*" - ()`} {
			p.send(t, query(w))
			if m := p.expectError(t, CodeBadQuery); m.ID != query(w).ID {
				t.Fatalf("error for query %q names %q", w, m.ID)
			}
		}
	})
	t.Run("query rate", func(t *testing.T) {
		p := dialLeaf(t, addr)
		before := sn.Stats().RateLimited
		for i := range 4 {
			p.send(t, &message{Type: typeQuery, ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", 100+i), Words: "anything"})
		}
		p.expectError(t, CodeRateLimited)
		if sn.Stats().RateLimited <= before {
			t.Fatal("rate limit not counted")
		}
	})
	t.Run("bad magic", func(t *testing.T) {
		c, err := loopback.Dial(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("read after bad magic: %v, want EOF", err)
		}
	})
	t.Run("keyword table size", func(t *testing.T) {
		p, welcome := dialRaw(t, addr, &message{Type: typeHello, Role: roleSuper, Addr: "127.0.0.1:9"})
		if welcome.Type != typeWelcome {
			t.Fatalf("super hello: %+v", welcome)
		}
		before := sn.Stats().TablesRefused
		p.send(t, &message{Type: typeAdvert, Origin: "127.0.0.1:10", Seq: 1, Bits: MaxTableBits + 1})
		if m := p.expectError(t, CodeTableTooLarge); !strings.Contains(m.Text, "2^21 bits") {
			t.Fatalf("text %q", m.Text)
		}
		dense := newTable(MinTableBits)
		for i := uint32(0); i < 1<<MinTableBits*3/4; i++ {
			dense.set(i)
		}
		p.send(t, &message{Type: typeAdvert, Origin: "127.0.0.1:10", Seq: 2, Bits: MinTableBits, Table: encodePositions(dense.positions(nil))})
		p.expectError(t, CodeTableTooLarge)
		if got := sn.Stats().TablesRefused - before; got != 2 {
			t.Fatalf("%d tables refused, want 2", got)
		}
		if sn.Stats().Supernodes != 0 {
			t.Fatal("a refused advert was stored")
		}
	})
	t.Run("self and duplicate supernode", func(t *testing.T) {
		_, self := dialRaw(t, addr, &message{Type: typeHello, Role: roleSuper, Addr: addr})
		if self.Type != typeError || self.Code != CodeSelf {
			t.Fatalf("self hello: %+v", self)
		}
	})
}

func TestNeighbourLimit(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3, func(i int, addrs []string) SupernodeConfig {
		if i == 0 {
			return SupernodeConfig{MaxNeighbours: 1} // finds nobody, takes one
		}
		return SupernodeConfig{Finder: StaticFinder{addrs[0]}}
	})
	waitFor(t, 5*time.Second, "one neighbour", func() bool { return len(nodes[0].sn.Neighbours()) == 1 })
	time.Sleep(500 * time.Millisecond) // let the loser's dial be refused
	if n := len(nodes[0].sn.Neighbours()); n != 1 {
		t.Fatalf("%d neighbours, limit 1", n)
	}
	_, reply := dialRaw(t, nodes[0].addr, &message{Type: typeHello, Role: roleSuper, Addr: "127.0.0.1:9"})
	if reply.Type != typeError || reply.Code != CodeFull {
		t.Fatalf("reply %+v, want full", reply)
	}
}

func TestLeavesLimit(t *testing.T) {
	t.Parallel()
	other := listenNode(t)
	nodes := startNodes(t, 1, func(int, []string) SupernodeConfig {
		return SupernodeConfig{Finder: StaticFinder{other.addr}, MaxLeaves: 2}
	})
	addr, sn := nodes[0].addr, nodes[0].sn
	p1, w1 := dialRaw(t, addr, leafHello())
	_, w2 := dialRaw(t, addr, leafHello())
	if w1.Type != typeWelcome || w2.Type != typeWelcome {
		t.Fatalf("replies %+v %+v", w1, w2)
	}
	p3, full := dialRaw(t, addr, leafHello())
	if full.Type != typeError || full.Code != CodeFull || !slices.Contains(full.Supernodes, other.addr) {
		t.Fatalf("third leaf got %+v, want full naming %s", full, other.addr)
	}
	p3.expectClosed(t)
	p1.c.Close()
	waitFor(t, 5*time.Second, "room again", func() bool { return sn.Leaves() < 2 })
	dialLeaf(t, addr)
}
