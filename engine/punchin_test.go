package engine

import (
	"bufio"
	"net"
	"net/netip"
	"testing"
	"time"
)

// loopbackPair is an accepted TCP connection and its dialling end.
func loopbackPair(t *testing.T) (accepted, dialed net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); d.Close() })
	return a, d
}

// sniff is serveConn's part: wait for a first byte, then keep the
// connection or hand it to the punch that claimed it.
func sniff(p *punchIn, pc *pendingConn, c net.Conn) (kept bool) {
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	bufio.NewReader(c).Peek(1)
	if !pc.serve() {
		p.deliver(pc, c)
		return false
	}
	return true
}

// TestPunchInClaimsWaitingConn: a silent connection accepted before the
// punch began is cut out of its sniff and handed to the punch at once.
func TestPunchInClaimsWaitingConn(t *testing.T) {
	var p punchIn
	a, _ := loopbackPair(t)
	pc := p.add(a)
	kept := make(chan bool, 1)
	go func() { kept <- sniff(&p, pc, a) }()
	time.Sleep(50 * time.Millisecond) // the sniff is waiting
	arrived, stop := p.want(netip.MustParseAddr("127.0.0.1"))
	defer stop()
	select {
	case c := <-arrived:
		if c != a {
			t.Fatalf("got %v, want the accepted connection", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting connection was not handed over")
	}
	if <-kept {
		t.Fatal("the accept path kept a claimed connection")
	}
}

// TestPunchInClaimsArrivingConn: a connection accepted while the punch
// runs comes back claimed; one from another IP, or one that already
// spoke, stays with the accept path.
func TestPunchInClaimsArrivingConn(t *testing.T) {
	var p punchIn
	arrived, stop := p.want(netip.MustParseAddr("127.0.0.1"))
	defer stop()
	a, _ := loopbackPair(t)
	if pc := p.add(a); pc.state.Load() != pendingClaimed {
		t.Fatal("a connection from the punch's target was not claimed on arrival")
	}
	var q punchIn
	_, stopOther := q.want(netip.MustParseAddr("198.51.100.7"))
	defer stopOther()
	b, d := loopbackPair(t)
	pc := q.add(b)
	d.Write([]byte{19})
	if !sniff(&q, pc, b) {
		t.Fatal("a connection from another IP was claimed")
	}
	select {
	case <-arrived:
		t.Fatal("nothing was delivered yet, but the channel had a connection")
	default:
	}
}

// TestPunchInStopClosesLeftovers: a connection handed over after the
// punch ended is closed, not leaked.
func TestPunchInStopClosesLeftovers(t *testing.T) {
	var p punchIn
	_, stop := p.want(netip.MustParseAddr("127.0.0.1"))
	a, d := loopbackPair(t)
	pc := p.add(a)
	stop()
	p.deliver(pc, a)
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := d.Read(make([]byte, 1)); err == nil {
		t.Fatal("the far end read data; want the connection closed")
	}
}
