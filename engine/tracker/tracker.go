package tracker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"time"
)

// Sentinel errors callers may branch on with errors.Is.
var (
	// ErrUnsupportedScheme is returned for announce URLs that are not
	// http, https or udp.
	ErrUnsupportedScheme = errors.New("tracker: unsupported announce URL scheme")
	// ErrTrackerFailure wraps a failure reason sent by the tracker (HTTP
	// "failure reason" or a UDP action 3 error message).
	ErrTrackerFailure = errors.New("tracker: failure")
	// ErrBadResponse is returned for responses that cannot be parsed.
	ErrBadResponse = errors.New("tracker: malformed response")
	// ErrInvalidRequest is returned for an unusable announce URL or request.
	ErrInvalidRequest = errors.New("tracker: invalid request")
	// ErrHTTPStatus is returned when an HTTP tracker answers with a non-2xx
	// status and no bencoded failure reason.
	ErrHTTPStatus = errors.New("tracker: unexpected HTTP status")
	// ErrNoDialer is returned when Client.Dial is nil.
	ErrNoDialer = errors.New("tracker: Client.Dial is nil")
)

// Event is the announce event (BEP 3).
type Event string

// Announce events. EventNone is a regular (periodic) announce.
const (
	EventNone      Event = ""
	EventStarted   Event = "started"
	EventCompleted Event = "completed"
	EventStopped   Event = "stopped"
)

// Request holds the announce parameters.
type Request struct {
	InfoHash, PeerID [20]byte
	// Port is the port we accept peer connections on.
	Port                       uint16
	Uploaded, Downloaded, Left int64
	Event                      Event
	// NumWant is the number of peers wanted; <= 0 asks for the tracker's
	// default (omitted over HTTP, -1 over UDP).
	NumWant int32
	// Key identifies this client across IP changes; sent when non-zero over
	// HTTP (as 8 hex digits) and always over UDP.
	Key uint32
	// TrackerID is echoed back to HTTP trackers that sent one ("trackerid").
	TrackerID string
	// IPv6 is our IPv6 peer address (BEP 7), sent to HTTP trackers as
	// "ipv6" when valid, so that a tracker reached over IPv4 also lists
	// us for IPv6 peers. A port other than Port is sent with it
	// ("[addr]:port"); port 0 means Port.
	IPv6 netip.AddrPort
}

// Response is the useful part of an announce answer.
type Response struct {
	Interval, MinInterval time.Duration
	Seeders, Leechers     int
	// Peers lists IPv4 and IPv6 peers; entries with port 0 are dropped.
	Peers   []netip.AddrPort
	Warning string
	// TrackerID is the HTTP tracker's "tracker id", to send back next time.
	TrackerID string
}

// Dialer is what the client uses for both TCP (http) and UDP; in Shoal it
// is netguard.Policy.Dial.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// DefaultTimeout bounds one announce or one Scrape call when
// Client.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Client announces to trackers. The zero value is not usable: set Dial.
// A Client is safe for concurrent use; it caches UDP connection ids, so keep
// one Client per engine rather than one per announce.
type Client struct {
	// Dial opens every socket (TCP for http/https, connected UDP for udp).
	Dial Dialer
	// UserAgent is sent as the HTTP User-Agent header when non-empty.
	UserAgent string
	// Timeout bounds one announce, retries included, and one Scrape call,
	// all its batches included (default 15s).
	Timeout time.Duration
	// UDPRetryBase is the BEP 15 base retransmission timeout: attempt n
	// waits UDPRetryBase*2^n (n <= 8), always capped by the context. Zero
	// means the BEP 15 value of 15s; with the default Timeout that allows a
	// single attempt, so raise Timeout or lower this to get retransmissions.
	UDPRetryBase time.Duration
	// TLSConfig is used for https trackers; nil means Go's defaults.
	TLSConfig *tls.Config

	mu      sync.Mutex
	connIDs map[string]connIDEntry // UDP connection ids by host:port
	now     func() time.Time       // for tests; nil means time.Now
}

// Announce sends req to the tracker at announceURL, dispatching on the URL
// scheme (http, https, udp). Unknown schemes yield ErrUnsupportedScheme.
func (c *Client) Announce(ctx context.Context, announceURL string, req Request) (Response, error) {
	u, err := url.Parse(announceURL)
	if err != nil {
		return Response{}, fmt.Errorf("tracker: parse announce URL: %w: %w", ErrInvalidRequest, err)
	}
	if c.Dial == nil {
		return Response{}, ErrNoDialer
	}
	if !validEvent(req.Event) {
		return Response{}, fmt.Errorf("tracker: announce: %w: event %q", ErrInvalidRequest, req.Event)
	}
	if u.Host == "" {
		return Response{}, fmt.Errorf("tracker: announce %s: %w: no host", u.Redacted(), ErrInvalidRequest)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch u.Scheme {
	case "http", "https":
		return c.announceHTTP(ctx, u, req)
	case "udp":
		return c.announceUDP(ctx, u, req)
	}
	return Response{}, fmt.Errorf("%w: %q", ErrUnsupportedScheme, u.Scheme)
}

func validEvent(e Event) bool {
	switch e {
	case EventNone, EventStarted, EventCompleted, EventStopped:
		return true
	}
	return false
}

func (c *Client) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// seconds converts a tracker-supplied number of seconds to a Duration,
// clamping negatives to 0 and huge values to avoid overflow.
func seconds(s int64) time.Duration {
	const maxSeconds = int64(1<<63-1) / int64(time.Second)
	switch {
	case s <= 0:
		return 0
	case s > maxSeconds:
		s = maxSeconds
	}
	return time.Duration(s) * time.Second
}

// clampCount converts a tracker-supplied count to a non-negative int.
func clampCount(n int64) int {
	if n < 0 {
		return 0
	}
	return int(n)
}

// appendPeer appends p unless it is unusable (invalid address or port 0).
func appendPeer(peers []netip.AddrPort, p netip.AddrPort) []netip.AddrPort {
	if !p.Addr().IsValid() || p.Port() == 0 {
		return peers
	}
	return append(peers, p)
}
