package ui

import (
	"fmt"
	"net"
	"strconv"

	"github.com/shoalp2p/shoal/engine"
)

// reachWords says, for people, whether other peers can connect to us and
// what to do if not. listenPort is the port to forward by hand; mapping
// says whether UPnP/NAT-PMP is on in the settings.
func reachWords(n engine.NetStatus, listenPort int, mapping bool) string {
	port := listenPort
	if p := portOfAddr(n.ExternalAddr); p > 0 {
		port = p
	}
	switch n.Reachable {
	case "yes":
		switch n.PortMapping {
		case "upnp":
			return fmt.Sprintf("Reachable: other peers can connect to you (port %d opened by your router with UPnP).", port)
		case "natpmp":
			return fmt.Sprintf("Reachable: other peers can connect to you (port %d opened by your router with NAT-PMP).", port)
		}
		return fmt.Sprintf("Reachable: other peers can connect to you on port %d.", port)
	case "no":
		why := "your router did not open a port."
		do := fmt.Sprintf("Enable UPnP on the router or forward TCP+UDP port %d.", listenPort)
		if !mapping {
			why = "opening a port on the router (UPnP/NAT-PMP) is off, and nobody outside could connect."
			do = fmt.Sprintf("Turn on \"Open the port on my router\" above, or forward TCP+UDP port %d on the router.", listenPort)
		}
		return "Not reachable: " + why + " Downloads still work, but fewer peers can download from you. " + do
	}
	if n.ReachTesting {
		return "Testing whether other peers can connect to you…"
	}
	return "Not tested yet: Shoal is looking for a supernode to test whether other peers can connect to you."
}

// reachKey is what the reachability words depend on.
type reachKey struct {
	reachable, mapping, external, peer string
	testing, mappingOn                 bool
	listenPort                         int
	valid                              bool
}

func reachKeyOf(n engine.NetStatus, s engine.Settings) reachKey {
	return reachKey{n.Reachable, n.PortMapping, n.ExternalAddr, n.PeerAddr, n.ReachTesting, s.PortMapping, s.ListenPort, true}
}

// reachShort is the status bar's word for reachability.
func reachShort(n engine.NetStatus) string {
	switch {
	case n.Reachable == "yes":
		return "Reachable"
	case n.Reachable == "no":
		return "Not reachable"
	case n.ReachTesting:
		return "Reachability: testing…"
	}
	return "Reachability: not tested yet"
}

// portOfAddr is the port of host:port, or 0.
func portOfAddr(a string) int {
	_, p, err := net.SplitHostPort(a)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}
