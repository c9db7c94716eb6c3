package swarm

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/shoalp2p/shoal/engine/wire"
)

// TestExtHandshakeAdvertises checks BEP 10 fields about addresses: p is the
// listen port, or the router's mapped port once known, and yourip is the
// peer's address as we see it.
func TestExtHandshakeAdvertises(t *testing.T) {
	ln, err := loopback.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			c.Read(make([]byte, 1))
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ext atomic.Int32
	s := &Swarm{cfg: Config{ListenPort: 6881, ExternalPort: &ext}}
	for _, want := range []int{6881, 41000} {
		if want != 6881 {
			ext.Store(int32(want))
		}
		h, err := wire.ParseExtHandshake(s.extHandshake(&peer{conn: c}))
		if err != nil {
			t.Fatal(err)
		}
		if h.P != want {
			t.Errorf("p = %d, want %d", h.P, want)
		}
		if net.IP(h.YourIP).String() != "127.0.0.1" {
			t.Errorf("yourip = %v, want 127.0.0.1", h.YourIP)
		}
	}
}
