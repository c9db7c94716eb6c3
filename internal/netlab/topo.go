package netlab

import (
	"fmt"
	"net/netip"
	"strings"
)

// The lab's fixed plan (see the package doc and NETLAB notes).
var (
	pubAddr = netip.MustParseAddr("203.0.113.1")
	cgnLAN  = netip.MustParseAddr("100.64.0.1")
)

// routerPlan is one router: where its WAN hangs and what it runs.
type routerPlan struct {
	name     string
	wan      string // address/len
	gateway  netip.Addr
	uplink   string // "pub" or the router whose LAN it joins
	lan      string // address/len
	upnp     bool
	patched  bool // run the private miniupnpd copy that accepts lab WANs
	lanRange string
	bridge   string // pub's bridge the WAN joins when not br0 (Options.Transit)
	stealth  bool   // drop unsolicited packets to the WAN address (Options.Stealth)
	reject   bool   // refuse them with iptables REJECT (Options.Reject)
	// rejectWith is the REJECT answer for all protocols when set
	// (Options.Prohibit: icmp-host-prohibited).
	rejectWith string
}

var routers = []routerPlan{
	{name: "r1", wan: "203.0.113.11/24", gateway: pubAddr, uplink: "pub", lan: "198.18.1.1/24", upnp: true, patched: true, lanRange: "198.18.1.0/24"},
	{name: "r2", wan: "203.0.113.12/24", gateway: pubAddr, uplink: "pub", lan: "198.18.2.1/24"},
	{name: "r4", wan: "203.0.113.14/24", gateway: pubAddr, uplink: "pub", lan: "100.64.0.1/24"},
	{name: "r3", wan: "100.64.0.3/24", gateway: cgnLAN, uplink: "r4", lan: "198.18.3.1/24", upnp: true, lanRange: "198.18.3.0/24"},
}

// secondStrict is the router and host Options.SecondStrict adds.
var (
	secondStrict     = routerPlan{name: "r5", wan: "203.0.113.15/24", gateway: pubAddr, uplink: "pub", lan: "198.18.5.1/24"}
	secondStrictHost = struct{ name, router, addr string }{"h5", "r5", "198.18.5.10/24"}
	// transitPub is pub's address on Options.Transit's second segment.
	transitPub = netip.MustParseAddr("198.51.100.1")
)

// hosts are the lab's hosts, each behind a router.
var hosts = []struct{ name, router, addr string }{
	{"h1", "r1", "198.18.1.10/24"},
	{"h1b", "r1", "198.18.1.11/24"}, // a second host on r1's LAN
	{"h2", "r2", "198.18.2.10/24"},
	{"h3", "r3", "198.18.3.10/24"},
}

func (l *Lab) build(opts Options) error {
	if err := l.buildPub(opts.Transit); err != nil {
		return err
	}
	routers, hosts := routers, hosts
	if opts.SecondStrict {
		r5 := secondStrict
		if opts.Transit {
			r5.wan, r5.gateway, r5.bridge = "198.51.100.15/24", transitPub, "br1"
		}
		routers = append(routers[:len(routers):len(routers)], r5)
		hosts = append(hosts[:len(hosts):len(hosts)], secondStrictHost)
	}
	for _, r := range routers {
		strict := !r.upnp && r.uplink == "pub" && r.name != "r4"
		r.stealth = opts.Stealth && strict
		r.reject = (opts.Reject || opts.Prohibit) && strict && !opts.Stealth
		if opts.Prohibit {
			r.rejectWith = "icmp-host-prohibited"
		}
		if err := l.buildRouter(r); err != nil {
			return err
		}
	}
	for _, h := range hosts {
		r := l.nodes[h.router]
		if err := l.buildHost(h.name, r.NS, "lan0", h.addr, r.LAN); err != nil {
			return err
		}
	}
	for i := 0; i < opts.PublicHosts; i++ {
		addr := fmt.Sprintf("203.0.113.%d/24", 50+i)
		if err := l.buildHost(fmt.Sprintf("s%d", i+1), l.nodes["pub"].NS, "br0", addr, pubAddr); err != nil {
			return err
		}
	}
	for _, r := range routers {
		if r.upnp {
			if err := l.startUPnP(l.nodes[r.name], r, opts.NATPMPOnly && r.name == "r1"); err != nil {
				return err
			}
		}
	}
	return nil
}

// addNS creates a namespace with loopback up and registers it for teardown.
func (l *Lab) addNS(name string) (*Node, error) {
	n := &Node{lab: l, Name: name, NS: l.prefix + name}
	l.order = append(l.order, n.NS) // before creating: teardown copes with absent ones
	if err := run("ip", "netns", "add", n.NS); err != nil {
		return nil, err
	}
	l.nodes[name] = n
	return n, ipn(n.NS, "link set lo up")
}

// ipn runs `ip -n ns ARGS...` with args given as one space-separated string.
func ipn(ns, args string) error {
	return run("ip", append([]string{"-n", ns}, strings.Fields(args)...)...)
}

// buildPub makes the public segment's bridge and, with transit, a second
// one on 198.51.100.0/24 that pub routes to (Options.Transit).
func (l *Lab) buildPub(transit bool) error {
	n, err := l.addNS("pub")
	if err != nil {
		return err
	}
	n.Addr = pubAddr
	err = steps(n.NS,
		"link add br0 type bridge mcast_snooping 0",
		"addr add 203.0.113.1/24 dev br0",
		"link set br0 up")
	if err != nil || !transit {
		return err
	}
	err = steps(n.NS,
		"link add br1 type bridge mcast_snooping 0",
		"addr add "+transitPub.String()+"/24 dev br1",
		"link set br1 up")
	if err != nil {
		return err
	}
	return run("ip", "netns", "exec", n.NS, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
}

func steps(ns string, cmds ...string) error {
	for _, c := range cmds {
		if err := ipn(ns, c); err != nil {
			return err
		}
	}
	return nil
}

// attach links namespace ns (as interface inner) to bridge br in namespace
// up, through a veth pair made inside the namespaces.
func attach(upNS, br, port, ns, inner string) error {
	return steps(upNS,
		fmt.Sprintf("link add %s type veth peer name %s netns %s", port, inner, ns),
		fmt.Sprintf("link set %s master %s", port, br),
		fmt.Sprintf("link set %s up", port))
}

func (l *Lab) buildRouter(r routerPlan) error {
	n, err := l.addNS(r.name)
	if err != nil {
		return err
	}
	n.Addr = netip.MustParsePrefix(r.wan).Addr()
	n.LAN = netip.MustParsePrefix(r.lan).Addr()
	n.Gateway = r.gateway
	br := "br0"
	if r.uplink != "pub" {
		br = "lan0"
	}
	if r.bridge != "" {
		br = r.bridge
	}
	if err := attach(l.nodes[r.uplink].NS, br, r.name, n.NS, "wan0"); err != nil {
		return err
	}
	err = steps(n.NS,
		"addr add "+r.wan+" dev wan0",
		"link set wan0 up",
		"link add lan0 type bridge mcast_snooping 0",
		"addr add "+r.lan+" dev lan0",
		"link set lan0 up",
		"route add default via "+r.gateway.String())
	if err != nil {
		return err
	}
	if err := run("ip", "netns", "exec", n.NS, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"); err != nil {
		return err
	}
	return l.firewall(n, r)
}

func (l *Lab) buildHost(name, upNS, br, addr string, gw netip.Addr) error {
	n, err := l.addNS(name)
	if err != nil {
		return err
	}
	n.Addr = netip.MustParsePrefix(addr).Addr()
	n.Gateway = gw
	if err := attach(upNS, br, name, n.NS, "eth0"); err != nil {
		return err
	}
	return steps(n.NS,
		"addr add "+addr+" dev eth0",
		"link set eth0 up",
		"route add default via "+gw.String())
}
