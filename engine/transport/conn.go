package transport

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/anacrolix/torrent/mse"

	"github.com/shoalp2p/shoal/engine/wire"
)

// HandshakeTimeout bounds a whole handshake, MSE included, by default.
const HandshakeTimeout = 20 * time.Second

// readBufSize is the read buffer of an established connection.
const readBufSize = 256 << 10

// Steps of a handshake, as a HandshakeError names them.
const (
	stepConnect = "connect"
	stepMSE     = "encrypted handshake"
	stepBT      = "BitTorrent handshake"
)

// Conn is a peer connection past its handshake head.
type Conn struct {
	// Conn is where messages are written: the socket itself, or an RC4
	// wrapper around it. Reads must go through Reader.
	net.Conn
	// Reader yields the peer's messages, decrypted.
	Reader *bufio.Reader
	// Network is "tcp" or "utp".
	Network string
	// Encryption is EncNone, EncObfuscated or EncRC4.
	Encryption string
}

// Dialer opens outgoing peer connections under an encryption mode.
type Dialer struct {
	// Dial opens a TCP connection (the policy-checked dialer).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialUTP opens a uTP connection; nil means no uTP.
	DialUTP func(ctx context.Context, addr string) (net.Conn, error)
	// UTPMode returns the current uTP mode; nil means UTPOn.
	UTPMode func() UTPMode
	// Mode returns the current encryption mode; nil means Off.
	Mode func() Encryption
	// Timeout bounds each handshake (HandshakeTimeout if zero).
	Timeout time.Duration

	mu        sync.Mutex
	plainOnly map[string]struct{} // peers that failed MSE but took plain
}

// maxPlainOnly bounds the plain-only table; it is cleared when full.
const maxPlainOnly = 4096

// Connect dials addr and runs the handshake: MSE (per the mode) carrying
// our BEP 3 handshake out, then the peer's handshake back, which must name
// out.InfoHash. In Prefer mode a failed MSE handshake is retried in plain.
func (d *Dialer) Connect(ctx context.Context, addr string, out wire.Handshake) (*Conn, wire.Handshake, error) {
	mode := Off
	if d.Mode != nil {
		mode = d.Mode()
	}
	if mode == Prefer && d.isPlainOnly(addr) {
		mode = Off
	}
	c, in, err := d.race(ctx, addr, out, mode)
	if err == nil || mode != Prefer || ctx.Err() != nil || !plainMayWork(err) {
		return c, in, err
	}
	c, in, err2 := d.race(ctx, addr, out, Off)
	if err2 != nil {
		return nil, in, fmt.Errorf("%w; then in plain: %w", err, err2)
	}
	d.rememberPlain(addr)
	return c, in, nil
}

// plainMayWork reports whether a failed MSE attempt is worth a plain one:
// a connection (TCP or uTP) opened but the encrypted handshake failed.
func plainMayWork(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok && !isHandshakeError(err) {
		for _, e := range j.Unwrap() {
			if plainMayWork(e) {
				return true
			}
		}
		return false
	}
	he, ok := err.(*HandshakeError)
	return ok && he.Step == stepMSE && he.Kind != ErrWrongInfoHash
}

func isHandshakeError(err error) bool {
	_, ok := err.(*HandshakeError)
	return ok
}

// dialTimeout bounds a connect on its own; otherDialTimeout bounds the
// connect over the other transport once one transport reached the peer
// and its handshake failed. The peer is up then, so a uTP SYN left
// unanswered through its first resend (at 1 s, the resend timeout before
// any round trip is measured) means a peer that does not take uTP
// (libtorrent with incoming uTP off stays silent): waiting the full dialTimeout for it made a fresh
// libtorrent seeder's first metadata take 15 s.
const (
	dialTimeout      = 15 * time.Second
	otherDialTimeout = 2 * time.Second
)

// race connects over TCP and uTP at once, as libtorrent does, keeps
// whichever connection opens first and closes the other before it carries
// a byte (so the peer never sees two handshakes from us). If the BitTorrent
// handshake then fails on the winner, in Prefer mode because the peer
// refused MSE (a libtorrent with encryption off resets it), plain is tried
// on the same transport first: the peer is known to listen there. Only
// then does the other transport get its try (a uTP-only libtorrent
// accepts TCP and resets it, plain too), with a short connect timeout.
// Which transports run follows the uTP mode.
func (d *Dialer) race(ctx context.Context, addr string, out wire.Handshake, mode Encryption) (*Conn, wire.Handshake, error) {
	um := UTPOn
	if d.UTPMode != nil {
		um = d.UTPMode()
	}
	if tcpOnly(ctx) {
		if um == UTPOnly {
			return nil, wire.Handshake{}, ErrUTPHeld
		}
		um = UTPOff
	}
	switch {
	case d.DialUTP == nil || um == UTPOff:
		return d.attempt(ctx, d.Dial, "tcp", addr, out, mode, dialTimeout)
	case um == UTPOnly:
		return d.attempt(ctx, d.dialUTP, "utp", addr, out, mode, dialTimeout)
	}
	conn, network, err := d.dialFirst(ctx, addr)
	if err != nil {
		return nil, wire.Handshake{}, err
	}
	opened(ctx, network)
	c, in, err := Initiate(ctx, conn, out, mode, d.timeout())
	if err == nil {
		return c, in, nil
	}
	conn.Close()
	if ctx.Err() != nil || Kind(err) == ErrWrongInfoHash {
		return nil, in, err
	}
	same, other, dial := d.Dial, "utp", d.dialUTP
	if network == "utp" {
		same, other, dial = d.dialUTP, "tcp", d.Dial
	}
	if mode == Prefer && plainMayWork(err) {
		c, in, err2 := d.attempt(ctx, same, network, addr, out, Off, dialTimeout)
		if err2 == nil {
			d.rememberPlain(addr)
			return c, in, nil
		}
		err = fmt.Errorf("%w; then in plain: %w", err, err2)
		if ctx.Err() != nil || Kind(err2) == ErrWrongInfoHash {
			return nil, in, err
		}
	}
	c, in, err2 := d.attempt(ctx, dial, other, addr, out, mode, otherDialTimeout)
	if err2 != nil {
		return nil, in, fmt.Errorf("%w; then over %s: %w", err, other, err2)
	}
	return c, in, nil
}

// dialed is one transport's outcome in dialFirst.
type dialed struct {
	conn    net.Conn
	network string
	err     error
}

// dialFirst dials addr over TCP and uTP at once and returns the first
// connection to open; the other dial is cancelled, or closed if it opened.
// A TCP connect the peer refused or reset shows the host is up: the uTP
// dial then gets otherDialTimeout more, not the rest of dialTimeout.
func (d *Dialer) dialFirst(ctx context.Context, addr string) (net.Conn, string, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	uctx, ucancel := context.WithCancel(dctx)
	defer ucancel()
	results := make(chan dialed, 2)
	dial := func(ctx context.Context, network string, f func(ctx context.Context, network, addr string) (net.Conn, error)) {
		c, err := f(ctx, network, addr)
		results <- dialed{c, network, failed(network+" "+stepConnect, err)}
	}
	go dial(dctx, "tcp", d.Dial)
	go dial(uctx, "utp", d.dialUTP)
	var errs []error
	for range 2 {
		r := <-results
		if r.err == nil {
			go func() { // the loser, once it gives up or connects
				if l := <-results; l.err == nil {
					l.conn.Close()
				}
			}()
			return r.conn, r.network, nil
		}
		errs = append(errs, r.err)
		if k := Kind(r.err); r.network == "tcp" && (k == ErrRefused || k == ErrReset) {
			t := time.AfterFunc(otherDialTimeout, ucancel)
			defer t.Stop()
		}
	}
	return nil, "", fmt.Errorf("%w; %w", errs[0], errs[1])
}

func (d *Dialer) dialUTP(ctx context.Context, _, addr string) (net.Conn, error) {
	return d.DialUTP(ctx, addr)
}

func (d *Dialer) isPlainOnly(addr string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.plainOnly[addr]
	return ok
}

func (d *Dialer) rememberPlain(addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.plainOnly == nil || len(d.plainOnly) >= maxPlainOnly {
		d.plainOnly = make(map[string]struct{})
	}
	d.plainOnly[addr] = struct{}{}
}

// attempt is one connection, open within connect, and its handshake in
// one mode over one transport.
func (d *Dialer) attempt(ctx context.Context, dial func(ctx context.Context, network, addr string) (net.Conn, error),
	network, addr string, out wire.Handshake, mode Encryption, connect time.Duration) (*Conn, wire.Handshake, error) {
	dctx, cancel := context.WithTimeout(ctx, connect)
	conn, err := dial(dctx, network, addr)
	cancel()
	if err != nil {
		return nil, wire.Handshake{}, failed(network+" "+stepConnect, err)
	}
	opened(ctx, network)
	c, in, err := Initiate(ctx, conn, out, mode, d.timeout())
	if err != nil {
		conn.Close()
		return nil, in, err
	}
	return c, in, nil
}

func (d *Dialer) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return HandshakeTimeout
}

// Initiate runs the outgoing handshake on an open connection within
// timeout (or until ctx ends). The caller closes conn on error.
func Initiate(ctx context.Context, conn net.Conn, out wire.Handshake, mode Encryption, timeout time.Duration) (*Conn, wire.Handshake, error) {
	conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	defer watchdog(conn, timeout)()
	c := &Conn{Conn: conn, Network: networkOf(conn), Encryption: EncNone}
	if mode == Off {
		if err := wire.WriteHandshake(conn, out); err != nil {
			return nil, wire.Handshake{}, failed(stepBT, err)
		}
		c.Reader = bufio.NewReaderSize(conn, readBufSize)
	} else if err := initiateMSE(c, out, mode); err != nil {
		return nil, wire.Handshake{}, err
	}
	in, err := wire.ReadHandshake(c.Reader)
	if err != nil {
		return nil, in, failed(stepBT, err)
	}
	if in.InfoHash != out.InfoHash {
		return nil, in, failedAs(ErrWrongInfoHash, stepBT, fmt.Errorf("it answered for %x", in.InfoHash))
	}
	if !stop() {
		return nil, in, failed(stepBT, ctx.Err())
	}
	conn.SetDeadline(time.Time{})
	return c, in, nil
}

// initiateMSE runs MSE as initiator with the infohash as SKEY, sending our
// BEP 3 handshake as the initial payload, and sets c's streams.
func initiateMSE(c *Conn, out wire.Handshake, mode Encryption) error {
	ia := wire.AppendHandshake(nil, out)
	rw, method, err := mse.InitiateHandshake(c.Conn, out.InfoHash[:], ia, mode.provides())
	if err != nil {
		return failed(stepMSE, err)
	}
	c.Encryption = encName(method)
	if method == mse.CryptoMethodRC4 {
		c.Conn = &cipherConn{Conn: c.Conn, rw: rw}
	}
	c.Reader = bufio.NewReaderSize(c.Conn, readBufSize)
	return nil
}

// watchdog closes conn if the handshake outlives timeout by a second:
// the uTP library's deadlines were seen not to end a stalled Read (a SYN
// flood kept every handshake slot past its deadline), and a close does.
// The returned func disarms it.
func watchdog(conn net.Conn, timeout time.Duration) func() {
	t := time.AfterFunc(timeout+time.Second, func() { conn.Close() })
	return func() { t.Stop() }
}

// networkOf names a connection's transport.
func networkOf(c net.Conn) string {
	if _, ok := c.LocalAddr().(*net.TCPAddr); ok {
		return "tcp"
	}
	return "utp"
}
