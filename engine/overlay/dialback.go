package overlay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/shoalp2p/shoal/internal/locks"
)

// Dial-back: how a node learns whether others can reach it. The asker
// dials a helper (a supernode, or any node it knows) and sends a hello with
// role "dialback", the port to test and a fresh nonce (ID). The helper
// dials the asker's own observed IP at that port with a "probe" hello
// carrying the nonce, then answers the asker on the first connection:
// "welcome" when its probe was welcomed, an error frame with
// CodeDialBackFailed otherwise; both name the address it dialled
// (Target). The asker counts itself reachable only when the probe with its
// nonce came in, so a helper cannot vouch for it falsely and another
// machine answering at the same address does not count.
//
// The helper never dials an address given in the message, only the
// connection's source IP with the given port, so the service cannot be
// used to make Shoal dial third parties; and it dials at most
// DialBackConfig.PerIP times per source IP and DialBackConfig.Global times
// overall per DialBackWindow (DefaultDialBackPerIP and
// DefaultDialBackGlobal unless set), with at most dialBackInflight dials
// at once.

// Dial-back roles and limits.
const (
	roleDialBack = "dialback"

	// CodeDialBackFailed answers a dial-back whose probe did not get
	// through; Text says why and Target names the address dialled.
	CodeDialBackFailed = "dialback_failed"

	// DefaultDialBackPerIP and DefaultDialBackGlobal are how many
	// dial-backs a helper makes per DialBackWindow for one source IP and
	// for everyone.
	DefaultDialBackPerIP  = 3
	DefaultDialBackGlobal = 60
	DialBackWindow        = time.Minute

	dialBackInflight = 8
	dialBackIPs      = 4096 // source IPs remembered; more are refused until the window passes
	// dialBackWait bounds the asker's wait for the answer: the helper's
	// probe dial and handshake (handshakeTimeout) and a margin.
	dialBackWait = handshakeTimeout + 5*time.Second
)

// DialBackConfig sets up a DialBack. Zero limits take the defaults.
type DialBackConfig struct {
	Dial   Dialer // how the helper dials probes and the asker dials helpers
	PerIP  int    // dial-backs per source IP per DialBackWindow
	Global int    // dial-backs for everyone per DialBackWindow
	// OnProbe, if set, is called (without locks held) when a probe comes
	// in: someone outside reached us.
	OnProbe func()
	Logger  *slog.Logger
	// now is the clock (tests).
	now func() time.Time
}

// DialBack serves dial-back requests and asks helpers for them. One
// DialBack per node; Supernode.ServeConn hands it probes and requests.
type DialBack struct {
	cfg DialBackConfig
	log *slog.Logger

	mu       locks.Mutex
	perIP    map[netip.Addr][]time.Time // recent dial-backs per source IP
	global   []time.Time                // recent dial-backs for everyone
	inflight int
	waiting  map[string]chan struct{} // nonces we await as probes
}

// NewDialBack returns a DialBack for cfg.
func NewDialBack(cfg DialBackConfig) *DialBack {
	setDefault(&cfg.PerIP, DefaultDialBackPerIP)
	setDefault(&cfg.Global, DefaultDialBackGlobal)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	return &DialBack{cfg: cfg, log: cfg.Logger, perIP: map[netip.Addr][]time.Time{}, waiting: map[string]chan struct{}{}}
}

// DialBackResult is a helper's answer to Ask.
type DialBackResult struct {
	Helper string // the helper asked
	Target string // the address it dialled: our public IP as it sees us, and the port
	// Reached is true when our probe came in: others can reach us.
	Reached bool
	// Reason says, when not reached, what the helper saw (for people
	// after the helper's words, e.g. "connection refused").
	Reason string
}

// ErrDialBackRefused means the helper declined (rate limit, busy, not
// serving): ask another.
var ErrDialBackRefused = errors.New("overlay: dial-back refused")

// Ask has helper dial us back at port and reports what happened. An error
// means no answer (the helper is unreachable, refused, or broke the
// protocol): it says nothing about our reachability.
func (d *DialBack) Ask(ctx context.Context, helper string, port int) (DialBackResult, error) {
	res := DialBackResult{Helper: helper}
	nonce := uuid.NewString()
	arrived := d.expect(nonce)
	defer d.forget(nonce)
	ctx, cancel := context.WithTimeout(ctx, dialBackWait)
	defer cancel()
	c, err := d.cfg.Dial(ctx, "tcp", helper)
	if err != nil {
		return res, fmt.Errorf("overlay: dial-back: dial %s: %w", helper, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	reply, err := askFrames(c, &message{Type: typeHello, Role: roleDialBack, Port: port, ID: nonce})
	if err != nil {
		return res, fmt.Errorf("overlay: dial-back via %s: %w", helper, err)
	}
	res.Target = reply.Target
	select {
	case <-arrived:
		res.Reached = true
		return res, nil
	default:
	}
	switch {
	case reply.Type == typeWelcome:
		res.Reason = "the helper reached " + reply.Target + ", but our probe did not come in (another machine answers there)"
	case reply.Code == CodeDialBackFailed:
		res.Reason = reply.Text
	default:
		return res, fmt.Errorf("overlay: dial-back via %s: %w: %s %s", helper, ErrDialBackRefused, reply.Code, reply.Text)
	}
	return res, nil
}

// askFrames writes Magic and hello on c and reads the one answer frame.
func askFrames(c net.Conn, hello *message) (*message, error) {
	if _, err := io.WriteString(c, Magic); err != nil {
		return nil, fmt.Errorf("write magic: %w", err)
	}
	if err := writeFrame(c, hello); err != nil {
		return nil, err
	}
	reply, err := readFrame(bufio.NewReader(c))
	if err != nil {
		return nil, err
	}
	if reply.Type != typeWelcome && reply.Type != typeError {
		return nil, fmt.Errorf("%w: %q answering a dial-back", ErrMalformed, reply.Type)
	}
	if reply.Type == typeWelcome && reply.Target == "" {
		return nil, fmt.Errorf("%w: dial-back welcome without target", ErrMalformed)
	}
	return reply, nil
}

func (d *DialBack) expect(nonce string) <-chan struct{} {
	ch := make(chan struct{})
	d.mu.Lock()
	d.waiting[nonce] = ch
	d.mu.Unlock()
	return ch
}

func (d *DialBack) forget(nonce string) {
	d.mu.Lock()
	delete(d.waiting, nonce)
	d.mu.Unlock()
}

// serveProbe welcomes a probe, notes its nonce if we await it, and closes.
func (d *DialBack) serveProbe(ln *link, hello *message, self string) {
	if hello.ID != "" {
		d.mu.Lock()
		if ch, ok := d.waiting[hello.ID]; ok {
			close(ch)
			delete(d.waiting, hello.ID)
		}
		d.mu.Unlock()
	}
	if d.cfg.OnProbe != nil {
		d.cfg.OnProbe()
	}
	_ = ln.write(&message{Type: typeWelcome, Addr: self}, writeTimeout)
	ln.close()
}

// serveRequest answers one dial-back request on ln: it dials the
// connection's source IP at the requested port, within the limits.
func (d *DialBack) serveRequest(ctx context.Context, ln *link, hello *message) {
	defer ln.close()
	ip, ok := sourceIP(ln.conn)
	if !ok || hello.Port < 1 || hello.Port > 65535 {
		ln.fail(CodeProtocol, "dial-back needs a TCP source and a port", nil)
		return
	}
	if why := d.admit(ip); why != "" {
		ln.fail(CodeRateLimited, why, nil)
		return
	}
	target := net.JoinHostPort(ip.String(), strconv.Itoa(hello.Port))
	err := d.probe(ctx, target, hello.ID)
	d.done()
	d.log.Debug("overlay: dial-back", "target", target, "err", err)
	reply := &message{Type: typeWelcome, Addr: target, Target: target}
	if err != nil {
		reply = &message{Type: typeError, Code: CodeDialBackFailed, Text: probeFailure(err), Target: target}
	}
	_ = ln.write(reply, writeTimeout)
}

// probe dials target and sends a probe hello with nonce; nil when welcomed.
func (d *DialBack) probe(ctx context.Context, target, nonce string) error {
	if d.cfg.Dial == nil {
		return errors.New("no dialer")
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	ln, _, err := dialOverlay(ctx, d.cfg.Dial, target, &message{Type: typeHello, Role: roleProbe, ID: nonce})
	if err != nil {
		return err
	}
	ln.close()
	return nil
}

// probeFailure words a probe error for the asker's status line.
func probeFailure(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer within " + probeTimeout.String()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	}
	s := err.Error()
	if len(s) > maxErrTextLen {
		s = s[:maxErrTextLen]
	}
	return s
}

// admit takes one dial-back slot for ip, or says why not.
func (d *DialBack) admit(ip netip.Addr) string {
	now := d.cfg.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.global = recent(d.global, now)
	mine := recent(d.perIP[ip], now)
	switch {
	case d.inflight >= dialBackInflight:
		return "busy: too many dial-backs at once"
	case len(d.global) >= d.cfg.Global:
		return "too many dial-backs this minute"
	case len(mine) >= d.cfg.PerIP:
		return "too many dial-backs for your address this minute"
	case len(mine) == 0 && len(d.perIP) >= dialBackIPs:
		d.sweepLocked(now)
		if len(d.perIP) >= dialBackIPs {
			return "too many dial-backs this minute"
		}
	}
	d.inflight++
	d.global = append(d.global, now)
	d.perIP[ip] = append(mine, now)
	return ""
}

func (d *DialBack) done() {
	d.mu.Lock()
	d.inflight--
	d.mu.Unlock()
}

// sweepLocked forgets source IPs with no dial-back in the window.
func (d *DialBack) sweepLocked(now time.Time) {
	for ip, ts := range d.perIP {
		if len(recent(ts, now)) == 0 {
			delete(d.perIP, ip)
		}
	}
}

// recent drops the times older than DialBackWindow (ts is in order).
func recent(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= DialBackWindow {
		i++
	}
	return ts[i:]
}

// sourceIP is the remote IP of c.
func sourceIP(c net.Conn) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// ServeConn serves an accepted overlay connection on a node that runs no
// Supernode (Config.Leaf): probes and dial-back requests are answered,
// anything else is refused. It closes c.
func (d *DialBack) ServeConn(ctx context.Context, c net.Conn, self string) {
	ln, hello, err := acceptOverlay(c)
	if err != nil {
		c.Close()
		return
	}
	if !d.serve(ctx, ln, hello, self) {
		ln.fail(CodeNotSupernode, "not a supernode", nil)
	}
}

// serve handles hello if it is a probe or a dial-back request and reports
// whether it did.
func (d *DialBack) serve(ctx context.Context, ln *link, hello *message, self string) bool {
	switch hello.Role {
	case roleProbe:
		d.serveProbe(ln, hello, self)
	case roleDialBack:
		d.serveRequest(ctx, ln, hello)
	default:
		return false
	}
	return true
}
