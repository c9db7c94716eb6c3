//go:build !linux

package transport

import "net"

// forceBuffers does nothing: only Linux has a way past its caps
// (SO_RCVBUFFORCE).
func forceBuffers(net.PacketConn, int, int) {}
