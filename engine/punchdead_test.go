package engine

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// TestDeadPunchedResets: a connection our listener accepts from a hole
// punch target whose last TCP attempt was refused with an ICMP is reset
// at once (our router's entry for that attempt makes it dead one way; the
// reset frees the tuple); one from anywhere else is served. Before, it
// was served, and carried the far end's bytes only (app TestLabHolePunch
// tcp-prohibited).
func TestDeadPunchedResets(t *testing.T) {
	t.Parallel()
	e, _ := punchEngine(t)
	other := acceptFrom(t, e)
	if e.deadPunched(other.accepted) {
		t.Fatal("a connection from an address never refused was reset")
	}
	p := acceptFrom(t, e)
	e.punchIn.noteRefused(p.from)
	if !e.deadPunched(p.accepted) {
		t.Fatal("a connection from a refused target was served, want it reset")
	}
	p.dialed.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.dialed.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("its far end: read %v, want a reset", err)
	}
	other.dialed.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := other.dialed.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("the served connection's far end: read %v, want it open and silent", err)
	}
}

// TestDeadOneWayForgotten: a target's record ends once a punched
// connection to it formed, and is bounded per target.
func TestDeadOneWayForgotten(t *testing.T) {
	t.Parallel()
	var p punchIn
	ap := netip.MustParseAddrPort("203.0.113.15:42041")
	p.noteRefused(ap)
	p.forgetRefused(ap)
	if p.deadOneWay(ap) {
		t.Fatal("a connection from a target punched since was condemned")
	}
	p.noteRefused(ap)
	for i := range maxDeadResets {
		if !p.deadOneWay(ap) {
			t.Fatalf("connection %d condemned no more, want %d", i+1, maxDeadResets)
		}
		p.noteRefused(ap) // the attempts go on: the count stays
	}
	if p.deadOneWay(ap) {
		t.Fatalf("connection %d condemned, want at most %d", maxDeadResets+1, maxDeadResets)
	}
	if p.deadOneWay(netip.MustParseAddrPort("203.0.113.15:42042")) {
		t.Fatal("another port of the target's IP was condemned")
	}
}

// accepted is a connection the engine's listener accepted, its dialling
// end, and the dialling end's address.
type accepted struct {
	accepted, dialed net.Conn
	from             netip.AddrPort
}

// acceptFrom dials e's listener and accepts the connection.
func acceptFrom(t *testing.T, e *Engine) accepted {
	t.Helper()
	d, err := net.Dial("tcp4", e.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); d.Close() })
	return accepted{a, d, d.LocalAddr().(*net.TCPAddr).AddrPort()}
}
