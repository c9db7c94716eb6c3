package state

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// PeerKey names a peer for bans and credit: by IP on the Internet, by peer
// ID on loopback, where every peer shares 127.0.0.1. The zero PeerKey names
// no peer. It is comparable, so it keys maps.
//
// Its stored form ("ip:ADDR" or "id:HEXPEERID", the text of the peers and
// credit tables' ip column) is private to this package: callers build keys
// with PeerKeyFromIP and PeerKeyFromID and pass them to DB methods, and
// only this file writes or reads the prefixes.
type PeerKey struct{ s string }

const (
	ipPrefix = "ip:"
	idPrefix = "id:"
)

// PeerKeyFromIP is the key of the peer at IP address ip (no port). An
// IPv4-mapped IPv6 address is the IPv4 one.
func PeerKeyFromIP(ip string) PeerKey { return PeerKey{ipPrefix + normIP(ip)} }

// PeerKeyFromID is the key of the peer with this BitTorrent peer ID.
func PeerKeyFromID(id [20]byte) PeerKey { return PeerKey{idPrefix + hex.EncodeToString(id[:])} }

// errPeerKey is returned by parsePeerKey for a string that names no peer.
var errPeerKey = errors.New("not a peer key")

// parsePeerKey reads a key's stored form back: "ip:ADDR" or "id:" followed
// by 40 hex digits.
func parsePeerKey(s string) (PeerKey, error) {
	if ip, ok := strings.CutPrefix(s, ipPrefix); ok && ip != "" {
		return PeerKey{s}, nil
	}
	if id, ok := strings.CutPrefix(s, idPrefix); ok {
		if b, err := hex.DecodeString(id); err == nil && len(b) == 20 {
			return PeerKey{s}, nil
		}
	}
	return PeerKey{}, fmt.Errorf("state: parse peer key %q: %w", s, errPeerKey)
}

// stored is the key's stored form, or "" for the zero key.
func (k PeerKey) stored() string { return k.s }

// String names the peer for people and logs: its IP address, or "peer "
// and its hex peer ID; "" for the zero key.
func (k PeerKey) String() string {
	if ip, ok := k.IP(); ok {
		return ip
	}
	if id, ok := k.PeerID(); ok {
		return "peer " + id
	}
	return ""
}

// LogValue logs the key as String says.
func (k PeerKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// IsZero reports whether k names no peer.
func (k PeerKey) IsZero() bool { return k.s == "" }

// IP returns the address of a key made by PeerKeyFromIP.
func (k PeerKey) IP() (string, bool) { return strings.CutPrefix(k.s, ipPrefix) }

// PeerID returns the hex peer ID of a key made by PeerKeyFromID.
func (k PeerKey) PeerID() (string, bool) { return strings.CutPrefix(k.s, idPrefix) }

// Compare orders keys for stable lists: ID keys before IP keys, then by
// hex ID or by address text.
func (k PeerKey) Compare(o PeerKey) int { return strings.Compare(k.s, o.s) }
