package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// ErrNotAllowed is returned (wrapped) when the policy refuses an address.
var ErrNotAllowed = errors.New("address outside the allowed networks")

// ErrNotLoopback is ErrNotAllowed, by its loopback-only name.
var ErrNotLoopback = ErrNotAllowed

// Loopback is what loopback-only mode allows.
var Loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// Policy decides which addresses the engine may talk to. The zero Policy
// allows everything.
type Policy struct {
	// LoopbackOnly restricts every socket operation to 127.0.0.0/8 and ::1
	// (the same as listing those in Allow).
	LoopbackOnly bool
	// Allow, when not empty, restricts every socket operation to these
	// networks (together with loopback under LoopbackOnly).
	Allow []netip.Prefix
	// Source, when valid, is the local address Dial connects from (to
	// hosts of its family): the address the engine listens on, when one
	// was named. Without it the kernel picks the route's address, and a
	// node bound to one of a host's addresses (a VPN's, or one of many
	// loopback addresses) would reach peers from another one.
	Source netip.Addr
}

// SourceFor returns the Source a node listening on hostport dials from:
// its host when that is an IP other than the unspecified one, else none.
func SourceFor(hostport string) netip.Addr {
	ip, err := netip.ParseAddr(Host(hostport))
	if err != nil || ip.IsUnspecified() {
		return netip.Addr{}
	}
	return ip.Unmap()
}

// Restricted reports whether the policy limits addresses at all.
func (p Policy) Restricted() bool { return p.LoopbackOnly || len(p.Allow) > 0 }

// Networks lists the allowed networks; nil means all.
func (p Policy) Networks() []netip.Prefix {
	if !p.LoopbackOnly {
		return p.Allow
	}
	out := append([]netip.Prefix(nil), Loopback...)
	return append(out, p.Allow...)
}

// Allows reports whether ip is inside an allowed network.
func (p Policy) Allows(ip netip.Addr) bool {
	if !p.Restricted() {
		return true
	}
	ip = ip.Unmap()
	for _, n := range p.Networks() {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// refuse builds the error for an address outside the policy, naming the
// address and what is allowed.
func (p Policy) refuse(what string) error {
	var nets []string
	for _, n := range p.Networks() {
		nets = append(nets, n.String())
	}
	mode := "allowed networks"
	if p.LoopbackOnly && len(p.Allow) == 0 {
		mode = "loopback-only mode allows"
	}
	return fmt.Errorf("%w: %s (%s %s)", ErrNotAllowed, what, mode, strings.Join(nets, ", "))
}

// CheckIP reports whether ip is allowed under the policy.
func (p Policy) CheckIP(ip net.IP) error {
	if !p.Restricted() {
		return nil
	}
	if a, ok := netip.AddrFromSlice(ip); ok && p.Allows(a) {
		return nil
	}
	return p.refuse(fmt.Sprint(ip))
}

// CheckAddr checks a net.Addr (TCP or UDP) against the policy.
func (p Policy) CheckAddr(a net.Addr) error {
	if !p.Restricted() {
		return nil
	}
	switch a := a.(type) {
	case *net.TCPAddr:
		return p.CheckIP(a.IP)
	case *net.UDPAddr:
		return p.CheckIP(a.IP)
	case nil:
		return p.refuse("nil address")
	}
	return p.CheckHostPort(a.String())
}

// CheckHostPort checks a "host:port" string. Under a restricted policy the
// host must be an allowed IP literal, or "localhost" when loopback is
// allowed; no name is ever resolved.
func (p Policy) CheckHostPort(hostport string) error {
	if !p.Restricted() {
		return nil
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("netguard: %q: %w", hostport, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return p.refuse(fmt.Sprintf("%q is not an IP literal", host))
	}
	if !p.Allows(ip) {
		return p.refuse(ip.String())
	}
	return nil
}

// checkListen checks a listen address. Unspecified (all interfaces) is
// allowed when some allowed network is not loopback: accept and receive
// still filter peers. Under loopback-only it is refused.
func (p Policy) checkListen(hostport string) error {
	if !p.Restricted() {
		return nil
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("netguard: %q: %w", hostport, err)
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		for _, n := range p.Networks() {
			if !n.Addr().IsLoopback() {
				return nil
			}
		}
	}
	return p.CheckHostPort(hostport)
}

// Dial connects to addr if the policy allows it.
func (p Policy) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := p.CheckHostPort(addr); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: p.localFor(network, addr)}
	return d.DialContext(ctx, network, addr)
}

// localFor is the local address Dial binds for addr: Source, for a TCP
// or UDP dial (a UDP tracker records the IP it hears from) to an IP of
// its family or to a name (the resolver then keeps to Source's family);
// nil otherwise.
func (p Policy) localFor(network, addr string) net.Addr {
	if !p.Source.IsValid() {
		return nil
	}
	if ip, err := netip.ParseAddr(Host(addr)); err == nil && ip.Unmap().Is4() != p.Source.Is4() {
		return nil
	}
	switch {
	case strings.HasPrefix(network, "tcp"):
		return &net.TCPAddr{IP: p.Source.AsSlice()}
	case strings.HasPrefix(network, "udp"):
		return &net.UDPAddr{IP: p.Source.AsSlice()}
	}
	return nil
}

// Listen opens a stream listener on an allowed address; connections from
// outside the policy are closed on accept.
func (p Policy) Listen(network, addr string) (net.Listener, error) {
	if err := p.checkListen(addr); err != nil {
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
	if err := p.checkListen(addr); err != nil {
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

// Unwrap is the socket under the guard, for what the guard has no part
// in: sizing its buffers, reading its socket options.
func (c *packetConn) Unwrap() net.PacketConn { return c.PacketConn }

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

// WriteToTTL is WriteTo with the IPv4 TTL set for this one datagram (the
// socket's own TTL, which other senders share, stays as it is). A hole
// punch opens our NAT with datagrams that expire one hop past it. It
// reports errors.ErrUnsupported off Linux and for IPv6.
func (c *packetConn) WriteToTTL(b []byte, addr net.Addr, ttl int) (int, error) {
	if err := c.policy.CheckAddr(addr); err != nil {
		return 0, err
	}
	return writeTTL(c.PacketConn, b, addr, ttl)
}

// Host is the host part of a "host:port" text, or the text itself when it
// has no port ("[::1]:80" → "::1", "example" → "example").
func Host(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}
