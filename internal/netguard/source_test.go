package netguard

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestDialFromSource: a policy with a Source connects from it, so that a
// node listening on 127.0.0.2 reaches peers as 127.0.0.2 (the kernel
// would pick 127.0.0.1, the loopback route's address), over TCP and UDP;
// an IPv6 target is dialled without it.
func TestDialFromSource(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	from := make(chan string, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			from <- Host(c.RemoteAddr().String())
			c.Close()
		}
	}()
	for _, c := range []struct {
		p    Policy
		want string
	}{
		{Policy{LoopbackOnly: true, Source: SourceFor("127.0.0.2:0")}, "127.0.0.2"},
		{Policy{LoopbackOnly: true}, "127.0.0.1"},
	} {
		conn, err := c.p.Dial(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("dial with source %v: %v", c.p.Source, err)
		}
		conn.Close()
		if got := <-from; got != c.want {
			t.Errorf("source %v: the listener saw %s, want %s", c.p.Source, got, c.want)
		}
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	p := Policy{LoopbackOnly: true, Source: SourceFor("127.0.0.2:0")}
	uc, err := p.Dial(context.Background(), "udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatalf("udp dial with source: %v", err)
	}
	defer uc.Close()
	uc.Write([]byte("x"))
	buf := make([]byte, 8)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, from, err := pc.ReadFrom(buf); err != nil || Host(from.String()) != "127.0.0.2" {
		t.Errorf("udp: the socket heard %v (%v), want 127.0.0.2", from, err)
	}
	ln6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer ln6.Close()
	c, err := p.Dial(context.Background(), "tcp", ln6.Addr().String())
	if err != nil {
		t.Fatalf("an IPv4 source kept an IPv6 dial from connecting: %v", err)
	}
	c.Close()
}

func TestSourceFor(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.5:0": "127.0.0.5", "[::1]:6881": "::1", "0.0.0.0:6881": "", "[::]:1": "",
		":6881": "", "": "", "localhost:1": "", "[::ffff:192.0.2.1]:1": "192.0.2.1",
	} {
		got := SourceFor(in)
		if (want == "" && got.IsValid()) || (want != "" && got != netip.MustParseAddr(want)) {
			t.Errorf("SourceFor(%q) = %v, want %q", in, got, want)
		}
	}
}
