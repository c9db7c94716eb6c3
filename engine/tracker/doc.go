// Package tracker implements BitTorrent tracker clients: announces to
// HTTP(S) trackers as in BEP 3 with compact peer lists (BEP 23) and IPv6
// peers (BEP 7 "peers6"), and to UDP trackers as in BEP 15 (with the
// optional BEP 41 URL data option); scrapes over HTTP (the BEP 48 URL
// convention) and UDP (BEP 15 action 2); and the Announcer, which keeps one
// torrent's state over the tiers of its announce-list (BEP 12): events,
// intervals, backoff, and the swarm counts the trackers report.
//
// Every socket is opened through the caller-supplied Client.Dial, so a
// netguard.Policy can confine the client to loopback.
//
// What a tracker sends is bounded before use, as it comes from a stranger:
// an HTTP body is read up to MaxHTTPBody, negative counts and intervals
// read as 0, and peers with port 0 or a host name instead of an address
// are dropped (nothing here resolves names a tracker supplies).
//
// Two locks, neither held across a network call nor while the other is
// taken: Announcer.mu guards the tiers (announces are planned under it
// and sent with it released), and Client.mu guards the cache of
// BEP 15 connection IDs, taken only to read, store or drop one.
package tracker
