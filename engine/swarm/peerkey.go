package swarm

import "github.com/shoalp2p/shoal/engine/state"

// PeerKey names a peer for bans and credit: by IP on the Internet, by peer
// ID on loopback. It is state.PeerKey, whose stored form only package state
// reads and writes.
type PeerKey = state.PeerKey

// PeerKeyFromIP is the key of the peer at IP address ip (no port).
func PeerKeyFromIP(ip string) PeerKey { return state.PeerKeyFromIP(ip) }

// PeerKeyFromID is the key of the peer with this BitTorrent peer ID.
func PeerKeyFromID(id [20]byte) PeerKey { return state.PeerKeyFromID(id) }
