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
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("openHole went on after its connection spoke")
	}
	noMoreDials(t, far)
}

// TestOpenHoleRedialsAfterClose: a punched connection that ends without
// a byte is no punch either: openHole dials again at once, not after
// punchSilent.
func TestOpenHoleRedialsAfterClose(t *testing.T) {
	far, done := startOpenHole(t)
	acceptWithin(t, far, 5*time.Second).Close()
	second := acceptWithin(t, far, punchSilent/2)
	second.Write([]byte{19})
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("openHole went on after its connection spoke")
	}
	noMoreDials(t, far)
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
