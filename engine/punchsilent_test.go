package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/engine/wire"
	"github.com/shoalp2p/shoal/internal/netguard"
)

// TestOpenHoleResetsSilentConn: the non-initiating end of a TCP hole
// punch resets a connection that stays silent and open for punchSilent,
// and dials again; it keeps one that speaks. The far end here is a
// listener on loopback: its first connection says nothing (as a punched
// one whose initiator's data its own router drops), its second sends a
// byte. Without the reset the punch kept the first and never dialled
// again, as the lab's tcp-prohibited punch did under CPU load.
func TestOpenHoleResetsSilentConn(t *testing.T) {
	far, done := startOpenHole(t)
	first := acceptWithin(t, far, 5*time.Second)
	start := time.Now()
	first.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := first.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the silent connection: read %v after %v, want a reset", err, time.Since(start))
	}
	second := acceptWithin(t, far, 5*time.Second)
	second.Write([]byte{19}) // a BitTorrent handshake's first byte
	keeps(t, far, second, done)
}

// TestOpenHoleRedialsAfterClose: a punched connection that ends without
// a byte is no punch either: openHole dials again at once, not after
// punchSilent.
func TestOpenHoleRedialsAfterClose(t *testing.T) {
	far, done := startOpenHole(t)
	acceptWithin(t, far, 5*time.Second).Close()
	second := acceptWithin(t, far, punchSilent/2)
	second.Write([]byte{19})
	keeps(t, far, second, done)
}

// TestOpenHoleRedialsAfterFailedHandshake: a punched connection that
// speaks but whose handshake fails (the initiator resets one whose
// handshake does not finish within punchHandshake, as when our direction
// does not pass) is no punch either: openHole dials again. Before, it
// stopped punching once a connection had spoken.
func TestOpenHoleRedialsAfterFailedHandshake(t *testing.T) {
	far, done := startOpenHole(t)
	first := acceptWithin(t, far, 5*time.Second)
	first.Write([]byte{19, 'B'})
	first.(*net.TCPConn).SetLinger(0)
	first.Close() // a reset, as the initiator's
	second := acceptWithin(t, far, 5*time.Second)
	second.Write([]byte{19})
	keeps(t, far, second, done)
}

// keeps checks that openHole, whose connection c spoke, keeps it and
// dials no more, and returns when the punch ends (the swarm ends ctx
// once it has the peer; here the test's cleanup does).
func keeps(t *testing.T, far net.Listener, c net.Conn, done <-chan struct{}) {
	t.Helper()
	noMoreDials(t, far)
	select {
	case <-done:
		t.Fatal("openHole returned before its punch ended")
	default:
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("the connection that spoke: read %v, want it open and silent", err)
	}
}

// startOpenHole runs openHole, TCP only, from a shared listener on
// loopback toward a far listener it returns, with punchSilent short.
// done closes when openHole returns.
func startOpenHole(t *testing.T) (far net.Listener, done <-chan struct{}) {
	t.Helper()
	old := punchSilent
	punchSilent = 300 * time.Millisecond
	t.Cleanup(func() { punchSilent = old })
	policy := netguard.Policy{LoopbackOnly: true}
	ln, err := policy.ListenShared("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	far, err = net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { far.Close() })
	run, stop := context.WithCancel(context.Background())
	e := &Engine{log: slog.New(slog.NewTextHandler(io.Discard, nil)), policy: policy, ln: ln,
		runCtx: run, handshakes: make(chan struct{}, maxHandshakes)}
	e.receiver = transport.Receiver{Mode: e.encryptionMode, SKeys: e.infoHashes}
	e.utpMode.Store(uint32(transport.UTPOff))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	ch := make(chan struct{})
	go func() { defer close(ch); e.openHole(ctx, far.Addr().String()) }()
	t.Cleanup(func() { cancel(); <-ch; stop(); e.wg.Wait() })
	return far, ch
}

// acceptWithin accepts one connection from ln within d.
func acceptWithin(t *testing.T, ln net.Listener, d time.Duration) net.Conn {
	t.Helper()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(d))
	defer ln.(*net.TCPListener).SetDeadline(time.Time{})
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("no connection from openHole within %v: %v", d, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// noMoreDials fails if openHole dials ln again within twice punchSilent.
func noMoreDials(t *testing.T, ln net.Listener) {
	t.Helper()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(2 * punchSilent))
	if c, err := ln.Accept(); err == nil {
		c.Close()
		t.Fatal("openHole dialled again")
	}
}

// TestDialPunchedResetsSilentConn: the initiating end of a TCP hole punch
// resets a connection whose handshake does not finish within
// punchHandshake and punches again within its window, keeping the next
// connection that answers. The far end here is a listener on loopback
// whose first connection reads our handshake and answers nothing (as a
// punched one whose far end's direction a router drops: the lab's
// tcp-prohibited in CI, where the initiator waited 30 s and the punch
// failed), and whose second answers.
func TestDialPunchedResetsSilentConn(t *testing.T) {
	old := punchHandshake
	punchHandshake = 300 * time.Millisecond
	t.Cleanup(func() { punchHandshake = old })
	e, far := punchEngine(t)
	out := wire.Handshake{InfoHash: [20]byte{1}, PeerID: [20]byte{2}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		c   *transport.Conn
		err error
	}
	res := make(chan result, 1)
	go func() {
		c, _, err := e.dialPunched(ctx, far.Addr().String(), out)
		res <- result{c, err}
	}()
	first := acceptWithin(t, far, 5*time.Second)
	if _, err := wire.ReadHandshake(first); err != nil {
		t.Fatalf("the first connection: %v", err)
	}
	first.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := first.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the silent connection: read %v after %v, want a reset", err, time.Since(start))
	}
	second := acceptWithin(t, far, 5*time.Second)
	if _, err := wire.ReadHandshake(second); err != nil {
		t.Fatalf("the second connection: %v", err)
	}
	wire.WriteHandshake(second, wire.Handshake{InfoHash: out.InfoHash, PeerID: [20]byte{3}})
	r := <-res
	if r.err != nil {
		t.Fatalf("dialPunched: %v", r.err)
	}
	r.c.Close()
	far.(*net.TCPListener).SetDeadline(time.Now().Add(3 * punchHandshake))
	if c, err := far.Accept(); err == nil {
		c.Close()
		t.Fatal("dialPunched dialled again after its handshake")
	}
}

// punchEngine is an engine with only what a TCP hole punch needs: a
// shared listener on loopback, plain handshakes, uTP off. far is the
// listener it punches toward.
func punchEngine(t *testing.T) (*Engine, net.Listener) {
	t.Helper()
	policy := netguard.Policy{LoopbackOnly: true}
	ln, err := policy.ListenShared("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	far, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { far.Close() })
	e := &Engine{log: slog.New(slog.NewTextHandler(io.Discard, nil)), policy: policy, ln: ln}
	e.utpMode.Store(uint32(transport.UTPOff))
	e.encryption.Store(uint32(transport.Off))
	return e, far
}
