package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
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

var lab = Policy{Allow: []netip.Prefix{
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("100.64.0.0/10"),
}}

func TestAllowNet(t *testing.T) {
	cases := []struct {
		addr string
		ok   bool
	}{
		{"203.0.113.50:6881", true},
		{"198.19.255.1:1", true},
		{"100.127.0.1:1", true},
		{"[::ffff:203.0.113.9]:1", true}, // v4-mapped counts as v4
		{"203.0.114.1:1", false},
		{"127.0.0.1:1", false}, // loopback is not in the list
		{"localhost:1", false},
		{"192.0.2.1:1", false},
		{"example.invalid:80", false},
		{"[2001:db8::1]:1", false},
	}
	for _, c := range cases {
		err := lab.CheckHostPort(c.addr)
		if (err == nil) != c.ok {
			t.Errorf("CheckHostPort(%q) = %v, want ok=%v", c.addr, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrNotAllowed) {
			t.Errorf("CheckHostPort(%q) = %v, want ErrNotAllowed", c.addr, err)
		}
	}
	err := lab.CheckHostPort("192.0.2.1:1")
	if err == nil || !strings.Contains(err.Error(), "192.0.2.1") || !strings.Contains(err.Error(), "203.0.113.0/24, 198.18.0.0/15, 100.64.0.0/10") {
		t.Errorf("refusal %q should name the address and the allowed networks", err)
	}
}

func TestAllowNetListen(t *testing.T) {
	// All interfaces is fine when a non-loopback network is allowed:
	// accept and receive filter the peers.
	if err := lab.checkListen("0.0.0.0:0"); err != nil {
		t.Errorf("listen on all interfaces with lab networks: %v", err)
	}
	if err := lab.checkListen("192.0.2.1:0"); err == nil {
		t.Errorf("listen on 192.0.2.1 allowed outside the lab networks")
	}
	// Loopback-only plus an allow list is the union.
	both := Policy{LoopbackOnly: true, Allow: lab.Allow}
	for _, a := range []string{"127.0.0.1:1", "203.0.113.1:1"} {
		if err := both.CheckHostPort(a); err != nil {
			t.Errorf("union policy refused %s: %v", a, err)
		}
	}
}

func TestAllowNetAcceptFilters(t *testing.T) {
	p := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32"), netip.MustParsePrefix("203.0.113.0/24")}}
	ln, err := p.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	// From 127.0.0.1: refused by the policy, closed on accept.
	c1, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	c2, err := d.Dial("tcp", net.JoinHostPort("127.0.0.2", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	select {
	case c := <-accepted:
		if got := c.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
			t.Fatalf("accepted a peer from %s outside the allowed network", got)
		}
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("allowed peer not accepted")
	}
}

func TestHost(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1:80": "127.0.0.1", "[::1]:6881": "::1", ":0": "", "peer": "peer", "": ""} {
		if got := Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
}
