// Package portmap opens the node's listen port on the home router, so that
// peers on the Internet can dial in: UPnP IGD (v1 and v2 WANIPConnection,
// WANPPPConnection; UPnP Device Architecture 1.1 and the IGD:2 spec) via
// github.com/huin/goupnp, and NAT-PMP (RFC 6886) via
// github.com/jackpal/go-nat-pmp, and PCP (RFC 6887, MAP only, IPv4)
// encoded here (pcp.go): the Go PCP clients found are alpha code (go-pcp,
// offered in fd/go-nat issue 3) or part of a large application module
// (tailscale.com/net/portmapper), and a MAP request is 60 bytes. NAT-PMP
// and PCP share the router's port 5351 and its table of mappings (miniupnpd
// serves both), so PCP is asked only when NAT-PMP fails: for routers that
// dropped NAT-PMP. Config.Methods limits what is tried (the lab tests
// force PCP that way against the real miniupnpd).
//
// A Mapper runs in the background (Run(ctx)): it tries UPnP and NAT-PMP/PCP in
// parallel, each bounded by a timeout, maps TCP and UDP on the listen port,
// learns the external address, renews the lease at half its life (which
// also re-makes a mapping the router lost, for example after a restart),
// and removes the mappings when its context ends. Startup never waits for
// it; Status reports what is known so far, with failures worded for people.
//
// Everything a router sends is bounded: SSDP answers are read into fixed
// buffers by goupnp, description and SOAP bodies go through a size limit
// and a deadline, and a device is used only when its description URL and
// control URLs are on an address the engine's policy (internal/netguard)
// allows, with the same host for both.
//
// Locks. Mapper.mu is the package's one lock, and a leaf: it guards Status
// alone and is held only to read or replace it. The leases, and the
// routers they come from, belong to Run's goroutine and need no lock;
// routers are asked, log lines written and Config.OnChange called with
// Mapper.mu released.
package portmap
