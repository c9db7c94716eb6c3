package engine

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// A TCP hole punch can end as a connection that our listener accepted,
// not one our dial opened: when we are reachable, or our router already
// lets the far end in, its SYN from its listen port reaches us between
// two of our attempts (a router answering our SYNs with RST keeps our
// dial loop in its pause nearly all the time), or before our first one.
// The far end, which does not dial in BEP 55 terms, takes its connection
// as incoming and waits for our handshake; so must we not. The end that
// dials therefore claims, for the length of its attempt, every TCP
// connection from the target's IP that has sent nothing yet (the port may
// differ: the far router can map the far end's listen port to another),
// and runs the outgoing handshake on it.

// punchIn hands accepted TCP connections to hole punches that dial.
type punchIn struct {
	mu      sync.Mutex
	wants   map[netip.Addr]chan net.Conn
	pending map[*pendingConn]struct{}
	// refused holds, per punch target, when our last TCP attempt toward
	// it was refused with an ICMP (see deadOneWay).
	refused map[netip.AddrPort]*refusal
}

// refusal is a punch target toward which our last TCP attempt was
// refused with an ICMP.
type refusal struct {
	at     time.Time
	resets int // connections from it our listener accepted and reset since
}

const (
	// routerSynSent is how long a router's connection tracking keeps the
	// entry of a SYN refused with an ICMP (Linux's
	// nf_conntrack_tcp_timeout_syn_sent).
	routerSynSent = 120 * time.Second
	// maxDeadResets bounds the connections from one target that
	// deadOneWay condemns: past it they are served, in case no router of
	// ours tracks the tuple (a public host without connection tracking,
	// where the listener's answer is as good as a connecting socket's).
	maxDeadResets = 3
)

// noteRefused records that a TCP punch attempt toward ap was just
// refused with an ICMP, which leaves our router tracking that attempt's
// SYN (see deadOneWay).
func (p *punchIn) noteRefused(ap netip.AddrPort) {
	ap = refusalKey(ap)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refused == nil {
		p.refused = make(map[netip.AddrPort]*refusal)
	}
	now := time.Now()
	for k, r := range p.refused {
		if now.Sub(r.at) > routerSynSent {
			delete(p.refused, k)
		}
	}
	if r := p.refused[ap]; r != nil {
		r.at = now
		return
	}
	p.refused[ap] = &refusal{at: now}
}

// refusalKey is ap as refused is keyed: an IPv4 address the same
// whether it came as a dialled address or as an accepted connection's
// IPv4-mapped IPv6 one.
func refusalKey(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// forgetRefused drops ap's record once a punched connection to it formed.
func (p *punchIn) forgetRefused(ap netip.AddrPort) {
	ap = refusalKey(ap)
	p.mu.Lock()
	delete(p.refused, ap)
	p.mu.Unlock()
}

// deadOneWay reports whether a TCP connection our listener just accepted
// from ap is dead one way, and counts it: a punch attempt of ours toward
// ap was refused with an ICMP within routerSynSent, so our router still
// tracks that attempt's SYN, the far end's SYN matched that entry (which
// goes to SYN_SENT2) and, no connecting socket of ours holding the tuple
// just then, met our listener. The listener's SYN-ACK carries a new
// initial sequence number, later by the time since that attempt (Linux:
// a hash of the tuple plus a 64 ns clock): Linux's conntrack lets it
// pass as out of window but does not track it, the entry stays in
// SYN_SENT2, and every later packet of ours (an ACK in SYN_SENT2) is
// invalid to it and leaves without its address translated, for the 120 s
// the entry lasts. Seen in the lab with conntrack -E and tcpdump on the
// routers (app TestLabHolePunch tcp-prohibited).
func (p *punchIn) deadOneWay(ap netip.AddrPort) bool {
	ap = refusalKey(ap)
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.refused[ap]
	if r == nil || time.Since(r.at) > routerSynSent || r.resets >= maxDeadResets {
		return false
	}
	r.resets++
	return true
}

// pendingConn is an accepted TCP connection waiting for its first byte.
type pendingConn struct {
	c     net.Conn
	ip    netip.Addr
	state atomic.Int32 // pendingWaiting, pendingServed or pendingClaimed
	to    chan net.Conn
}

const (
	pendingWaiting int32 = iota
	pendingServed
	pendingClaimed
)

// add registers an accepted connection; nil for one that is not TCP. A
// connection arriving while a punch wants its IP comes back claimed.
func (p *punchIn) add(c net.Conn) *pendingConn {
	ra, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return nil
	}
	pc := &pendingConn{c: c, ip: ra.AddrPort().Addr().Unmap()}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch := p.wants[pc.ip]; ch != nil {
		pc.to = ch
		pc.state.Store(pendingClaimed)
		return pc
	}
	if p.pending == nil {
		p.pending = make(map[*pendingConn]struct{})
	}
	p.pending[pc] = struct{}{}
	return pc
}

// remove forgets pc (nil is fine).
func (p *punchIn) remove(pc *pendingConn) {
	if pc == nil {
		return
	}
	p.mu.Lock()
	delete(p.pending, pc)
	p.mu.Unlock()
}

// serve reports whether pc stays with the accept path: false once a
// punch claimed it, and then the caller hands it over with deliver.
func (pc *pendingConn) serve() bool {
	return pc == nil || pc.state.CompareAndSwap(pendingWaiting, pendingServed)
}

// deliver gives a claimed connection (c wraps pc's, with whatever the
// sniff buffered) to its punch, or closes it if that punch is over.
func (p *punchIn) deliver(pc *pendingConn, c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wants[pc.ip] == pc.to {
		select {
		case pc.to <- c:
			return
		default:
		}
	}
	c.Close()
}

// want claims, until stop, every TCP connection from ip that has sent
// nothing: those waiting now (their sniff is cut short) and those still
// to come. They arrive on the channel.
func (p *punchIn) want(ip netip.Addr) (<-chan net.Conn, func()) {
	ch := make(chan net.Conn, 4)
	p.mu.Lock()
	if p.wants == nil {
		p.wants = make(map[netip.Addr]chan net.Conn)
	}
	if p.wants[ip] != nil { // another punch toward this IP: it keeps them
		p.mu.Unlock()
		return ch, func() {}
	}
	p.wants[ip] = ch
	for pc := range p.pending {
		if pc.ip == ip && pc.state.CompareAndSwap(pendingWaiting, pendingClaimed) {
			pc.to = ch
			delete(p.pending, pc)
			pc.c.SetReadDeadline(time.Unix(1, 0)) // ends its sniff
		}
	}
	p.mu.Unlock()
	return ch, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.wants, ip)
		for {
			select {
			case c := <-ch:
				c.Close()
			default:
				return
			}
		}
	}
}

// dialPunch is the dialing end's TCP for a hole punch: attempts from the
// listen port, or a connection from the target that our listener
// accepted meanwhile, whichever comes first. Either way the caller runs
// the outgoing handshake on it.
func (e *Engine) dialPunch(ctx context.Context, network, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, err
	}
	arrived, stop := e.punchIn.want(ap.Addr().Unmap())
	defer stop()
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		c   net.Conn
		err error
	}
	dialed := make(chan result, 1)
	go func() {
		c, err := e.dialFromListenPort(dctx, network, addr)
		dialed <- result{c, err}
	}()
	select {
	case c := <-arrived:
		c.SetReadDeadline(time.Time{})
		cancel()
		go func() {
			if r := <-dialed; r.c != nil {
				r.c.Close()
			}
		}()
		e.log.Debug("hole punch: the far end's connection reached our listener", "peer", addr)
		return c, nil
	case r := <-dialed:
		return r.c, r.err
	case <-ctx.Done():
		go func() {
			if r := <-dialed; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, errors.Join(ctx.Err(), errNoPunch)
	}
}

var errNoPunch = errors.New("engine: hole punch: no TCP connection formed")
