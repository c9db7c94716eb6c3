package swarm

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// PeerKey names a peer for bans and credit: by IP on the Internet, by peer
// ID on loopback, where every peer shares 127.0.0.1. The zero PeerKey names
// no peer. Its string form ("ip:ADDR" or "id:HEXPEERID") is what the state
// database stores; ParsePeerKey reads it back.
type PeerKey struct{ s string }

const (
	ipPrefix = "ip:"
	idPrefix = "id:"
)

// PeerKeyFromIP is the key of the peer at IP address ip (no port).
func PeerKeyFromIP(ip string) PeerKey { return PeerKey{ipPrefix + ip} }

// PeerKeyFromID is the key of the peer with this BitTorrent peer ID.
func PeerKeyFromID(id [20]byte) PeerKey { return PeerKey{idPrefix + hex.EncodeToString(id[:])} }

// errPeerKey is returned by ParsePeerKey for a string that names no peer.
var errPeerKey = errors.New("not a peer key")

// ParsePeerKey reads a key's string form back: "ip:ADDR" or "id:" followed
// by 40 hex digits.
func ParsePeerKey(s string) (PeerKey, error) {
	if ip, ok := strings.CutPrefix(s, ipPrefix); ok && ip != "" {
		return PeerKey{s}, nil
	}
	if id, ok := strings.CutPrefix(s, idPrefix); ok {
		if b, err := hex.DecodeString(id); err == nil && len(b) == 20 {
			return PeerKey{s}, nil
		}
	}
	return PeerKey{}, fmt.Errorf("swarm: parse peer key %q: %w", s, errPeerKey)
}

// String is the key's stored form: "ip:ADDR" or "id:HEXPEERID", or "" for
// the zero key.
func (k PeerKey) String() string { return k.s }

// LogValue logs the key as its string form.
func (k PeerKey) LogValue() slog.Value { return slog.StringValue(k.s) }

// IsZero reports whether k names no peer.
func (k PeerKey) IsZero() bool { return k.s == "" }

// IP returns the address of a key made by PeerKeyFromIP.
func (k PeerKey) IP() (string, bool) { return strings.CutPrefix(k.s, ipPrefix) }

// PeerID returns the hex peer ID of a key made by PeerKeyFromID.
func (k PeerKey) PeerID() (string, bool) { return strings.CutPrefix(k.s, idPrefix) }

// Compare orders keys by their string form, for stable lists.
func (k PeerKey) Compare(o PeerKey) int { return strings.Compare(k.s, o.s) }
