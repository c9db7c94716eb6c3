package netlab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/lossylink"
)

// Lossy is a lab of two hosts joined through a lossylink router: host A
// (198.18.1.10) and host B (198.18.2.10) each hang off router "r" by a
// veth pair, and r sends everything between them through two TUN
// devices that this process's lossylink.Link forwards between, adding
// delay, loss and a rate cap. Use it for a distant, lossy link; the
// link's shape can change between runs with Link.SetConfig.
type Lossy struct {
	*Lab
	// A and B are the two hosts, on either side of the link.
	A, B *Node
	// Link is the forwarder; its Stats count what it did.
	Link *lossylink.Link
}

// The lossy lab's plan: host A on 198.18.1.0/24, host B on 198.18.2.0/24.
const (
	lossyTunA = "lla" // r's device towards A: packets routed in from B leave here
	lossyTunB = "llb"
)

// NewLossy builds a lossy lab for t with the link shaped by cfg, or skips
// t (fails it under SHOAL_REQUIRE_NETLAB=1) when the machine cannot.
func NewLossy(t testing.TB, cfg lossylink.Config) *Lossy {
	t.Helper()
	if err := lossyAvailable(); err != nil {
		skipOrFail(t, err)
	}
	l := newLab(t)
	start := time.Now()
	lossy, err := l.buildLossy(cfg)
	if err != nil {
		t.Fatalf("netlab: lossy link: %v", err)
	}
	t.Logf("netlab: lossy %s built in %v (%+v)", strings.TrimSuffix(l.prefix, "-"), time.Since(start).Round(time.Millisecond), cfg)
	return lossy
}

func lossyAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("ip not found (install iproute2): %w", err)
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("no TUN device (modprobe tun): %w", err)
	}
	return nil
}

func (l *Lab) buildLossy(cfg lossylink.Config) (*Lossy, error) {
	r, err := l.addNS("r")
	if err != nil {
		return nil, err
	}
	r.Addr = netip.MustParseAddr("198.18.1.1")
	r.LAN = netip.MustParseAddr("198.18.2.1")
	hosts := []struct{ name, port, addr, gw string }{
		{"a", "ra", "198.18.1.10/24", "198.18.1.1/24"},
		{"b", "rb", "198.18.2.10/24", "198.18.2.1/24"},
	}
	for _, h := range hosts {
		n, err := l.addNS(h.name)
		if err != nil {
			return nil, err
		}
		n.Addr = netip.MustParsePrefix(h.addr).Addr()
		n.Gateway = netip.MustParsePrefix(h.gw).Addr()
		err = steps(r.NS,
			fmt.Sprintf("link add %s type veth peer name eth0 netns %s", h.port, n.NS),
			"addr add "+h.gw+" dev "+h.port,
			"link set "+h.port+" up")
		if err != nil {
			return nil, err
		}
		if err := steps(n.NS, "addr add "+h.addr+" dev eth0", "link set eth0 up", "route add default via "+n.Gateway.String()); err != nil {
			return nil, err
		}
	}
	link, err := l.startLink(r, cfg)
	if err != nil {
		return nil, err
	}
	return &Lossy{Lab: l, A: l.nodes["a"], B: l.nodes["b"], Link: link}, nil
}

// startLink creates r's two TUN devices, routes A↔B traffic through them
// and starts the forwarder, stopped when the test ends (before teardown).
//
// A packet from A arrives on ra; the rule for iif ra sends it out lla,
// where the forwarder reads it and, shaped, writes it into llb: the kernel
// takes it as arriving on llb and routes it by the main table out rb to
// B. The reverse way mirrors it. Reverse-path filtering is off in r, since
// packets arrive on a device that is not the route back to their source.
func (l *Lab) startLink(r *Node, cfg lossylink.Config) (*lossylink.Link, error) {
	ta, err := lossylink.OpenTUN(r.NS, lossyTunA)
	if err != nil {
		return nil, err
	}
	tb, err := lossylink.OpenTUN(r.NS, lossyTunB)
	if err != nil {
		ta.Close()
		return nil, err
	}
	closeBoth := func() { ta.Close(); tb.Close() }
	err = steps(r.NS,
		"link set "+lossyTunA+" up", "link set "+lossyTunB+" up",
		"rule add iif ra lookup 101 pref 100", "route add default dev "+lossyTunA+" table 101",
		"rule add iif rb lookup 102 pref 101", "route add default dev "+lossyTunB+" table 102")
	if err == nil {
		err = sysctls(r.NS, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
			"net.ipv4.conf."+lossyTunA+".rp_filter=0", "net.ipv4.conf."+lossyTunB+".rp_filter=0")
	}
	if err != nil {
		closeBoth()
		return nil, err
	}
	link, err := lossylink.New(ta, tb, cfg)
	if err != nil {
		closeBoth()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- link.Run(ctx) }()
	l.t.Cleanup(func() {
		cancel()
		closeBoth()
		<-done
	})
	return link, nil
}

func sysctls(ns string, settings ...string) error {
	for _, s := range settings {
		if err := run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", s); err != nil {
			return err
		}
	}
	return nil
}
