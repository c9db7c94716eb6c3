package engine

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/engine/portmap"
)

// Explicit reachability test (overlay.DialBack): the engine asks a
// supernode to dial it back on its external address (the router's mapped
// port, else the listen port) and believes it reachable only when that
// probe comes in. It tests once the port mapping has settled, again when
// the mapping changes, every recheckEvery, and when the user asks
// (TestReachability). With no supernode to ask it keeps looking, says so
// in the status and logs it.

// Dial-back pacing.
var (
	recheckEvery    = 30 * time.Minute
	lookEvery       = 5 * time.Second  // while no helper is known: cheap, nothing is dialled
	retryFirst      = 15 * time.Second // helpers known but none answered
	retryMax        = 5 * time.Minute
	lookLogEvery    = 5 * time.Minute
	settleMax       = 20 * time.Second // longest wait for the port mapping's first answer
	maxHelpersAsked = 4
)

// reachState is the latest dial-back verdict, guarded by mu.
type reachState struct {
	kick chan struct{}

	mu sync.Mutex
	v  reachVerdict
}

// reachVerdict is what the tests found so far.
type reachVerdict struct {
	answered bool // a helper answered a test
	reached  bool
	helper   string
	target   string
	reason   string
	method   string // the port mapping when tested
	looking  bool   // the last round found no helper that answered
	testing  bool
}

// TestReachability asks for a new dial-back test now (the Settings "Test
// again" button); the result shows in the next Snapshot.
func (e *Engine) TestReachability() {
	select {
	case e.reach.kick <- struct{}{}:
	default:
	}
}

// CheckReachability runs a dial-back test now, waits for it (ctx bounds
// the wait) and returns the network status it leaves: what `shoal status
// --check-reach` prints. With no supernode to ask, the status says the
// node is still looking.
func (e *Engine) CheckReachability(ctx context.Context) NetStatus {
	e.testReach(ctx)
	return e.Snapshot().Net
}

// newDialBack makes the node's dial-back client and service.
func (e *Engine) newDialBack() *overlay.DialBack {
	e.reach.kick = make(chan struct{}, 1)
	return overlay.NewDialBack(overlay.DialBackConfig{Dial: e.policy.Dial, Logger: e.log.With("part", "dialback")})
}

// reachLoop tests reachability until ctx ends.
func (e *Engine) reachLoop(ctx context.Context) error {
	if e.cfg.LoopbackOnly {
		return e.reachOnDemand(ctx) // everyone reaches everyone: test only when asked
	}
	e.waitMapping(ctx)
	retry, lastLog := retryFirst, time.Time{}
	for ctx.Err() == nil {
		next := recheckEvery
		switch n := e.testReach(ctx); {
		case n == 0:
			next = lookEvery
			if time.Since(lastLog) >= lookLogEvery {
				e.log.Info("reachability: no supernode to test with yet; looking again", "every", lookEvery)
				lastLog = time.Now()
			}
		case !e.reachAnswered():
			next, retry = retry, min(retry*2, retryMax)
			e.log.Info("reachability: no supernode answered the test; trying again", "asked", n, "in", next)
		default:
			retry = retryFirst
		}
		select {
		case <-ctx.Done():
		case <-e.reach.kick:
		case <-time.After(next):
		}
	}
	return nil
}

// reachOnDemand runs a test each time TestReachability is called.
func (e *Engine) reachOnDemand(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.reach.kick:
			e.testReach(ctx)
		}
	}
}

// waitMapping waits for the port mapping's first answer (bounded).
func (e *Engine) waitMapping(ctx context.Context) {
	deadline := time.Now().Add(settleMax)
	for st, on := e.mapStatus(); on && st.Trying && time.Now().Before(deadline); st, on = e.mapStatus() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (e *Engine) reachAnswered() bool {
	v := e.verdict()
	return v.answered && !v.looking
}

// testReach asks helpers in turn until one answers, records the verdict,
// and returns how many helpers it asked.
func (e *Engine) testReach(ctx context.Context) int {
	helpers := e.dialBackHelpers(ctx)
	e.setReach(func(v *reachVerdict) { v.testing = len(helpers) > 0 })
	defer e.setReach(func(v *reachVerdict) { v.testing = false })
	port := e.announcePort()
	st, _ := e.mapStatus()
	method := st.Method
	for i, h := range helpers {
		res, err := e.dialback.Ask(ctx, h, port)
		if err != nil {
			e.log.Info("reachability: supernode did not test us", "supernode", h, "err", err)
			continue
		}
		e.log.Info("reachability tested", "reachable", res.Reached, "supernode", h, "dialled", res.Target, "reason", res.Reason)
		e.setReach(func(v *reachVerdict) {
			*v = reachVerdict{answered: true, reached: res.Reached, helper: h,
				target: res.Target, reason: res.Reason, method: method, testing: v.testing}
		})
		return i + 1
	}
	e.setReach(func(v *reachVerdict) { v.looking = true })
	return len(helpers)
}

func (e *Engine) setReach(f func(*reachVerdict)) {
	e.reach.mu.Lock()
	f(&e.reach.v)
	e.reach.mu.Unlock()
	e.announceChange()
}

func (e *Engine) verdict() reachVerdict {
	e.reach.mu.Lock()
	defer e.reach.mu.Unlock()
	return e.reach.v
}

// dialBackHelpers lists supernodes to ask, best first: the ones our leaf
// is linked to, our supernode neighbours, then the cached ones; never
// ourselves. Only IPv4 ones: the test is of the IPv4 port the router maps
// (over IPv6 a helper would dial our IPv6 address with that port).
func (e *Engine) dialBackHelpers(ctx context.Context) []string {
	self := map[string]bool{e.advertised(): true}
	if st, _ := e.mapStatus(); st.External.IsValid() {
		self[st.External.String()] = true
	}
	var out []string
	add := func(addrs []string) {
		for _, a := range addrs {
			if !self[a] && len(out) < maxHelpersAsked && isIPv4HostPort(a) && e.policy.CheckHostPort(a) == nil {
				self[a] = true
				out = append(out, a)
			}
		}
	}
	add(e.leaf.Supernodes())
	if e.sn != nil {
		add(e.sn.Neighbours())
	}
	if cached, err := e.db.Supernodes(ctx, 16); err == nil {
		add(cached)
	}
	return out
}

// dialBackVerdict returns the last test's answer, if any: state, how it
// was learned (for people), and the external address it proved.
func (e *Engine) dialBackVerdict() (state, how, ext string, ok bool) {
	r := e.verdict()
	if !r.answered {
		return "", "", "", false
	}
	if r.reached {
		return reachableYes, fmt.Sprintf("%s + dial-back by supernode %s reached %s", mappingWords(r.method), r.helper, r.target), r.target, true
	}
	return reachableNo, fmt.Sprintf("%s; dial-back by supernode %s to %s failed: %s", mappingWords(r.method), r.helper, r.target, r.reason), "", true
}

// reachNotes are the test's progress words added to the status.
func (e *Engine) reachNotes() (testing, looking bool) {
	v := e.verdict()
	return v.testing, v.looking
}

func mappingWords(method string) string {
	switch method {
	case portmap.MethodUPnP:
		return "upnp mapping"
	case portmap.MethodNATPMP:
		return "natpmp mapping"
	case portmap.MethodPCP:
		return "pcp mapping"
	}
	return "no port mapping"
}

// isIPv4HostPort reports whether a is an IPv4 literal with a port.
func isIPv4HostPort(a string) bool {
	ap, err := netip.ParseAddrPort(a)
	return err == nil && ap.Addr().Unmap().Is4()
}
