package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/engine/wire"
)

// BEP 55 hole punching, the transport's part (the swarm decides when; see
// package swarm). Both NATs must map our listen port to the same external
// port for every destination (endpoint-independent mapping), which Linux
// MASQUERADE does while that port is free: the address a relay sees in
// our handshake is then the one the far end must aim at.
//
// The initiating end dials as usual but from its listen port: TCP from
// the listening socket's port (SO_REUSEPORT), retried while the far NAT
// still refuses, raced against uTP, which always leaves from the shared
// UDP socket. The other end opens its NAT: it dials TCP from its listen
// port too (the two SYNs cross: TCP simultaneous open, one connection,
// handed to the accept path as an incoming one), and sends a few uTP
// punch datagrams so the initiator's uTP SYN finds a mapping.

const (
	// punchRetry is the pause between TCP attempts refused by a NAT that
	// has no mapping yet, once punchFast is over.
	punchRetry = 250 * time.Millisecond
	// punchFastRetry is the pause for the first punchFast of attempts. A
	// router that answers a SYN it has no mapping for with RST (as
	// OpenWrt's default firewall does) ends our attempt and, as the RST
	// passes our own router, the mapping that attempt opened: each end's
	// hole is then open for one round trip per attempt, and the two ends'
	// SYNs must cross in flight. Short pauses keep each end's hole open a
	// large share of the time, so they soon do (app TestLabHolePunch,
	// tcp-reject). A router that drops the SYN instead keeps the attempt
	// open, and the pause hardly matters.
	punchFastRetry = 5 * time.Millisecond
	punchFast      = 10 * time.Second
	// punchDialTimeout bounds one TCP attempt (the kernel resends the SYN
	// after 1 s and 3 s).
	punchDialTimeout = 4 * time.Second

	// openerTTL is the TTL of the datagrams that open our NAT for a uTP
	// punch first: they pass our router, which maps our port toward the
	// far end, and expire at the next hop, before the far router. A
	// datagram that reaches a router whose own stack answers it (ICMP
	// port unreachable) before the far end's mapping exists leaves an
	// entry there that makes the far end's mapping take another port
	// (see the package doc); one that expires on the way does not.
	openerTTL = 2
	// punchUTPWait is how long the dialing end waits after its openers
	// before its uTP SYN, and punchFullAfter how long the other end waits
	// after its own before its full-TTL punch datagrams (which open NATs
	// further out, such as a carrier's). Both ends get the relay's connect
	// at about the same time; these margins let each end's openers pass
	// its router before the other end's full-TTL packets reach it.
	punchUTPWait   = 400 * time.Millisecond
	punchFullAfter = 200 * time.Millisecond
)

// punchGaps are the pauses between the non-dialing end's full-TTL uTP
// punch datagrams, the first after its openers.
var punchGaps = []time.Duration{punchFullAfter, 100 * time.Millisecond, 200 * time.Millisecond,
	400 * time.Millisecond, 800 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second}

// punch is the swarm's Puncher.
func (e *Engine) punch(ctx context.Context, addr string, out wire.Handshake, initiator bool) (*transport.Conn, wire.Handshake, error) {
	if err := e.policy.CheckHostPort(addr); err != nil {
		return nil, wire.Handshake{}, err
	}
	if initiator {
		return e.dialPunched(ctx, addr, out)
	}
	e.openHole(ctx, addr)
	return nil, wire.Handshake{}, nil
}

// punchHandshake bounds each handshake on a punched connection. Both ends
// are up and waiting for each other (the relay's connect just reached
// them), so the far end answers within a few round trips; one that does
// not is on a connection dead one way (see openHole and the package doc),
// which waiting the ordinary HandshakeTimeout for only kept until the
// punch window was nearly over (app TestLabHolePunch tcp-prohibited in
// CI: the initiator read nothing for 30 s).
var punchHandshake = 4 * time.Second // a var for TestDialPunchedResetsSilentConn

// dialPunched is the initiating end: it connects as an outgoing dial
// would, handshake included, over TCP from the listen port (dialPunch)
// and uTP, and punches on while ctx (the punch window) lasts when a TCP
// connection formed but its handshake failed, or none formed within the
// transport's connect timeout. Until its handshake is done a punched TCP
// connection is closed with a reset (SO_LINGER 0): a reset, unlike a FIN
// behind unacknowledged data, ends the routers' entries for the
// connection, whose stale sequence numbers would otherwise make them drop
// the next punch's packets, and leaves no socket holding the listen
// port's tuple.
func (e *Engine) dialPunched(ctx context.Context, addr string, out wire.Handshake) (*transport.Conn, wire.Handshake, error) {
	var formed atomic.Int32
	var last atomic.Pointer[net.TCPConn]
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := e.dialPunch(ctx, network, addr)
		if err == nil {
			if tc := rawTCP(c); tc != nil {
				tc.SetLinger(0)
				last.Store(tc)
			}
			formed.Add(1)
		}
		return c, err
	}
	d := &transport.Dialer{Dial: dial, DialUTP: e.dialPunchUTP, UTPMode: e.currentUTPMode, Mode: e.encryptionMode, Timeout: punchHandshake}
	for {
		before := formed.Load()
		c, in, err := d.Connect(ctx, addr, out)
		if err == nil {
			if tc := last.Load(); c.Network == "tcp" && tc != nil {
				tc.SetLinger(-1) // a live peer connection closes as usual
			}
			return c, in, nil
		}
		if ctx.Err() != nil || transport.Kind(err) == transport.ErrWrongInfoHash {
			return nil, in, err
		}
		if formed.Load() == before {
			if !errors.Is(err, context.DeadlineExceeded) {
				return nil, in, err
			}
			// The transport's connect timeout (15 s) ended the attempts,
			// not our window: under CPU load the two ends' SYNs can take
			// longer to cross (app TestLabHolePunch tcp-answering, loaded:
			// none crossed in 15 s, and the window's other 15 s went
			// unused).
			e.log.Debug("hole punch: no TCP connection formed yet; punching on", "peer", addr)
			continue
		}
		e.log.Debug("hole punch: the punched TCP connection's handshake failed; reset, punching again", "peer", addr, "err", err)
	}
}

// rawTCP is the TCP socket under c, a connection dialPunch returned, or
// nil.
func rawTCP(c net.Conn) *net.TCPConn {
	switch c := c.(type) {
	case *net.TCPConn:
		return c
	case *bufConn:
		return rawTCP(c.Conn)
	}
	return nil
}

// dialFromListenPort dials TCP from the listen port until a connection
// forms or ctx ends, pausing after each refusal.
func (e *Engine) dialFromListenPort(ctx context.Context, network, addr string) (net.Conn, error) {
	local, ok := e.ln.Addr().(*net.TCPAddr)
	if !ok {
		return nil, errors.New("engine: hole punch: no TCP listener")
	}
	target, _ := netip.ParseAddrPort(addr) // invalid: DialFrom fails
	fastUntil := time.Now().Add(punchFast)
	instant := 0 // attempts followed at once so far (punchPause)
	for {
		c, err := e.policy.DialFrom(ctx, network, local, addr, punchDialTimeout)
		e.noteAttempt(target, err)
		if err == nil || !retryPunch(err) {
			return c, err
		}
		pause := punchPause(err, time.Now().Before(fastUntil), &instant)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(pause):
		}
	}
}

// noteAttempt tells punchIn how a TCP punch attempt toward target
// ended: a connection forms, or an ICMP refusal leaves our router
// tracking the attempt's SYN (punchIn.deadOneWay).
func (e *Engine) noteAttempt(target netip.AddrPort, err error) {
	switch {
	case err == nil:
		e.punchIn.forgetRefused(target)
	case icmpRefused(err):
		e.punchIn.noteRefused(target)
	}
}

// maxInstantRetries bounds the TCP punch attempts that follow an ICMP
// refusal at once (icmpRefused). An ICMP from the far router comes a
// round trip after the SYN, so at once means one SYN per round trip (the
// lab's punches formed within 50 attempts); but an address our own host
// has no route to fails in the connect call itself, and without a bound
// the loop would spin a core for all of punchFast.
const maxInstantRetries = 500

// punchPause is the pause after a failed TCP punch attempt: punchRetry
// once the fast phase is over; during it punchFastRetry, or none after an
// ICMP refusal while *instant, the attempts followed at once so far, is
// under maxInstantRetries.
func punchPause(err error, fast bool, instant *int) time.Duration {
	switch {
	case !fast:
		return punchRetry
	case icmpRefused(err) && *instant < maxInstantRetries:
		*instant++
		return 0
	}
	return punchFastRetry
}

// retryPunch reports whether a TCP punch attempt that failed with err is
// worth another: the far NAT refused or dropped it, or the tuple is taken
// by a connection our listener accepted from the far end (dialPunch
// collects that one). A firewall may refuse with an ICMP unreachable
// instead of a RST (icmpRefused). A connection reset as it formed is
// worth another too: the far end resets a punched connection that failed
// its handshake (dialPunched, servePunched), and its reset may come
// before our connect call has returned.
func retryPunch(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EADDRNOTAVAIL) ||
		errors.Is(err, syscall.EADDRINUSE) || icmpRefused(err) || isTimeout(err)
}

// icmpRefused reports whether a TCP attempt ended on an ICMP host or
// network unreachable, as a firewall that rejects with host prohibited
// (firewalld's default zone) sends. Unlike a RST, the ICMP leaves our
// router's entry for the attempt in place, tracking that SYN's sequence
// number: the far end's SYN then passes our router whenever it comes, and
// must meet a connecting socket, whose SYN-ACK carries the tracked
// number, not our listener, whose SYN-ACK carries a new one that our
// router lets pass untracked (it never tracks the connection as set up,
// and our data never passes it; deadPunched resets such a connection).
// So the next attempt follows at once: one SYN per
// round trip, for the first punchFast only. In the lab (round trip
// 0.2 ms, app TestLabHolePunch tcp-prohibited) the punch failed in 3 of 3
// runs with pauses of 5 ms and 1 ms after the ICMP, and in 1 of 1 with
// the attempt ended there; it succeeded in 2 of 2 with no pause.
func icmpRefused(err error) bool {
	return errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// isTimeout reports whether err is a dial that timed out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// openHole is the non-initiating end: uTP punch datagrams and TCP
// attempts from the listen port toward addr until ctx ends (the swarm
// ends it once the peer is connected). A TCP connection that forms is
// served as an incoming one; if it ends without a byte, stays silent for
// punchSilent, or speaks but its handshake fails (the initiator reset it
// after punchHandshake), it is reset and the attempts go on.
func (e *Engine) openHole(ctx context.Context, addr string) {
	mode := e.currentUTPMode()
	if mode != transport.UTPOff {
		go e.sendPunches(ctx, addr)
	}
	if mode == transport.UTPOnly {
		<-ctx.Done()
		return
	}
	for {
		c, err := e.dialFromListenPort(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Debug("hole punch: TCP attempts over", "peer", addr, "err", err)
			}
			return
		}
		if !e.servePunched(ctx, c) {
			return
		}
		e.log.Debug("hole punch: the punched TCP connection ended, stayed silent or failed its handshake; punching again", "peer", addr, "silent_after", punchSilent)
	}
}

// punchSilent is how long a TCP connection our hole punch opened may
// wait for the initiator's first byte, which it sends as soon as its end
// is connected. One that stays silent, and open, is dead: the
// initiator's listener, not a connecting socket, met our SYN (its
// attempt had just been refused with an ICMP and the next had not begun,
// as happens on a loaded machine), and its SYN-ACK, with a new initial
// sequence number, passed its router, which still tracks the one of the
// initiator's own refused SYN (the entry stays in SYN_SENT2). Both ends
// then hold an established connection, but that router never passes
// the initiator's data (app TestLabHolePunch tcp-prohibited under CPU
// load: its MSE key sat unacknowledged, resent, while we waited for it
// until the punch was over). Our reset does reach the initiator, whose
// handshake then fails at once (connection reset by peer) and who
// punches again (dialPunched); we punch again too, and a reset, unlike
// a FIN, leaves no socket holding the listen port's tuple. The second
// punch does not always form a live connection (see the package doc).
// (A connection our own listener accepted after our attempt was refused
// with an ICMP is reset before it is served: deadPunched.)
var punchSilent = 4 * time.Second // a var for TestOpenHoleResetsSilentConn

// servePunched serves c, a TCP connection a hole punch opened, as an
// incoming one, and reports whether to punch again, while ctx and the
// engine go on: c ended without a byte (as it did in the lab once, at
// once, with the initiator dialing on and never connected), stayed
// silent and open for punchSilent and was reset, or spoke but its
// handshake failed (the initiator resets a connection whose handshake
// does not finish within punchHandshake: ours was the direction that
// does not pass) and was reset. It returns false once ctx ends (the
// swarm has the peer). (One the initiator closed because its uTP won the
// race costs an attempt more, until the swarm ends ctx.)
func (e *Engine) servePunched(ctx context.Context, c net.Conn) bool {
	e.mu.Lock()
	run := e.runCtx
	e.mu.Unlock()
	if run == nil || run.Err() != nil {
		c.Close()
		return false
	}
	sniffed := make(chan bool, 1)
	failed := make(chan struct{}, 1)
	w := &servedWatch{
		sniffed: func(heard bool) { sniffed <- heard },
		failed: func(c net.Conn) {
			if tc := rawTCP(c); tc != nil && ctx.Err() == nil {
				tc.SetLinger(0)
			}
			failed <- struct{}{}
		},
	}
	if !e.admitWatched(run, c, e.handshakes, w) {
		return false
	}
	again := func() bool { return ctx.Err() == nil && run.Err() == nil }
	t := time.NewTimer(punchSilent)
	defer t.Stop()
	select {
	case heard := <-sniffed:
		if !heard {
			return again()
		}
	case <-ctx.Done():
		return false
	case <-t.C:
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset, not a FIN that would keep the port's tuple taken
		}
		c.Close()
		return true
	}
	select {
	case <-failed:
		return again()
	case <-ctx.Done():
		return false
	}
}

// dialPunchUTP is the dialing end's uTP for a hole punch: openers, then,
// after punchUTPWait, the ordinary uTP dial from the shared socket.
func (e *Engine) dialPunchUTP(ctx context.Context, addr string) (net.Conn, error) {
	if ua, err := net.ResolveUDPAddr("udp", addr); err == nil {
		e.sendOpeners(ua, punchDatagram())
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(punchUTPWait):
	}
	return e.dialUTP(ctx, addr)
}

// punchDatagram is a uTP punch datagram: a BEP 29 ST_RESET header with a
// random connection ID, which a uTP stack drops as a reset for a
// connection it does not have.
func punchDatagram() []byte {
	b := make([]byte, 20)
	b[0] = 3<<4 | 1 // type ST_RESET, version 1
	rand.Read(b[2:4])
	return b
}

// sendOpeners sends b to ua twice from the shared UDP socket with a TTL
// of openerTTL, where the socket can (IPv4 on Linux).
func (e *Engine) sendOpeners(ua *net.UDPAddr, b []byte) {
	w, ok := e.udp.(interface {
		WriteToTTL([]byte, net.Addr, int) (int, error)
	})
	if !ok {
		return
	}
	for range 2 {
		if _, err := w.WriteToTTL(b, ua, openerTTL); err != nil {
			e.log.Debug("hole punch: opener not sent", "peer", ua.String(), "err", err)
			return
		}
	}
}

// sendPunches sends openers to addr, then full-TTL punch datagrams, from
// the shared UDP socket.
func (e *Engine) sendPunches(ctx context.Context, addr string) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return
	}
	b := punchDatagram()
	e.sendOpeners(ua, b)
	for _, gap := range punchGaps {
		select {
		case <-ctx.Done():
			return
		case <-time.After(gap):
		}
		if _, err := e.pc.WriteTo(b, ua); err != nil {
			return
		}
	}
}
