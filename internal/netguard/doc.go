// Package netguard enforces Shoal's network policy at the socket layer.
//
// A Policy may confine the engine to a list of networks (--allow-net): it
// then refuses to dial, send to, listen on or accept any address outside
// them, and never resolves host names other than "localhost" (allowed when
// loopback is). Loopback-only mode, used by every test, benchmark and the
// demo, is the list 127.0.0.0/8 and ::1/128; lab tests in network
// namespaces (internal/netlab) use the lab's documentation ranges. Every
// part of the engine that touches the network gets its sockets from a
// Policy, so the rule holds in one place.
package netguard
