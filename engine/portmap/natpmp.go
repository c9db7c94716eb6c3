package portmap

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	natpmp "github.com/jackpal/go-nat-pmp"
)

// natpmpCallTimeout bounds one NAT-PMP exchange (with the library's
// retries): a gateway on the LAN answers in milliseconds.
const natpmpCallTimeout = 2 * time.Second

type natpmpMapper struct {
	gw netip.Addr
	c  *natpmp.Client
}

// discoverNATPMP finds the default gateway and checks that it speaks
// NAT-PMP by asking for its external address.
func (m *Mapper) discoverNATPMP(ctx context.Context) (mapper, error) {
	gw, err := m.gateway("NAT-PMP")
	if err != nil {
		return nil, err
	}
	return &natpmpMapper{gw: gw, c: natpmp.NewClientWithTimeout(gw.AsSlice(), natpmpCallTimeout)}, nil
}

func (n *natpmpMapper) method() string { return MethodNATPMP }

// call runs fn, which is bounded by natpmpCallTimeout, without making
// the caller wait past ctx.
func call[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		v, err := fn()
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (n *natpmpMapper) externalIP(ctx context.Context) (netip.Addr, error) {
	r, err := call(ctx, n.c.GetExternalAddress)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("portmap: NAT-PMP at %s: %w", n.gw, err)
	}
	return netip.AddrFrom4(r.ExternalIPAddress), nil
}

func (n *natpmpMapper) add(ctx context.Context, proto string, port int, lease time.Duration) (int, time.Duration, error) {
	r, err := call(ctx, func() (*natpmp.AddPortMappingResult, error) {
		return n.c.AddPortMapping(strings.ToLower(proto), port, port, int(lease/time.Second))
	})
	if err != nil {
		return 0, 0, fmt.Errorf("portmap: NAT-PMP at %s: %w", n.gw, err)
	}
	return int(r.MappedExternalPort), time.Duration(r.PortMappingLifetimeInSeconds) * time.Second, nil
}

func (n *natpmpMapper) remove(ctx context.Context, proto string, ext int) error {
	// RFC 6886 §3.4: lifetime 0 deletes; the internal port names the mapping.
	_, err := call(ctx, func() (*natpmp.AddPortMappingResult, error) {
		return n.c.AddPortMapping(strings.ToLower(proto), ext, 0, 0)
	})
	return err
}

// gateway is the router that NAT-PMP and PCP (proto, as errors name it)
// talk to: Config.Gateway, else the default route's, if the policy lets
// us reach it.
func (m *Mapper) gateway(proto string) (netip.Addr, error) {
	gw := m.cfg.Gateway
	if !gw.IsValid() {
		var err error
		if gw, err = defaultGateway(); err != nil {
			return gw, fmt.Errorf("portmap: %s: %w", proto, err)
		}
	}
	if err := m.cfg.Policy.CheckIP(gw.AsSlice()); err != nil {
		return gw, fmt.Errorf("portmap: %s gateway: %w", proto, err)
	}
	return gw, nil
}

// defaultGateway reads the IPv4 default route's gateway from the kernel.
func defaultGateway() (netip.Addr, error) {
	b, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return netip.Addr{}, fmt.Errorf("no default gateway known: %w", err)
	}
	return parseRoutes(b)
}
