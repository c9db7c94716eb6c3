package portmap

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// routerDouble is a router's mapping table behind the mapper interface,
// for the stop-while-busy cases the lab's miniupnpd cannot be made to
// hit on cue. Once block is set, the next add blocks until its context
// ends and then makes the mapping anyway, as a request already on the
// wire does, and returns the context's error as the mapper sees it.
type routerDouble struct {
	mu      sync.Mutex
	maps    map[string]int // proto → external port
	block   bool
	blocked chan struct{} // closed when an add is blocked
}

func (r *routerDouble) method() string { return MethodUPnP }

func (r *routerDouble) externalIP(context.Context) (netip.Addr, error) {
	return netip.MustParseAddr("203.0.113.11"), nil
}

func (r *routerDouble) add(ctx context.Context, proto string, port int, _ time.Duration) (int, time.Duration, error) {
	r.mu.Lock()
	block := r.block
	r.block = false
	r.mu.Unlock()
	if block {
		close(r.blocked)
		<-ctx.Done()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.maps[proto] = port
	return port, 0, ctx.Err()
}

func (r *routerDouble) remove(_ context.Context, proto string, _ int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.maps, proto)
	return nil
}

func (r *routerDouble) left() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.maps {
		out[k] = v
	}
	return out
}

// TestStopDuringRequestRemovesMapping: a mapper stopped while a renewal
// (or the first mapping) is on its way to the router removes what that
// request made. Before, a renewal cut short by the stop dropped its lease
// from the list Run removes, and the router kept the mapping.
func TestStopDuringRequestRemovesMapping(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first bool // block the first mapping's UDP add, not a renewal
	}{{"renewal", false}, {"first mapping", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := &routerDouble{maps: map[string]int{}, blocked: make(chan struct{})}
			m := New(Config{Port: 41000, Lease: 2 * time.Second, Timeout: 5 * time.Second})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			var active []*lease
			go func() {
				defer close(done)
				defer func() { m.removeAll(active) }()
				if tc.first {
					if l, err := m.mapAll(ctx, &udpBlocker{r}); err == nil {
						active = []*lease{l}
					}
					return
				}
				l, err := m.mapAll(ctx, r)
				if err != nil {
					t.Error(err)
					return
				}
				active = []*lease{l}
				r.mu.Lock()
				r.block = true
				r.mu.Unlock()
				active = m.refresh(ctx, active) // as Run does, then removeAll
			}()
			<-r.blocked
			cancel()
			<-done
			if left := r.left(); len(left) != 0 {
				t.Fatalf("after the stop the router still maps %v", left)
			}
		})
	}
}

// udpBlocker arms the router's block just before the UDP add, so the
// first mapping is cut short half made.
type udpBlocker struct{ *routerDouble }

func (u *udpBlocker) add(ctx context.Context, proto string, port int, lease time.Duration) (int, time.Duration, error) {
	if proto == "UDP" {
		u.mu.Lock()
		u.block = true
		u.mu.Unlock()
	}
	return u.routerDouble.add(ctx, proto, port, lease)
}
