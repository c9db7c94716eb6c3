package portmap

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/netguard"
	"github.com/shoalp2p/shoal/internal/netlab"
)

// childLine is what TestChildMapper prints, one JSON object per line.
type childLine struct {
	Method, External, Err string
	Trying                bool
	Done                  bool
	GoroutinesBefore      int
	GoroutinesAfter       int
	TotalAlloc            uint64
}

// TestChildMapper runs a Mapper inside a lab namespace (started by the lab
// tests through netlab.Node.Self) and prints its status as it changes. It
// also serves a greeting on the TCP port, so the parent can dial the
// mapping. SIGTERM ends it: the mappings are removed and the goroutine
// and allocation figures printed.
func TestChildMapper(t *testing.T) {
	if !netlab.IsChild() {
		t.Skip("runs inside a lab namespace, started by the lab tests")
	}
	port, _ := strconv.Atoi(os.Getenv("PORTMAP_PORT"))
	lease, _ := time.ParseDuration(os.Getenv("PORTMAP_LEASE"))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	go greet(ln)
	runtime.GC()
	g0 := runtime.NumGoroutine()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	out := json.NewEncoder(os.Stdout)
	var m *Mapper
	var methods []string
	if v := os.Getenv("PORTMAP_METHODS"); v != "" {
		methods = strings.Split(v, ",")
	}
	m = New(Config{Port: port, Lease: lease, Methods: methods, Policy: netguard.Policy{Allow: netlab.Ranges}, OnChange: func() {
		s := m.Status()
		out.Encode(childLine{Method: s.Method, External: s.External.String(), Err: s.Err, Trying: s.Trying})
	}})
	m.Run(ctx)
	var g1 int
	for i := 0; i < 100; i++ { // let finished goroutines exit
		if g1 = runtime.NumGoroutine(); g1 <= g0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	if g1 > g0 {
		buf := make([]byte, 1<<20)
		os.Stderr.Write(buf[:runtime.Stack(buf, true)])
	}
	out.Encode(childLine{Done: true, GoroutinesBefore: g0, GoroutinesAfter: g1, TotalAlloc: m1.TotalAlloc - m0.TotalAlloc})
	ln.Close()
}

func greet(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("shoal\n"))
		c.Close()
	}
}

// child is a TestChildMapper process and its status lines.
type child struct {
	cmd   *exec.Cmd
	lines chan childLine
}

func startChild(t *testing.T, n *netlab.Node, port int, lease time.Duration, methods ...string) *child {
	t.Helper()
	cmd := n.Self("TestChildMapper", "PORTMAP_PORT="+strconv.Itoa(port), "PORTMAP_LEASE="+lease.String(), "PORTMAP_METHODS="+strings.Join(methods, ","))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := &child{cmd: cmd, lines: make(chan childLine, 100)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l childLine
			if strings.HasPrefix(sc.Text(), "{") && json.Unmarshal(sc.Bytes(), &l) == nil {
				c.lines <- l
			}
		}
	}()
	return c
}

// next waits for the next status line that ok accepts.
func (c *child) next(t *testing.T, d time.Duration, ok func(childLine) bool) childLine {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, open := <-c.lines:
			if !open {
				t.Fatalf("mapper child exited")
			}
			if ok(l) {
				return l
			}
		case <-timeout:
			t.Fatalf("no wanted status from the mapper child within %v", d)
		}
	}
}

// stop sends SIGTERM and returns the final line.
func (c *child) stop(t *testing.T) childLine {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	return c.next(t, 20*time.Second, func(l childLine) bool { return l.Done })
}

func settled(l childLine) bool { return !l.Trying && (l.Method != MethodNone || l.Err != "") }

// mapped counts r's forwardings of port (TCP and UDP).
func mapped(t *testing.T, r *netlab.Node, port int) int {
	t.Helper()
	rules, err := r.Mappings()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rule := range rules {
		if strings.Contains(rule, "--dport "+strconv.Itoa(port)+" ") {
			n++
		}
	}
	return n
}

// dialGreeting connects from n to addr and reads the child's greeting.
func dialGreeting(n *netlab.Node, addr netip.AddrPort) (string, error) {
	return n.Run("timeout", "5", "bash", "-c",
		"exec 3<>/dev/tcp/"+addr.Addr().String()+"/"+strconv.Itoa(int(addr.Port()))+"; head -1 <&3")
}

// TestLabUPnP: behind r1 (UPnP and NAT-PMP), the mapper maps TCP and UDP
// through UPnP, learns r1's public address, a public host reaches the
// port through it, a restarted router gets the mapping back within one
// renewal interval, and a clean exit removes it.
func TestLabUPnP(t *testing.T) {
	lab := netlab.New(t, netlab.Options{})
	r1 := lab.Router("r1")
	const port = 41000
	lease := 6 * time.Second
	c := startChild(t, lab.Host("h1"), port, lease)
	l := c.next(t, 20*time.Second, settled)
	if l.Method != MethodUPnP || l.External != "203.0.113.11:41000" {
		t.Fatalf("status %+v, want upnp 203.0.113.11:41000", l)
	}
	if n := mapped(t, r1, port); n != 2 {
		t.Fatalf("r1 has %d forwardings of %d, want TCP and UDP", n, port)
	}
	ext := netip.MustParseAddrPort(l.External)
	if got, err := dialGreeting(lab.Host("s1"), ext); err != nil || strings.TrimSpace(got) != "shoal" {
		t.Fatalf("s1 dialling %s: %q %v", ext, got, err)
	}
	if err := r1.RestartUPnP(); err != nil {
		t.Fatal(err)
	}
	if n := mapped(t, r1, port); n != 0 {
		t.Fatalf("restart kept %d forwardings", n)
	}
	lost := time.Now()
	for mapped(t, r1, port) != 2 {
		if time.Since(lost) > lease/2+3*time.Second {
			t.Fatalf("mapping not re-made within one renewal interval (%v) after the router lost it", lease/2)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("mapping re-made %v after the router restarted (renewal interval %v)", time.Since(lost).Round(10*time.Millisecond), lease/2)
	c.stop(t)
	if n := mapped(t, r1, port); n != 0 {
		t.Fatalf("%d forwardings left after a clean exit", n)
	}
}

// TestLabNATPMP: with UPnP off on r1, the mapping is made by NAT-PMP.
func TestLabNATPMP(t *testing.T) {
	lab := netlab.New(t, netlab.Options{NATPMPOnly: true})
	c := startChild(t, lab.Host("h1"), 41001, time.Minute)
	l := c.next(t, 20*time.Second, settled)
	if l.Method != MethodNATPMP || l.External != "203.0.113.11:41001" {
		t.Fatalf("status %+v, want natpmp 203.0.113.11:41001", l)
	}
	if got, err := dialGreeting(lab.Host("s1"), netip.MustParseAddrPort(l.External)); err != nil || strings.TrimSpace(got) != "shoal" {
		t.Fatalf("s1 dialling %s: %q %v", l.External, got, err)
	}
	c.stop(t)
	if n := mapped(t, lab.Router("r1"), 41001); n != 0 {
		t.Fatalf("%d forwardings left after a clean exit", n)
	}
}

// TestLabPCP: r1's miniupnpd also speaks PCP (RFC 6887) on the NAT-PMP
// port; with only PCP allowed, the mapper maps TCP and UDP by PCP MAP,
// learns r1's public address from the answer, a public host reaches the
// port, a restarted router gets the mapping back within one renewal
// interval, and a clean exit removes it (lifetime 0).
func TestLabPCP(t *testing.T) {
	lab := netlab.New(t, netlab.Options{NATPMPOnly: true})
	r1 := lab.Router("r1")
	const port = 41004
	lease := 6 * time.Second
	c := startChild(t, lab.Host("h1"), port, lease, MethodPCP)
	l := c.next(t, 20*time.Second, settled)
	if l.Method != MethodPCP || l.External != "203.0.113.11:41004" {
		t.Fatalf("status %+v, want pcp 203.0.113.11:41004", l)
	}
	if n := mapped(t, r1, port); n != 2 {
		t.Fatalf("r1 has %d forwardings of %d, want TCP and UDP", n, port)
	}
	if got, err := dialGreeting(lab.Host("s1"), netip.MustParseAddrPort(l.External)); err != nil || strings.TrimSpace(got) != "shoal" {
		t.Fatalf("s1 dialling %s: %q %v", l.External, got, err)
	}
	if err := r1.RestartUPnP(); err != nil {
		t.Fatal(err)
	}
	lost := time.Now()
	for mapped(t, r1, port) != 2 {
		if time.Since(lost) > lease/2+3*time.Second {
			t.Fatalf("PCP mapping not re-made within one renewal interval (%v) after the router lost it", lease/2)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.stop(t)
	if n := mapped(t, r1, port); n != 0 {
		t.Fatalf("%d forwardings left after a clean exit", n)
	}
}

// TestLabDoubleNATPCP: PCP alone behind r3 (carrier-grade NAT): r3's
// miniupnpd answers PCP but cannot add the mapping, and the status names
// the refusal in words for people.
func TestLabDoubleNATPCP(t *testing.T) {
	lab := netlab.New(t, netlab.Options{})
	c := startChild(t, lab.Host("h3"), 41005, time.Minute, MethodPCP)
	l := c.next(t, 30*time.Second, settled)
	if l.Method != MethodNone || !strings.HasPrefix(l.Err, "Your router refused to open a port (PCP said: ") {
		t.Fatalf("status %+v, want a PCP refusal", l)
	}
	t.Logf("double NAT, PCP only: %s", l.Err)
}

// TestLabDoubleNAT: behind r3, whose WAN is in the carrier-grade NAT
// range, both protocols fail, and the status says why in words for people.
func TestLabDoubleNAT(t *testing.T) {
	lab := netlab.New(t, netlab.Options{})
	c := startChild(t, lab.Host("h3"), 41002, time.Minute)
	l := c.next(t, 30*time.Second, settled)
	if l.Method != MethodNone || !strings.HasPrefix(l.Err, "Your router refused to open a port") || !strings.Contains(l.Err, "carrier-grade NAT") {
		t.Fatalf("status %+v, want a refusal naming carrier-grade NAT", l)
	}
	t.Logf("double NAT: %s", l.Err)
}

// TestLabStrictNAT: r2 speaks neither protocol; the status says so.
func TestLabStrictNAT(t *testing.T) {
	lab := netlab.New(t, netlab.Options{})
	c := startChild(t, lab.Host("h2"), 41003, time.Minute)
	l := c.next(t, 30*time.Second, settled)
	if l.Method != MethodNone || !strings.HasPrefix(l.Err, "No router answered UPnP or NAT-PMP") {
		t.Fatalf("status %+v, want no router answering", l)
	}
}
