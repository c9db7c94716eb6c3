//go:build !linux

package netguard

import (
	"errors"
	"net"
)

// writeTTL is Linux-only: elsewhere it reports errors.ErrUnsupported.
func writeTTL(pc net.PacketConn, b []byte, addr net.Addr, ttl int) (int, error) {
	return 0, errors.ErrUnsupported
}
