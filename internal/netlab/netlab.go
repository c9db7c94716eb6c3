package netlab

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Ranges are the only address ranges a lab uses: the public segment, the
// home LANs and the carrier-grade NAT segment. Engines in lab tests are
// confined to them.
var Ranges = []netip.Prefix{
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"), // Options.Transit's second public segment
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

// RangesFlag is Ranges as one comma-separated value for --allow-net.
func RangesFlag() string {
	var s []string
	for _, p := range Ranges {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

// Options shape a lab. The zero value builds the full topology.
type Options struct {
	// PublicHosts is how many hosts (s1, s2, ...) sit on the public
	// segment, from 203.0.113.50 up; 0 means one.
	PublicHosts int
	// NATPMPOnly makes r1's miniupnpd serve NAT-PMP only (enable_upnp=no).
	NATPMPOnly bool
	// SecondStrict adds r5, a second strict NAT (203.0.113.15, LAN
	// 198.18.5.0/24, no UPnP) with host h5: two peers behind strict NATs
	// for hole punching (BEP 55).
	SecondStrict bool
	// Stealth makes the strict routers (r2, r5) drop unsolicited packets
	// to their WAN address instead of answering them (TCP RST, ICMP port
	// unreachable), as most home routers do.
	Stealth bool
	// Reject makes the strict routers refuse unsolicited packets to their
	// WAN address in their firewall (iptables REJECT: TCP RST, ICMP port
	// unreachable), as OpenWrt's default WAN zone does. Without Stealth or
	// Reject the routers' own stack answers them, with the same packets
	// but a connection-tracking entry left behind (see the package doc).
	Reject bool
	// Prohibit makes the strict routers refuse unsolicited packets to
	// their WAN address with ICMP host prohibited, TCP and UDP alike, as
	// firewalld's default zone does; a TCP dial then fails with
	// EHOSTUNREACH instead of ECONNREFUSED. It takes the place of Reject.
	Prohibit bool
	// Transit puts r5 (with SecondStrict) on a second public segment,
	// 198.51.100.0/24, that pub routes to: one router hop between r5 and
	// the other routers, as the Internet always has between two homes.
	// A packet with a TTL of 2 from a host behind r2 or r5 then passes
	// its own router and expires before the other.
	Transit bool
}

// Lab is one built lab Internet. Its namespaces and processes live until
// the test that made it ends.
type Lab struct {
	t      testing.TB
	prefix string
	// Dir holds the lab's files: miniupnpd configs, leases and logs.
	Dir string

	nodes   map[string]*Node
	order   []string // namespaces in creation order, for teardown
	mu      sync.Mutex
	procs   []*exec.Cmd
	logs    []string
	patched string // r1's private miniupnpd copy
}

var labCount atomic.Int64

// prefixTag starts every lab namespace name; the owner's pid follows it.
const prefixTag = "nl"

// New builds a lab for t, or skips t (fails it under SHOAL_REQUIRE_NETLAB=1)
// when the machine cannot run one. Teardown is registered with t.Cleanup
// before anything is created.
func New(t testing.TB, opts Options) *Lab {
	t.Helper()
	if err := Available(); err != nil {
		skipOrFail(t, err)
	}
	if opts.PublicHosts <= 0 {
		opts.PublicHosts = 1
	}
	l := newLab(t)
	start := time.Now()
	if err := l.build(opts); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	t.Logf("netlab: %s built in %v", strings.TrimSuffix(l.prefix, "-"), time.Since(start).Round(time.Millisecond))
	return l
}

// RequireEnv names the environment variable that turns a missing
// prerequisite into a failure.
const RequireEnv = "SHOAL_REQUIRE_NETLAB"

// newLab sweeps namespaces left by dead labs and returns an empty lab for t
// with a name prefix of its own, torn down when t ends.
func newLab(t testing.TB) *Lab {
	sweepStale()
	l := &Lab{
		t:      t,
		prefix: fmt.Sprintf("%s%dx%d-", prefixTag, os.Getpid(), labCount.Add(1)),
		Dir:    t.TempDir(),
		nodes:  map[string]*Node{},
	}
	t.Cleanup(l.teardown)
	return l
}

// skipOrFail skips t for err, or fails it when RequireEnv is set to 1.
func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("netlab: %v (%s=1)", err, RequireEnv)
	}
	t.Skipf("netlab: %v", err)
}

// Available reports why this machine cannot build a lab, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root to create network namespaces")
	}
	for _, bin := range []string{"ip", "iptables-legacy", "iptables-legacy-restore", "miniupnpd"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found (install iproute2, iptables, miniupnpd-iptables): %w", bin, err)
		}
	}
	return nil
}

// Node returns the namespace called name: a host (h1, h2, h3, s1, ...),
// a router (r1..r4) or the public bridge "pub". It fails the test for an
// unknown name.
func (l *Lab) Node(name string) *Node {
	l.t.Helper()
	n := l.nodes[name]
	if n == nil {
		l.t.Fatalf("netlab: no node %q", name)
	}
	return n
}

// Host is Node, named for what tests mostly want.
func (l *Lab) Host(name string) *Node { return l.Node(name) }

// Router returns router name (r1..r4).
func (l *Lab) Router(name string) *Node { return l.Node(name) }

// run runs one setup command and returns its output in the error.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// track registers a started process for teardown.
func (l *Lab) track(c *exec.Cmd) {
	l.mu.Lock()
	l.procs = append(l.procs, c)
	l.mu.Unlock()
}

// teardown kills every process the lab started and every other process
// left in its namespaces, then deletes the namespaces.
func (l *Lab) teardown() {
	l.mu.Lock()
	procs := l.procs
	l.procs = nil
	l.mu.Unlock()
	for _, c := range procs {
		if c.Process != nil {
			c.Process.Kill()
		}
	}
	for _, c := range procs {
		if c.Process != nil {
			waitTimeout(c, 5*time.Second)
		}
	}
	if l.t.Failed() {
		l.dumpLogs()
	}
	for i := len(l.order) - 1; i >= 0; i-- {
		if err := deleteNS(l.order[i]); err != nil {
			l.t.Errorf("netlab teardown: %v", err)
		}
	}
}

// waitTimeout waits for a killed process, without hanging teardown on one
// stuck in the kernel.
func waitTimeout(c *exec.Cmd, d time.Duration) {
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func (l *Lab) dumpLogs() {
	l.mu.Lock()
	logs := append([]string(nil), l.logs...)
	l.mu.Unlock()
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		l.t.Logf("netlab: tail of %s:\n%s", filepath.Base(p), b)
	}
}

// deleteNS kills whatever still runs in namespace ns and deletes it.
func deleteNS(ns string) error {
	for attempt := 0; attempt < 20; attempt++ {
		out, err := exec.Command("ip", "netns", "pids", ns).Output()
		if err != nil {
			break // gone already, or never made
		}
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil && pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := run("ip", "netns", "del", ns); err != nil && nsExists(ns) {
		return err
	}
	return nil
}

func nsExists(ns string) bool {
	_, err := os.Stat(filepath.Join("/run/netns", ns))
	return err == nil
}

// sweepStale deletes namespaces left by lab owners that no longer run
// (a test binary killed by its timeout never runs its cleanups).
func sweepStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], prefixTag) {
			continue
		}
		rest := strings.TrimPrefix(f[0], prefixTag)
		pidStr, _, ok := strings.Cut(rest, "x")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			deleteNS(f[0])
		}
	}
}
