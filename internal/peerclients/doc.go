// Package peerclients launches real BitTorrent clients (Transmission 3,
// aria2, qBittorrent-nox) and a real tracker (opentracker) as child
// processes on loopback only, for Shoal's interop tests and benchmarks. The
// clients speak BEP 3 (with BEP 9/10 for magnets); the tracker serves BEP 3
// HTTP and BEP 15 UDP announces and BEP 48 scrapes. It also runs the .torrent
// makers transmission-create and mktorrent.
//
// Every client is bound to 127.0.0.1 with DHT, PEX, local peer discovery,
// UPnP/NAT-PMP and uTP off (see /work/shared/PEERS.md), and every HTTP call
// this package makes goes through a netguard loopback-only dialer. A
// missing binary is reported as ErrNotInstalled, so callers can skip or
// fail. Processes started with a testing.TB are stopped when the test ends,
// and their output is logged if it failed.
//
// This package is for tests and benchmarks; it never imports the engine.
package peerclients
