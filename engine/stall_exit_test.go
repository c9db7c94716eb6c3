package engine

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/transport"
)

// TestStopDoesNotWaitForASilentPeer: a peer that connects and sends
// nothing (as after a botched hole punch) no longer holds up the
// engine's exit for the whole handshake timeout. In the bench row
// "behind a UPnP router" such connections between leechers kept `shoal
// get` alive 20 s after its download completed.
func TestStopDoesNotWaitForASilentPeer(t *testing.T) {
	e, err := Open(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	go e.Run(runCtx)
	peer, _, _ := e.Addrs()
	var c net.Conn
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err = net.Dial("tcp", peer); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer c.Close()
	time.Sleep(300 * time.Millisecond) // accepted, waiting for a first byte
	start := time.Now()
	stop()
	select {
	case <-e.Stopped():
	case <-time.After(transport.HandshakeTimeout + 10*time.Second):
		t.Fatal("the engine did not stop")
	}
	if took := time.Since(start); took > transport.HandshakeTimeout/2 {
		t.Fatalf("stopping took %v with a silent incoming connection (handshake timeout %v)", took, transport.HandshakeTimeout)
	}
}
