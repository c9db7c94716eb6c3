package engine

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

// openRunning opens an engine on cfg and runs it until the test ends or
// the returned stop is called.
func openRunning(t *testing.T, cfg Config) (*Engine, func()) {
	t.Helper()
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	stop := func() { cancel(); <-e.Stopped() }
	t.Cleanup(stop)
	return e, stop
}

// freePort returns a TCP port free on 127.0.0.1 just now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestListenPortRandomAndKept: the first start picks a random port in the
// documented range and keeps it; a port set in Settings is checked, shown
// at once and used from the next start; Config.Listen overrides it.
func TestListenPortRandomAndKept(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, LoopbackOnly: true}
	e, stop := openRunning(t, cfg)
	first := e.Settings().ListenPort
	if first < randomPortMin || first >= randomPortMax || e.port != first {
		t.Fatalf("first start: setting %d, listening on %d; want one random port in [%d, %d)", first, e.port, randomPortMin, randomPortMax)
	}
	stop()
	e, stop = openRunning(t, cfg)
	if e.port != first || e.Settings().ListenPort != first {
		t.Fatalf("second start listens on %d (setting %d), want the kept %d", e.port, e.Settings().ListenPort, first)
	}
	s := e.Settings()
	s.ListenPort = 70000
	if err := e.SetSettings(s); !errors.Is(err, ErrBadListenPort) {
		t.Fatalf("port 70000: %v, want ErrBadListenPort", err)
	}
	next := freePort(t)
	s.ListenPort = next
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if got := e.Settings().ListenPort; got != next || e.port != first {
		t.Fatalf("after the change: setting %d, listening on %d; want %d, still %d until restart", got, e.port, next, first)
	}
	stop()
	e, stop = openRunning(t, cfg)
	if e.port != next {
		t.Fatalf("after restart: listening on %d, want %d", e.port, next)
	}
	stop()
	cfg.Listen = "127.0.0.1:0"
	if e, _ = openRunning(t, cfg); e.port == next {
		t.Fatalf("--listen 127.0.0.1:0 did not override the kept port %d", next)
	}
}

// TestPortMappingSetting: port mapping is on by default, turned off and on
// at run time by the setting, kept across restarts, and Config.PortMapping
// overrides it. The mapper finds no router: the policy allows loopback only.
func TestPortMappingSetting(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Bootstrap: []string{},
		AllowNet: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	e, stop := openRunning(t, cfg)
	s := e.Settings()
	if !s.PortMapping || e.pm.Load() == nil {
		t.Fatalf("default: setting %v, mapper %v; want on", s.PortMapping, e.pm.Load() != nil)
	}
	s.PortMapping = false
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if n := e.Snapshot().Net; e.pm.Load() != nil || n.PortMapping != "none" || n.PortMappingErr != "" {
		t.Fatalf("turned off: mapper %v, status %q %q", e.pm.Load() != nil, n.PortMapping, n.PortMappingErr)
	}
	s.PortMapping = true
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if e.pm.Load() == nil {
		t.Fatal("turned on again: no mapper")
	}
	s.PortMapping = false
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	stop()
	e, stop = openRunning(t, cfg)
	if e.Settings().PortMapping || e.pm.Load() != nil {
		t.Fatal("the off setting was not kept across a restart")
	}
	stop()
	cfg.PortMapping = PortMappingOn
	if e, _ = openRunning(t, cfg); e.pm.Load() == nil {
		t.Fatal("Config.PortMapping on did not override the saved off")
	}
}
