package portmap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/shoalp2p/shoal/internal/netguard"
)

// Methods reported in Status.Method.
const (
	MethodUPnP   = "upnp"
	MethodNATPMP = "natpmp"
	MethodPCP    = "pcp"
	MethodNone   = "none"
)

// Config sets up a Mapper.
type Config struct {
	// Port is the local TCP and UDP port to open; the same external port
	// is asked for.
	Port int
	// Lease is the mapping lifetime asked for (default one hour). The
	// mapping is renewed at half of what the router grants.
	Lease time.Duration
	// Timeout bounds one attempt of one protocol (default 10 s).
	Timeout time.Duration
	// Policy confines every gateway, description and control address.
	Policy netguard.Policy
	// Gateway is the NAT-PMP gateway; invalid means the default route's.
	Gateway netip.Addr
	// Description names the mapping on the router (default "Shoal").
	Description string
	// OnChange, if set, is called (without locks held) when Status changes.
	OnChange func()
	// Methods, if not nil, limits the protocols tried (MethodUPnP,
	// MethodNATPMP, MethodPCP); nil tries all.
	Methods []string
	// Logger receives the mapper's log; nil discards it.
	Logger *slog.Logger
}

// Status is what the mapper knows.
type Status struct {
	// Method is how the port is open: MethodUPnP, MethodNATPMP,
	// MethodPCP or MethodNone.
	Method string
	// External is the router's public address and the mapped port; invalid
	// while unknown.
	External netip.AddrPort
	// Err explains, for people, why no mapping could be made; empty while
	// trying or when mapped.
	Err string
	// Trying is true until the first attempt has finished.
	Trying bool
}

// mapper is one protocol's client for one gateway.
type mapper interface {
	method() string
	// externalIP asks the router for its public address.
	externalIP(ctx context.Context) (netip.Addr, error)
	// add maps proto ("TCP"/"UDP") port to us, returning the external port
	// and the lease the router granted (0: as asked).
	add(ctx context.Context, proto string, port int, lease time.Duration) (int, time.Duration, error)
	// remove deletes the mapping of external port ext.
	remove(ctx context.Context, proto string, ext int) error
}

// Mapper keeps the listen port mapped. Create it with New and run it with Run.
type Mapper struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	status Status
}

// New returns a Mapper for cfg.
func New(cfg Config) *Mapper {
	if cfg.Lease <= 0 {
		cfg.Lease = time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Description == "" {
		cfg.Description = "Shoal"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Mapper{cfg: cfg, log: cfg.Logger, status: Status{Method: MethodNone, Trying: true}}
}

// Status returns a copy of what the mapper knows.
func (m *Mapper) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

func (m *Mapper) setStatus(s Status) {
	m.mu.Lock()
	changed := m.status != s
	m.status = s
	m.mu.Unlock()
	if changed {
		if s.Err != "" {
			m.log.Info("port mapping failed", "reason", s.Err)
		} else if s.Method != MethodNone {
			m.log.Info("port mapped", "method", s.Method, "external", s.External)
		}
		if m.cfg.OnChange != nil {
			m.cfg.OnChange()
		}
	}
}

// Run maps the port, keeps it mapped until ctx ends, then removes the
// mappings (bounded by the attempt timeout) and returns nil.
func (m *Mapper) Run(ctx context.Context) error {
	var active []*lease
	defer func() {
		m.removeAll(active)
		m.setStatus(Status{Method: MethodNone})
	}()
	for {
		next := m.cfg.Lease / 2
		active = m.refresh(ctx, active)
		if len(active) == 0 {
			next = min(next, retryInterval)
		} else if g := active[0].granted; g > 0 && g/2 < next {
			next = g / 2
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(max(next, time.Second)):
		}
	}
}

// retryInterval is how soon a failed mapping is tried again.
var retryInterval = 5 * time.Minute

// lease is one protocol's mappings of TCP and UDP.
type lease struct {
	m        mapper
	ext      netip.AddrPort
	granted  time.Duration
	protocol []string // mapped: "TCP", "UDP"
	extPort  map[string]int
}

// refresh renews the active mappings; when none is left working, it
// discovers gateways again and maps through every protocol that answers.
func (m *Mapper) refresh(ctx context.Context, active []*lease) []*lease {
	var kept []*lease
	for _, l := range active {
		err := m.renew(ctx, l)
		if ctx.Err() != nil {
			// Stopping, perhaps mid-request: a renewal that reached the
			// router made the mapping again, so every lease stays listed
			// for Run to remove.
			return active
		}
		if err != nil {
			m.log.Info("port mapping renewal failed", "method", l.m.method(), "err", err)
			continue
		}
		kept = append(kept, l)
	}
	if len(kept) > 0 {
		m.publish(kept, nil)
		return kept
	}
	if ctx.Err() != nil {
		return nil
	}
	kept, errs := m.attempt(ctx)
	if ctx.Err() != nil {
		m.removeAll(kept)
		return nil
	}
	m.publish(kept, errs)
	return kept
}

// publish sets the status from the working leases or the failures.
func (m *Mapper) publish(kept []*lease, errs []error) {
	if len(kept) > 0 {
		m.setStatus(Status{Method: kept[0].m.method(), External: kept[0].ext})
		return
	}
	m.setStatus(Status{Method: MethodNone, Err: explain(errs)})
}

// attempt tries every protocol in parallel, each with its own timeout, and
// returns the leases made, UPnP first.
func (m *Mapper) attempt(ctx context.Context) ([]*lease, []error) {
	type result struct {
		l   *lease
		err error
	}
	// NAT-PMP and PCP share the router's port and its mappings: PCP is
	// asked only when NAT-PMP fails, in the same slot.
	tries := [][]func(context.Context) (mapper, error){
		m.allowed(map[string]func(context.Context) (mapper, error){MethodUPnP: m.discoverUPnP}),
		m.allowed(map[string]func(context.Context) (mapper, error){MethodNATPMP: m.discoverNATPMP}, map[string]func(context.Context) (mapper, error){MethodPCP: m.discoverPCP}),
	}
	results := make([]result, len(tries))
	var wg sync.WaitGroup
	for i, chain := range tries {
		if len(chain) == 0 {
			results[i] = result{nil, nil}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			actx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
			defer cancel()
			var errs []error
			for _, discover := range chain {
				mp, err := discover(actx)
				if err == nil {
					var l *lease
					if l, err = m.mapAll(actx, mp); err == nil {
						results[i] = result{l, nil}
						return
					}
				}
				errs = append(errs, err)
			}
			results[i] = result{nil, errors.Join(errs...)}
		}()
	}
	wg.Wait()
	var kept []*lease
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
		} else if r.l != nil {
			kept = append(kept, r.l)
		}
	}
	return kept, errs
}

// allowed lists, in order, the discoverers of each step whose method
// Config.Methods allows.
func (m *Mapper) allowed(steps ...map[string]func(context.Context) (mapper, error)) []func(context.Context) (mapper, error) {
	var out []func(context.Context) (mapper, error)
	for _, step := range steps {
		for method, f := range step {
			if m.cfg.Methods == nil || slices.Contains(m.cfg.Methods, method) {
				out = append(out, f)
			}
		}
	}
	return out
}

// mapAll learns the external address and maps TCP and UDP through mp.
func (m *Mapper) mapAll(ctx context.Context, mp mapper) (*lease, error) {
	ip, err := mp.externalIP(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPublic(ip); err != nil {
		return nil, err
	}
	l := &lease{m: mp, extPort: map[string]int{}}
	for _, proto := range []string{"TCP", "UDP"} {
		ext, granted, err := mp.add(ctx, proto, m.cfg.Port, m.cfg.Lease)
		if err != nil {
			if ctx.Err() != nil {
				// The cancelled request may have reached the router.
				l.protocol = append(l.protocol, proto)
				l.extPort[proto] = m.cfg.Port
			}
			m.removeAll([]*lease{l})
			return nil, &refusedError{method: mp.method(), proto: proto, err: err}
		}
		l.protocol = append(l.protocol, proto)
		l.extPort[proto] = ext
		if granted > 0 && (l.granted == 0 || granted < l.granted) {
			l.granted = granted
		}
	}
	l.ext = netip.AddrPortFrom(ip, uint16(l.extPort["TCP"]))
	return l, nil
}

// renew maps again what l holds; the router treats it as a renewal, or
// as a new mapping when it lost the old one.
func (m *Mapper) renew(ctx context.Context, l *lease) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	ip, err := l.m.externalIP(ctx)
	if err != nil {
		return err
	}
	if err := checkPublic(ip); err != nil {
		return err
	}
	for _, proto := range l.protocol {
		ext, granted, err := l.m.add(ctx, proto, m.cfg.Port, m.cfg.Lease)
		if err != nil {
			return err
		}
		l.extPort[proto] = ext
		if granted > 0 {
			l.granted = granted
		}
	}
	l.ext = netip.AddrPortFrom(ip, uint16(l.extPort["TCP"]))
	return nil
}

// removeAll deletes every mapping in leases, bounded by the timeout.
func (m *Mapper) removeAll(leases []*lease) {
	if len(leases) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(m.cfg.Timeout, 5*time.Second))
	defer cancel()
	for _, l := range leases {
		for _, proto := range l.protocol {
			if err := l.m.remove(ctx, proto, l.extPort[proto]); err != nil {
				m.log.Info("port mapping removal failed", "method", l.m.method(), "proto", proto, "err", err)
			}
		}
		l.protocol = nil
	}
}

// refusedError is a router saying no to a mapping request.
type refusedError struct {
	method, proto string
	err           error
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("portmap: %s refused %s mapping: %v", e.method, e.proto, e.err)
}

func (e *refusedError) Unwrap() error { return e.err }

// errNoGateway means a protocol found nothing to talk to.
var errNoGateway = errors.New("portmap: no gateway answered")
