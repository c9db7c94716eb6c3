//go:build unix

package transport

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// rawConn is pc's file descriptor access, or nil if it is not a socket.
func rawConn(pc net.PacketConn) syscall.RawConn {
	sc, ok := pc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// socketBuffers reads SO_RCVBUF and SO_SNDBUF from pc, if it is a socket.
func socketBuffers(pc net.PacketConn) (b SocketBuffers) {
	raw := rawConn(pc)
	if raw == nil {
		return b
	}
	raw.Control(func(fd uintptr) {
		b.Recv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		b.Send, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	return b
}
