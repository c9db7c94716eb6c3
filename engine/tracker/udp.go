package tracker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"time"
)

const (
	// connIDLifetime is how long a UDP connection id may be reused (BEP 15).
	connIDLifetime = time.Minute
	// maxRetryExp is the largest n in the 15*2^n retransmission schedule.
	maxRetryExp = 8
	// defaultUDPRetryBase is the BEP 15 base retransmission timeout.
	defaultUDPRetryBase = 15 * time.Second
	// maxDatagram is the largest UDP payload read.
	maxDatagram = 65536
)

// errAttemptTimeout means one attempt got no answer; the caller retransmits.
var errAttemptTimeout = errors.New("tracker: udp: no response")

// connIDEntry is a cached BEP 15 connection id.
type connIDEntry struct {
	id uint64
	at time.Time
}

// udpSession is one request (announce or scrape) over a connected UDP
// socket.
type udpSession struct {
	c    *Client
	ctx  context.Context
	conn net.Conn
	key  string // host:port, the connection-id cache key
	ipv6 bool
	buf  []byte
}

// udpCall is one BEP 15 request kind: op names it in errors, build makes
// the request for a connection id and transaction id, and parse reads the
// reply whose header carries tx.
type udpCall struct {
	op    string
	build func(connID uint64, tx uint32) []byte
	parse func(pkt []byte, tx uint32, ipv6 bool) error
}

// announceUDP performs a BEP 15 announce, retransmitting on silence.
func (c *Client) announceUDP(ctx context.Context, u *url.URL, req Request) (Response, error) {
	var r Response
	urlData := urlDataOf(u)
	call := udpCall{op: "announce",
		build: func(id uint64, tx uint32) []byte { return marshalAnnounce(id, tx, req, urlData) },
		parse: func(pkt []byte, tx uint32, ipv6 bool) (err error) {
			r, err = ParseUDPResponse(pkt, tx, ipv6)
			return err
		}}
	if err := c.roundTripUDP(ctx, u, call); err != nil {
		return Response{}, err
	}
	return r, nil
}

// urlDataOf is the BEP 41 URL data of a udp:// URL: its path and query.
func urlDataOf(u *url.URL) string {
	urlData := u.EscapedPath()
	if u.RawQuery != "" {
		urlData += "?" + u.RawQuery
	}
	return urlData
}

// roundTripUDP dials the tracker and runs call, connecting first when no
// fresh connection id is cached, and retransmitting on silence as BEP 15
// says (15*2^n seconds, scaled by UDPRetryBase).
func (c *Client) roundTripUDP(ctx context.Context, u *url.URL, call udpCall) error {
	if u.Port() == "" {
		return fmt.Errorf("tracker: udp %s: %w: no port in %q", call.op, ErrInvalidRequest, u.Host)
	}
	conn, err := c.Dial(ctx, "udp", u.Host)
	if err != nil {
		return fmt.Errorf("tracker: udp %s: dial: %w", call.op, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	s := &udpSession{c: c, ctx: ctx, conn: conn, key: u.Host, buf: make([]byte, maxDatagram)}
	if ua, ok := conn.RemoteAddr().(*net.UDPAddr); ok {
		s.ipv6 = ua.IP.To4() == nil
	}
	base := c.UDPRetryBase
	if base <= 0 {
		base = defaultUDPRetryBase
	}
	for n := 0; n <= maxRetryExp; n++ {
		err := s.attempt(call, base<<n)
		if !errors.Is(err, errAttemptTimeout) {
			return err
		}
	}
	return fmt.Errorf("tracker: udp %s: %w after %d attempts", call.op, errAttemptTimeout, maxRetryExp+1)
}

// attempt runs connect (unless a fresh connection id is cached) and the
// call, each waiting at most wait for its answer.
func (s *udpSession) attempt(call udpCall, wait time.Duration) error {
	id, ok := s.c.cachedConnID(s.key)
	if !ok {
		tx := rand.Uint32()
		pkt, err := s.exchange(marshalConnect(tx), tx, wait)
		if err != nil {
			return fmt.Errorf("tracker: udp connect: %w", err)
		}
		if id, err = parseConnectResponse(pkt, tx); err != nil {
			return fmt.Errorf("tracker: udp connect: %w", err)
		}
		s.c.storeConnID(s.key, id)
	}
	tx := rand.Uint32()
	pkt, err := s.exchange(call.build(id, tx), tx, wait)
	if err != nil {
		return fmt.Errorf("tracker: udp %s: %w", call.op, err)
	}
	if err := call.parse(pkt, tx, s.ipv6); err != nil {
		// The id may have been rejected; get a new one next time.
		s.c.dropConnID(s.key)
		return fmt.Errorf("tracker: udp %s: %w", call.op, err)
	}
	return nil
}

// exchange sends pkt and returns the first reply carrying transaction id
// tx, ignoring stray datagrams. Silence for wait yields errAttemptTimeout;
// the end of the context yields its error.
func (s *udpSession) exchange(pkt []byte, tx uint32, wait time.Duration) ([]byte, error) {
	if _, err := s.conn.Write(pkt); err != nil {
		return nil, s.ioError("write", err)
	}
	deadline := time.Now().Add(wait)
	if d, ok := s.ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := s.conn.SetReadDeadline(deadline); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	if err := s.ctx.Err(); err != nil { // cancelled before the deadline was set
		return nil, fmt.Errorf("read: %w", err)
	}
	for {
		n, err := s.conn.Read(s.buf)
		if err != nil {
			return nil, s.ioError("read", err)
		}
		if n >= 8 && checkHeader(s.buf[:n], tx) == nil {
			return s.buf[:n], nil
		}
	}
}

// ioError classifies a socket error: the context's end, a per-attempt
// timeout, or a real failure (such as ICMP port unreachable).
func (s *udpSession) ioError(op string, err error) error {
	if cerr := s.ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	if d, ok := s.ctx.Deadline(); ok && !time.Now().Before(d) {
		return fmt.Errorf("%s: %w", op, context.DeadlineExceeded)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errAttemptTimeout
	}
	return fmt.Errorf("%s: %w", op, err)
}

// cachedConnID returns a connection id obtained less than a minute ago.
func (c *Client) cachedConnID(key string) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.connIDs[key]
	if !ok || c.clock().Sub(e.at) >= connIDLifetime {
		return 0, false
	}
	return e.id, true
}

// storeConnID caches id for key and prunes expired entries.
func (c *Client) storeConnID(key string, id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	if c.connIDs == nil {
		c.connIDs = make(map[string]connIDEntry)
	}
	for k, e := range c.connIDs {
		if now.Sub(e.at) >= connIDLifetime {
			delete(c.connIDs, k)
		}
	}
	c.connIDs[key] = connIDEntry{id: id, at: now}
}

// dropConnID forgets the cached connection id for key.
func (c *Client) dropConnID(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.connIDs, key)
}
