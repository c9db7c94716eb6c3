package netlab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// firewallRules is a router's iptables-legacy ruleset: MASQUERADE out of
// wan0, forward only LAN→WAN and replies, and (for a UPnP router) the
// chains miniupnpd fills, hooked in where Debian's iptables_init.sh puts
// them.
func firewallRules(r routerPlan) string {
	upnp := r.upnp
	var b strings.Builder
	b.WriteString("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
	if upnp {
		b.WriteString(":MINIUPNPD - [0:0]\n:MINIUPNPD-POSTROUTING - [0:0]\n")
		b.WriteString("-A PREROUTING -i wan0 -j MINIUPNPD\n-A POSTROUTING -o wan0 -j MINIUPNPD-POSTROUTING\n")
	}
	b.WriteString("-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n")
	b.WriteString("*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
	if upnp {
		b.WriteString(":MINIUPNPD - [0:0]\n-A PREROUTING -i wan0 -j MINIUPNPD\n")
	}
	b.WriteString("COMMIT\n")
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	if r.stealth {
		b.WriteString("-A INPUT -i wan0 -m conntrack --ctstate NEW,INVALID -j DROP\n")
	}
	if r.reject {
		// As OpenWrt's default WAN zone: unsolicited packets to the
		// router are refused by the firewall, not by its own stack, so
		// the refused packet's connection-tracking entry is never kept.
		b.WriteString("-A INPUT -i wan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n")
		if r.rejectWith != "" {
			b.WriteString("-A INPUT -i wan0 -j REJECT --reject-with " + r.rejectWith + "\n")
		} else {
			b.WriteString("-A INPUT -i wan0 -p tcp -j REJECT --reject-with tcp-reset\n")
			b.WriteString("-A INPUT -i wan0 -p udp -j REJECT --reject-with icmp-port-unreachable\n")
		}
	}
	if upnp {
		b.WriteString(":MINIUPNPD - [0:0]\n-A FORWARD -i wan0 ! -o wan0 -j MINIUPNPD\n")
	}
	// Hosts on one LAN talk freely: where br_netfilter is loaded, frames
	// bridged between LAN ports pass through FORWARD as lan0 to lan0.
	b.WriteString("-A FORWARD -i lan0 -o lan0 -j ACCEPT\n")
	b.WriteString("-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n")
	b.WriteString("-A FORWARD -i lan0 -o wan0 -j ACCEPT\nCOMMIT\n")
	return b.String()
}

func (l *Lab) firewall(n *Node, r routerPlan) error {
	c := exec.Command("ip", "netns", "exec", n.NS, "iptables-legacy-restore")
	c.Stdin = strings.NewReader(firewallRules(r))
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("firewall of %s: %w: %s", n.Name, err, bytes.TrimSpace(out))
	}
	return nil
}

// upnpd is a router's miniupnpd.
type upnpd struct {
	bin, conf, leases, pidFile string
	cmd                        *exec.Cmd
	log                        string
}

// miniupnpdConf is one router's miniupnpd.conf.
func miniupnpdConf(r routerPlan, leases string, natpmpOnly bool) string {
	upnp := "yes"
	if natpmpOnly {
		upnp = "no"
	}
	uuid := fmt.Sprintf("2f8a4b1e-5c3d-4e6f-8a9b-0c1d2e3f40%02d", r.name[1]-'0')
	return strings.Join([]string{
		"ext_ifname=wan0",
		"listening_ip=lan0",
		"http_port=5000",
		"enable_natpmp=yes",
		"enable_upnp=" + upnp,
		"secure_mode=yes",
		"system_uptime=yes",
		"lease_file=" + leases,
		"uuid=" + uuid,
		"allow 1024-65535 " + r.lanRange + " 1024-65535",
		"deny 0-65535 0.0.0.0/0 0-65535",
	}, "\n") + "\n"
}

func (l *Lab) startUPnP(n *Node, r routerPlan, natpmpOnly bool) error {
	bin := "/usr/sbin/miniupnpd"
	if p, err := exec.LookPath("miniupnpd"); err == nil {
		bin = p
	}
	if r.patched {
		if l.patched == "" {
			p, err := patchMiniupnpd(bin, l.Dir)
			if err != nil {
				return err
			}
			l.patched = p
		}
		bin = l.patched
	}
	u := &upnpd{
		bin:     bin,
		conf:    filepath.Join(l.Dir, r.name+"-miniupnpd.conf"),
		leases:  filepath.Join(l.Dir, r.name+"-upnp.leases"),
		pidFile: filepath.Join(l.Dir, r.name+"-miniupnpd.pid"),
	}
	if err := os.WriteFile(u.conf, []byte(miniupnpdConf(r, u.leases, natpmpOnly)), 0o644); err != nil {
		return fmt.Errorf("netlab: %w", err)
	}
	n.upnp = u
	return n.runUPnP()
}

// runUPnP starts the router's miniupnpd in the foreground and waits until
// it listens.
func (n *Node) runUPnP() error {
	u := n.upnp
	log, err := n.lab.logFile(n.Name + "-miniupnpd")
	if err != nil {
		return err
	}
	defer log.Close()
	u.log = log.Name()
	u.cmd = n.Command(u.bin, "-4", "-d", "-f", u.conf, "-P", u.pidFile)
	u.cmd.Stdout, u.cmd.Stderr = log, log
	if err := n.lab.StartCmd(u.cmd); err != nil {
		return err
	}
	return waitLog(u.log, "Listening for NAT-PMP", 5*time.Second)
}

// waitLog waits until the file at path contains want.
func waitLog(path, want string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(want)) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	return fmt.Errorf("netlab: %q not in %s after %v: %s", want, filepath.Base(path), d, b)
}

// UPnPLog is the router's miniupnpd log so far.
func (n *Node) UPnPLog() string {
	if n.upnp == nil {
		return ""
	}
	b, _ := os.ReadFile(n.upnp.log)
	return string(b)
}

// RestartUPnP stops the router's miniupnpd, forgets every mapping (its
// leases and its iptables rules, as a router reboot does) and starts it
// again.
func (n *Node) RestartUPnP() error {
	if n.upnp == nil {
		return fmt.Errorf("netlab: %s runs no miniupnpd", n.Name)
	}
	if err := n.StopUPnP(); err != nil {
		return err
	}
	os.Remove(n.upnp.leases)
	for _, c := range [][]string{{"-t", "nat", "-F", "MINIUPNPD"}, {"-t", "nat", "-F", "MINIUPNPD-POSTROUTING"},
		{"-t", "mangle", "-F", "MINIUPNPD"}, {"-F", "MINIUPNPD"}} {
		if _, err := n.Run("iptables-legacy", c...); err != nil {
			return err
		}
	}
	return n.runUPnP()
}

// StopUPnP stops the router's miniupnpd (SIGTERM, then SIGKILL after 5 s).
func (n *Node) StopUPnP() error {
	if n.upnp == nil || n.upnp.cmd == nil {
		return fmt.Errorf("netlab: %s runs no miniupnpd", n.Name)
	}
	c := n.upnp.cmd
	n.upnp.cmd = nil
	c.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.Process.Kill()
		<-done
	}
	return nil
}

// Mappings lists the router's port forwardings as iptables rules
// (`iptables-legacy -t nat -S MINIUPNPD`), one per line.
func (n *Node) Mappings() ([]string, error) {
	out, err := n.Run("iptables-legacy", "-t", "nat", "-S", "MINIUPNPD")
	if err != nil {
		return nil, err
	}
	var rules []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "-A ") {
			rules = append(rules, line)
		}
	}
	return rules, nil
}

// reservedEntries are miniupnpd's reserved-table entries (address, then
// the number of host bits, both little-endian uint32) that cover the lab's
// public ranges, and what replaces them: 0.0.0.0/8, already in the table.
var reservedEntries = [][]byte{
	{0x00, 0x71, 0x00, 0xcb, 8, 0, 0, 0}, // 203.0.113.0/24 TEST-NET-3
	{0x00, 0x64, 0x33, 0xc6, 8, 0, 0, 0}, // 198.51.100.0/24 TEST-NET-2
}

var zeroEntry = []byte{0, 0, 0, 0, 24, 0, 0, 0}

// patchMiniupnpd writes a private copy of the miniupnpd binary at bin into
// dir, with the table entries for the lab's public ranges overwritten. It
// fails when an entry is not found exactly once (another build of
// miniupnpd: look again at getifaddr.c's reserved table).
func patchMiniupnpd(bin, dir string) (string, error) {
	b, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("netlab: read miniupnpd: %w", err)
	}
	for _, e := range reservedEntries {
		if n := bytes.Count(b, e); n != 1 {
			return "", fmt.Errorf("netlab: miniupnpd at %s: reserved-table entry % x found %d times, want 1", bin, e, n)
		}
		i := bytes.Index(b, e)
		copy(b[i:], zeroEntry)
	}
	out := filepath.Join(dir, "miniupnpd-lab")
	if err := os.WriteFile(out, b, 0o755); err != nil {
		return "", fmt.Errorf("netlab: %w", err)
	}
	return out, nil
}

// MappedConnections counts the connections (first packets: the nat table
// sees only those) that came in through the router's forwarding of proto
// ("tcp" or "udp") port, from the rule counters of its MINIUPNPD chain.
func (n *Node) MappedConnections(proto string, port int) (int, error) {
	out, err := n.Run("iptables-legacy", "-t", "nat", "-L", "MINIUPNPD", "-n", "-v", "-x")
	if err != nil {
		return 0, err
	}
	total := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		// -n prints the protocol as a number in its column; the match
		// text names it: "... tcp dpt:42000 to:198.18.1.10:42000".
		if len(f) < 4 || f[2] != "DNAT" || !strings.Contains(line, fmt.Sprintf(" %s dpt:%d ", proto, port)) {
			continue
		}
		pkts, err := strconv.Atoi(f[0])
		if err != nil {
			return 0, fmt.Errorf("netlab: counters of %s: %q: %w", n.Name, line, err)
		}
		total += pkts
	}
	return total, nil
}
