// Package netguard enforces Shoal's network policy at the socket layer.
//
// In loopback-only mode (used by every test, benchmark and the demo) a Policy
// refuses to dial, send to, listen on or accept any address outside
// 127.0.0.0/8 and ::1, and never resolves host names other than "localhost".
// Every part of the engine that touches the network gets its sockets from a
// Policy, so the rule holds in one place.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ErrNotLoopback is returned (wrapped) when loopback-only mode refuses an address.
var ErrNotLoopback = errors.New("loopback-only mode: address is not loopback")

// Policy decides which addresses the engine may talk to.
type Policy struct {
	// LoopbackOnly restricts every socket operation to 127.0.0.0/8 and ::1.
	LoopbackOnly bool
}

// CheckIP reports whether ip is allowed under the policy.
func (p Policy) CheckIP(ip net.IP) error {
	if !p.LoopbackOnly {
		return nil
	}
	if ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrNotLoopback, ip)
}

// CheckAddr checks a net.Addr (TCP or UDP) against the policy.
func (p Policy) CheckAddr(a net.Addr) error {
	if !p.LoopbackOnly {
		return nil
	}
	switch a := a.(type) {
	case *net.TCPAddr:
		return p.CheckIP(a.IP)
	case *net.UDPAddr:
		return p.CheckIP(a.IP)
	case nil:
		return fmt.Errorf("%w: nil address", ErrNotLoopback)
	}
	return p.CheckHostPort(a.String())
}

// CheckHostPort checks a "host:port" string. In loopback-only mode the host
// must be a loopback IP literal or "localhost"; no name is ever resolved.
func (p Policy) CheckHostPort(hostport string) error {
	if !p.LoopbackOnly {
		return nil
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("netguard: %q: %w", hostport, err)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP literal", ErrNotLoopback, host)
	}
	if !ip.IsLoopback() {
		return fmt.Errorf("%w: %s", ErrNotLoopback, ip)
	}
	return nil
}

// Dial connects to addr if the policy allows it.
func (p Policy) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := p.CheckHostPort(addr); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// Listen opens a stream listener; in loopback-only mode the address must be
// loopback and connections from elsewhere are closed on accept.
func (p Policy) Listen(network, addr string) (net.Listener, error) {
	if err := p.CheckHostPort(addr); err != nil {
		return nil, err
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	return &listener{Listener: l, policy: p}, nil
}

// ListenPacket opens a packet socket whose sends and receives obey the policy.
func (p Policy) ListenPacket(network, addr string) (net.PacketConn, error) {
	if err := p.CheckHostPort(addr); err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		return nil, err
	}
	return &packetConn{PacketConn: pc, policy: p}, nil
}

type listener struct {
	net.Listener
	policy Policy
}

// Accept drops connections the policy refuses and waits for the next one.
func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.policy.CheckAddr(c.RemoteAddr()) == nil {
			return c, nil
		}
		c.Close()
	}
}

type packetConn struct {
	net.PacketConn
	policy Policy
}

// ReadFrom silently discards datagrams from refused addresses.
func (c *packetConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || c.policy.CheckAddr(addr) == nil {
			return n, addr, err
		}
	}
}

// WriteTo refuses to send to addresses outside the policy.
func (c *packetConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if err := c.policy.CheckAddr(addr); err != nil {
		return 0, err
	}
	return c.PacketConn.WriteTo(b, addr)
}
