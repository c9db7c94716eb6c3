package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"

	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/internal/netguard"
)

// The IPv6 stack of a dual-stack node. With a host-less listen address
// (":PORT", the default) the node listens on IPv4 and on IPv6, on one port
// number: TCP for peers and search on each, and a UDP socket on each with
// its own uTP socket and DHT server, as BEP 32 has it (an IPv6 node's routing table holds
// IPv6 nodes, exchanged as "nodes6" and asked for with "want": "n6").
// e.ln, e.pc and e.dht stay the IPv4 (or only) stack; this file adds the
// second. A machine without IPv6 runs IPv4 alone, with a log line.

// bind6 opens the IPv6 TCP and UDP sockets on port for a host-less listen
// address (nothing otherwise). A port taken on IPv6 fails when the port
// was picked freely, so that bind picks another; a machine without IPv6,
// or a chosen port another program holds on IPv6, leaves IPv4 alone.
func (e *Engine) bind6(port int) error {
	if netguard.Host(e.cfg.Listen) != "" {
		return nil
	}
	host := "::"
	if e.cfg.LoopbackOnly {
		host = "::1"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := e.policy.Listen("tcp6", addr)
	if err == nil {
		var pc net.PacketConn
		if pc, err = e.policy.ListenPacket("udp6", addr); err == nil {
			e.ln6, e.pc6 = ln, pc
			return nil
		}
		ln.Close()
	}
	if errors.Is(err, syscall.EADDRINUSE) && portOf(e.cfg.Listen) == "0" {
		return fmt.Errorf("ipv6 %s: %w", addr, err)
	}
	e.log.Warn("listening on IPv4 only: no IPv6 socket", "addr", addr, "err", err)
	return nil
}

// startUTP6 puts a uTP socket on the IPv6 UDP socket, if any, as
// startUTP does on the IPv4 one: the IPv6 DHT then reads through it, so
// uTP and BEP 32's DHT share the IPv6 port too.
func (e *Engine) startUTP6() error {
	if e.pc6 == nil {
		return nil
	}
	var err error
	e.utp6, e.pc6, err = e.utpOn(e.pc6, "engine: IPv6")
	return err
}

// utpFor picks the uTP socket that dials addr: the IPv6 one for an IPv6
// address when the node is dual-stack, else the only one.
func (e *Engine) utpFor(addr string) *transport.UTP {
	if e.utp6 != nil {
		if ip := net.ParseIP(netguard.Host(addr)); ip != nil && ip.To4() == nil {
			return e.utp6
		}
	}
	return e.utp
}

// startDHT6 runs the IPv6 DHT server on the IPv6 UDP socket, if any. It
// has a peer store of its own: peers that announce over IPv6 are IPv6
// peers, handed only to IPv6 nodes.
func (e *Engine) startDHT6() error {
	if e.pc6 == nil {
		return nil
	}
	cfg, ref := e.dhtConfig(e.pc6, e.bootstrapNodes6, net.IPv6loopback)
	cfg.DefaultWant = []krpc.Want{krpc.WantNodes6}
	var err error
	e.dht6, err = e.startDHTServer(cfg, ref, "IPv6 DHT")
	return err
}

// bootstrapNodes6 is the IPv6 part of the bootstrap list (the public
// routers' IPv6 addresses by default, none under a restricted policy).
func (e *Engine) bootstrapNodes6() ([]dht.Addr, error) {
	if e.cfg.Bootstrap == nil && !e.policy.Restricted() {
		return dht.GlobalBootstrapAddrs("udp6")
	}
	all, err := e.bootstrapAll()
	return ofFamily(all, true), err
}

// ofFamily keeps the IPv6 addresses (v6) or the IPv4 ones.
func ofFamily(addrs []dht.Addr, v6 bool) []dht.Addr {
	var out []dht.Addr
	for _, a := range addrs {
		if (a.IP().To4() == nil) == v6 {
			out = append(out, a)
		}
	}
	return out
}

// run6 starts the IPv6 stack's accept loop and DHT upkeep.
func (e *Engine) run6(ctx context.Context) {
	if e.ln6 != nil {
		e.goRun(ctx, func(ctx context.Context) error { return e.acceptFrom(ctx, e.ln6) })
	}
	if e.utp6 != nil {
		e.goRun(ctx, func(ctx context.Context) error { return e.utpAcceptFrom(ctx, e.utp6) })
	}
	if e.dht6 != nil {
		e.goRun(ctx, func(ctx context.Context) error { return e.keepDHT(ctx, e.dht6) })
	}
}

// closeStack closes whichever parts of one address family's stack are
// open: the DHT server, the uTP socket, the UDP socket under both, and the
// TCP listener.
func closeStack(d *dht.Server, u *transport.UTP, pc net.PacketConn, ln net.Listener) {
	if d != nil {
		d.Close()
	}
	if u != nil {
		u.CloseNow()
	}
	if pc != nil {
		pc.Close()
	}
	if ln != nil {
		ln.Close()
	}
}

// dhtServers lists the node's DHT servers: IPv4 (or the only one) first.
func (e *Engine) dhtServers() []*dht.Server {
	if e.dht6 == nil {
		return []*dht.Server{e.dht}
	}
	return []*dht.Server{e.dht, e.dht6}
}

// Addrs6 reports where the node listens on IPv6: its peer (TCP) and DHT
// (UDP) addresses, on the same port. Both are empty without an IPv6
// stack.
func (e *Engine) Addrs6() (peer6, dht6 string) {
	if e.ln6 == nil {
		return "", ""
	}
	host := netguard.Host(e.ln6.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "::1"
		if !e.cfg.LoopbackOnly {
			host = outboundIP6()
		}
	}
	a := net.JoinHostPort(host, strconv.Itoa(e.port))
	return a, a
}

// outboundIP6 guesses the IPv6 address peers see (no packet is sent: a
// UDP "connect" only picks a route); "::1" when there is no IPv6 route.
func outboundIP6() string {
	c, err := net.DialTimeout("udp6", "[2001:db8::1]:9", time.Second) // documentation prefix
	if err != nil {
		return "::1"
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}
