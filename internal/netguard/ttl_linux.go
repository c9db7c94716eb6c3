//go:build linux

package netguard

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// writeTTL sends b to addr from pc with the IPv4 TTL set for this one
// datagram (an IP_TTL control message), leaving the socket's own TTL, and
// so every other sender on it, alone.
func writeTTL(pc net.PacketConn, b []byte, addr net.Addr, ttl int) (int, error) {
	uc, ok := pc.(*net.UDPConn)
	ua, ok2 := addr.(*net.UDPAddr)
	if !ok || !ok2 || ua.IP.To4() == nil {
		return 0, errors.ErrUnsupported
	}
	oob := make([]byte, syscall.CmsgSpace(4))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = syscall.IPPROTO_IP, syscall.IP_TTL
	h.SetLen(syscall.CmsgLen(4))
	binary.NativeEndian.PutUint32(oob[syscall.CmsgLen(0):], uint32(ttl))
	n, _, err := uc.WriteMsgUDP(b, oob, ua)
	return n, err
}
