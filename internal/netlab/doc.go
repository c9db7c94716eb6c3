// Package netlab builds a small lab Internet inside Linux network
// namespaces for tests: a public segment, home routers with NAT (one with a
// real miniupnpd serving UPnP IGD and NAT-PMP, one strict NAT without it),
// a double NAT behind a carrier-grade NAT, hosts behind each router and
// public hosts. Tests run real programs (shoal daemons, aria2, upnpc) in
// the namespaces through `ip netns exec`.
//
// Everything stays on the machine. The lab uses only documentation and
// benchmark ranges (203.0.113.0/24 for the public segment, 198.18.0.0/15
// for home LANs, 100.64.0.0/10 for the carrier-grade NAT segment), links
// namespaces with veth pairs created directly inside them, never touches
// the root namespace's interfaces, routes or firewall, and gives no
// namespace a route off the machine: default routes point at namespace
// addresses that forward nowhere.
//
// Each lab has a unique name prefix (process id and a counter), and
// t.Cleanup tears it down even after a failed test: every process in its
// namespaces is killed, then the namespaces are deleted (which deletes
// their links). Namespaces left by a test binary that was killed outright
// are swept by the next New, recognised by their prefix and a dead owner.
//
// The measured facts this builds on are in the project's NETLAB notes:
// firewalls use iptables-legacy (miniupnpd-iptables links legacy
// x_tables); miniupnpd does not create its chains, so the lab does; and
// miniupnpd's table of reserved addresses covers every range the lab may
// use, so router r1 runs a private copy of the binary in which the entries
// for 203.0.113.0/24 and 198.51.100.0/24 are overwritten (data only, each
// found by its exact byte pattern). Router r3, whose WAN sits in the
// carrier-grade range, runs the stock binary: its refusal to map is the
// realistic double-NAT case.
//
// Options.SecondStrict adds r5, a second strict NAT with host h5, for hole
// punching between two NATed peers; Options.Stealth makes the strict
// routers drop unsolicited packets to their WAN address instead of
// answering them. MASQUERADE keeps a flow's source port when it is free,
// which makes the routers' mapping endpoint-independent: what makes hole
// punching possible. An answering router (RST, ICMP port unreachable)
// records the unsolicited flow, and that record takes the port a host
// behind it then needs for its own flow to the same peer, so its mapping
// changes port; a stealth router records nothing.
//
// Missing prerequisites (not root, no ip, iptables-legacy or miniupnpd, no
// namespaces) skip the test with the reason, or fail it when the
// environment sets SHOAL_REQUIRE_NETLAB=1.
package netlab
