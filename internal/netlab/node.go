package netlab

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
)

// Node is one namespace of the lab: a host, a router or the public bridge.
type Node struct {
	lab *Lab
	// Name is the lab's name for it (h1, r1, s1, pub).
	Name string
	// NS is the network namespace's name on this machine.
	NS string
	// Addr is the node's own address: a host's only address, a router's
	// WAN address.
	Addr netip.Addr
	// LAN is a router's LAN address (invalid for hosts).
	LAN netip.Addr
	// Gateway is where the node's default route points.
	Gateway netip.Addr

	upnp *upnpd // the router's miniupnpd, if it runs one
}

// Command returns an unstarted command that runs name in the node's
// namespace (through `ip netns exec`). The lab kills whatever is still
// running in its namespaces at teardown.
func (n *Node) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.NS, name}, args...)...)
}

// Start runs name in the node's namespace in the background, its output
// going to a log file in the lab folder (printed when the test fails). The
// process is killed at teardown.
func (n *Node) Start(name string, args ...string) (*exec.Cmd, error) {
	c := n.Command(name, args...)
	log, err := n.lab.logFile(n.Name + "-" + filepath.Base(name))
	if err != nil {
		return nil, err
	}
	c.Stdout, c.Stderr = log, log
	err = n.lab.StartCmd(c)
	log.Close() // the child has its own copy
	return c, err
}

// StartCmd starts c (made by Command) and kills it at teardown.
func (l *Lab) StartCmd(c *exec.Cmd) error {
	if err := c.Start(); err != nil {
		return fmt.Errorf("netlab: start %v: %w", c.Args, err)
	}
	l.track(c)
	return nil
}

// logFile creates a fresh log file named for what writes it.
func (l *Lab) logFile(base string) (*os.File, error) {
	l.mu.Lock()
	path := filepath.Join(l.Dir, fmt.Sprintf("%s.%d.log", base, len(l.logs)))
	l.logs = append(l.logs, path)
	l.mu.Unlock()
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("netlab: %w", err)
	}
	return f, nil
}

// Run runs name in the namespace and returns its combined output.
func (n *Node) Run(name string, args ...string) (string, error) {
	out, err := n.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("netlab: %s: %s %v: %w: %s", n.Name, name, args, err, out)
	}
	return string(out), nil
}

// ChildEnv is set in the environment of a test binary that Self re-runs
// inside a namespace; a child test skips unless it is set.
const ChildEnv = "NETLAB_CHILD"

// Self returns an unstarted command that runs this test binary's test
// named test (exactly) inside the node's namespace, with ChildEnv=1 and
// env added: how a test runs Go code, such as an engine part, behind a
// lab router.
func (n *Node) Self(test string, env ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	c := n.Command(exe, "-test.run=^"+test+"$", "-test.v", "-test.count=1", "-test.timeout=5m")
	c.Env = append(append(os.Environ(), ChildEnv+"=1"), env...)
	return c
}

// IsChild reports whether this process is a test binary run by Self.
func IsChild() bool { return os.Getenv(ChildEnv) == "1" }
