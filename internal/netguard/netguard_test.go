package netguard

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

var loop = Policy{LoopbackOnly: true}

func TestCheckHostPort(t *testing.T) {
	cases := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:80", true},
		{"127.8.9.10:1", true},
		{"[::1]:6881", true},
		{"localhost:6881", true},
		{"192.0.2.1:6881", false},     // TEST-NET-1: refused without resolving or sending
		{"example.invalid:80", false}, // names other than localhost are never resolved
		{"0.0.0.0:0", false},
		{"[::]:0", false},
		{"nonsense", false},
	}
	for _, c := range cases {
		err := loop.CheckHostPort(c.addr)
		if (err == nil) != c.ok {
			t.Errorf("CheckHostPort(%q) = %v, want ok=%v", c.addr, err, c.ok)
		}
	}
	if err := (Policy{}).CheckHostPort("192.0.2.1:1"); err != nil {
		t.Errorf("open policy refused an address: %v", err)
	}
}

func TestDialRefusesBeforeSending(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := loop.Dial(ctx, "tcp", "192.0.2.1:6881")
	if !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("Dial = %v, want ErrNotLoopback", err)
	}
	if _, err := loop.Listen("tcp", "0.0.0.0:0"); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("Listen on all interfaces = %v, want ErrNotLoopback", err)
	}
}

func TestPacketConnRefusesNonLoopbackSends(t *testing.T) {
	pc, err := loop.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_, err = pc.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 9})
	if !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("WriteTo = %v, want ErrNotLoopback", err)
	}
	peer, err := loop.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := pc.WriteTo([]byte("hello"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("loopback datagram: %q, %v", buf[:n], err)
	}
}

func TestListenerAcceptsLoopback(t *testing.T) {
	ln, err := loop.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
