package netguard

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"
)

// TestDialFromListenPort: a connection dialled with DialFrom leaves from
// the shared listener's own port (what a TCP hole punch needs) while the
// listener keeps accepting, and the policy still refuses other networks.
func TestDialFromListenPort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SO_REUSEPORT is set on Linux only")
	}
	p := Policy{LoopbackOnly: true}
	ln, err := p.ListenShared("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	far, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	local := ln.Addr().(*net.TCPAddr)
	ctx := context.Background()
	c, err := p.DialFrom(ctx, "tcp4", local, far.Addr().String(), time.Second)
	if err != nil {
		t.Fatalf("DialFrom the listen port: %v", err)
	}
	defer c.Close()
	if got := c.LocalAddr().(*net.TCPAddr).Port; got != local.Port {
		t.Errorf("dialled from port %d, want the listen port %d", got, local.Port)
	}
	in, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatalf("the shared listener stopped accepting: %v", err)
	}
	in.Close()
	if _, err := p.DialFrom(ctx, "tcp4", local, "203.0.113.9:1", time.Second); err == nil {
		t.Error("DialFrom reached outside the loopback-only policy")
	}
}
