package transport

import (
	"net"

	"golang.org/x/sys/unix"
)

// forceBuffers sets pc's buffers past net.core.rmem_max and wmem_max
// where the process may (CAP_NET_ADMIN); without the right it changes
// nothing.
func forceBuffers(pc net.PacketConn, recv, send int) {
	raw := rawConn(pc)
	if raw == nil {
		return
	}
	raw.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, recv)
		unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, send)
	})
}
