package overlay

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serveDialBack accepts on ln and hands every connection to d until the
// test ends; it returns how many connections came in.
func serveDialBack(t *testing.T, ln net.Listener, d *DialBack) *atomic.Int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if d != nil {
					d.ServeConn(ctx, c, ln.Addr().String())
				} else {
					c.Close()
				}
			}()
		}
	}()
	return &n
}

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// dialFrom is a Dialer whose connections leave from local IP src.
func dialFrom(src string) Dialer {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return d.DialContext
}

func portOf(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln := listen(t, "127.0.0.1:0")
	p := portOf(ln)
	ln.Close()
	return p
}

func newHelper(t *testing.T, cfg DialBackConfig) (string, *DialBack) {
	t.Helper()
	if cfg.Dial == nil {
		cfg.Dial = dialFrom("127.0.0.1")
	}
	d := NewDialBack(cfg)
	ln := listen(t, "127.0.0.1:0")
	serveDialBack(t, ln, d)
	return ln.Addr().String(), d
}

// TestDialBackReached: a helper dials the asker back at its listening
// port; the probe carries the asker's nonce, so the asker knows it was
// reached, and learns the address the helper dialled.
func TestDialBackReached(t *testing.T) {
	t.Parallel()
	helper, _ := newHelper(t, DialBackConfig{})
	var probes atomic.Int64
	asker := NewDialBack(DialBackConfig{Dial: dialFrom("127.0.0.1"), OnProbe: func() { probes.Add(1) }})
	ln := listen(t, "127.0.0.1:0")
	serveDialBack(t, ln, asker)
	res, err := asker.Ask(context.Background(), helper, portOf(ln))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reached || res.Target != ln.Addr().String() || res.Helper != helper || probes.Load() != 1 {
		t.Fatalf("result %+v (probes %d), want reached at %s", res, probes.Load(), ln.Addr())
	}
}

// TestDialBackNotReached: nothing listens at the port, so the helper's
// probe is refused and the asker hears why.
func TestDialBackNotReached(t *testing.T) {
	t.Parallel()
	helper, _ := newHelper(t, DialBackConfig{})
	asker := NewDialBack(DialBackConfig{Dial: dialFrom("127.0.0.1")})
	port := closedPort(t)
	res, err := asker.Ask(context.Background(), helper, port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reached || res.Reason != "connection refused" || res.Target != "127.0.0.1:"+strconv.Itoa(port) {
		t.Fatalf("result %+v, want refused at port %d", res, port)
	}
}

// TestDialBackSomeoneElseAnswers: another node answers probes at the
// asker's address and port; without the asker's nonce coming in, the
// asker does not count itself reachable.
func TestDialBackSomeoneElseAnswers(t *testing.T) {
	t.Parallel()
	helper, _ := newHelper(t, DialBackConfig{})
	other := NewDialBack(DialBackConfig{})
	ln := listen(t, "127.0.0.1:0")
	serveDialBack(t, ln, other)
	asker := NewDialBack(DialBackConfig{Dial: dialFrom("127.0.0.1")})
	res, err := asker.Ask(context.Background(), helper, portOf(ln))
	if err != nil {
		t.Fatal(err)
	}
	if res.Reached || !strings.Contains(res.Reason, "another machine") {
		t.Fatalf("result %+v, want not reached: the probe went to another node", res)
	}
}

// TestDialBackDialsOnlyTheSource: whatever address a request carries, the
// helper dials only the connection's source IP, with the requested port.
func TestDialBackDialsOnlyTheSource(t *testing.T) {
	t.Parallel()
	helper, _ := newHelper(t, DialBackConfig{})
	third := listen(t, "127.0.0.9:0") // a third party the asker would like dialled
	hits := serveDialBack(t, third, nil)
	c, err := net.Dial("tcp", helper)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(dialBackWait))
	reply, err := askFrames(c, &message{Type: typeHello, Role: roleDialBack, Port: portOf(third), ID: testID,
		Addr: third.Addr().String(), Target: third.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.1:" + strconv.Itoa(portOf(third))
	if reply.Target != want || reply.Code != CodeDialBackFailed {
		t.Fatalf("reply %+v, want a failed dial of %s (the source IP)", reply, want)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the third party at %s got %d connections", third.Addr(), n)
	}
}

// TestDialBackLimits: a helper dials at most PerIP times per source IP
// and Global times overall per minute; the window passing frees both.
func TestDialBackLimits(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	helper, d := newHelper(t, DialBackConfig{PerIP: 3, Global: 5, now: clock})
	port := closedPort(t)
	ask := func(src string) error {
		a := NewDialBack(DialBackConfig{Dial: dialFrom(src)})
		_, err := a.Ask(context.Background(), helper, port)
		return err
	}
	for i := range 3 {
		if err := ask("127.0.0.1"); err != nil {
			t.Fatalf("ask %d from 127.0.0.1: %v", i+1, err)
		}
	}
	if err := ask("127.0.0.1"); !errors.Is(err, ErrDialBackRefused) || !strings.Contains(err.Error(), "your address") {
		t.Fatalf("4th ask from one IP within a minute: %v, want refused for the address", err)
	}
	for i := range 2 {
		if err := ask("127.0.0.2"); err != nil {
			t.Fatalf("ask %d from 127.0.0.2: %v", i+1, err)
		}
	}
	if err := ask("127.0.0.3"); !errors.Is(err, ErrDialBackRefused) || !strings.Contains(err.Error(), "this minute") {
		t.Fatalf("6th ask overall within a minute: %v, want refused by the global cap", err)
	}
	mu.Lock()
	now = now.Add(DialBackWindow)
	mu.Unlock()
	if err := ask("127.0.0.1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	d.mu.Lock()
	inflight := d.inflight
	d.mu.Unlock()
	if inflight != 0 {
		t.Fatalf("%d dial-backs still counted in flight", inflight)
	}
}

// TestDialBackBadRequests: a request without a nonce is refused as
// malformed, before anything is dialled.
func TestDialBackBadRequests(t *testing.T) {
	t.Parallel()
	helper, _ := newHelper(t, DialBackConfig{})
	c, err := net.Dial("tcp", helper)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(dialBackWait))
	reply, err := askFrames(c, &message{Type: typeHello, Role: roleDialBack, Port: 1})
	if err != nil || reply.Code != CodeMalformed {
		t.Fatalf("request without nonce: %+v %v, want malformed", reply, err)
	}
}
