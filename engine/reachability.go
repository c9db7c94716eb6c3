package engine

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/shoalp2p/shoal/engine/portmap"
	"github.com/shoalp2p/shoal/internal/netguard"
)

// Reachability, as NetStatus shows it. The explicit test decides when a
// supernode has answered one (dialback.go: it dialled our external
// address, and our probe came in or not). Until then it is inferred: a
// node is reachable when someone from a public address has connected to
// it (a BitTorrent peer, or a supernode's probe: see
// overlay.Supernode.probeLeaf), when the router forwards its port, or when
// its own address is public; it is not when none of that holds and the
// router refused a mapping. Only a reachable node promotes itself to
// supernode when it finds none (overlay.Promotion.Reachable).

const (
	reachableYes     = "yes"
	reachableNo      = "no"
	reachableUnknown = "unknown"
)

// noteInbound records the first connection from a public address.
func (e *Engine) noteInbound(a net.Addr) {
	if e.inboundFrom.Load() != nil {
		return
	}
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok || !portmap.IsPublic(ip) {
		return
	}
	s := ip.Unmap().String()
	e.inboundFrom.CompareAndSwap(nil, &s)
}

// reachability says whether others can dial us, and how that is known.
func (e *Engine) reachability() (state, how string) {
	if state, how, _, ok := e.dialBackVerdict(); ok {
		return state, how
	}
	if from := e.inboundFrom.Load(); from != nil {
		return reachableYes, fmt.Sprintf("%s connected to us from outside", *from)
	}
	st, _ := e.mapStatus()
	if st.External.IsValid() {
		return reachableYes, fmt.Sprintf("the router forwards port %d to us (%s)", st.External.Port(), st.Method)
	}
	if ip, err := netip.ParseAddr(netguard.Host(e.advertised())); err == nil && portmap.IsPublic(ip) {
		return reachableYes, fmt.Sprintf("our own address %s is public", ip)
	}
	if st.Err != "" {
		return reachableNo, "Nobody outside has connected to us, and the router opened no port."
	}
	return reachableUnknown, ""
}

// externalFromPeers is our IPv4 address as the peers that agree on it
// see it (BEP 10 yourip), with the port we announce; empty while they
// do not agree.
func (e *Engine) externalFromPeers() (addr, from string) {
	ip, n, ok := e.ipVotes.Agreed(false)
	if !ok {
		return "", ""
	}
	addr = netip.AddrPortFrom(ip, uint16(e.announcePort())).String()
	return addr, fmt.Sprintf("%d peers agree on our IP (BEP 10 yourip)", n)
}

// knownReachable tells the overlay whether we may promote ourselves when
// alone; in loopback-only mode everyone can reach everyone.
func (e *Engine) knownReachable() bool {
	if e.cfg.LoopbackOnly {
		return true
	}
	state, _ := e.reachability()
	return state == reachableYes
}

// reachStatus fills the reachability fields of n.
func (e *Engine) reachStatus(n *NetStatus) {
	n.Reachable, n.ReachableHow = e.reachability()
	if _, _, ext, ok := e.dialBackVerdict(); ok && n.ExternalAddr == "" {
		n.ExternalAddr, n.ExternalAddrFrom = ext, "a supernode's dial-back"
	}
	if n.ExternalAddr == "" {
		n.ExternalAddr, n.ExternalAddrFrom = e.externalFromPeers()
	}
	testing, looking := e.reachNotes()
	n.ReachTesting = testing
	switch {
	case e.sn != nil && e.sn.AloneUnreachable():
		n.ReachableHow = joinNote(n.ReachableHow, "No supernode found, and a node nobody can reach cannot be one: still looking.")
	case looking:
		n.ReachableHow = joinNote(n.ReachableHow, "No supernode could test us yet: still looking.")
	}
}

func joinNote(how, note string) string {
	if how == "" {
		return note
	}
	return how + " " + note
}
