//go:build !unix

package transport

import "net"

// socketBuffers is unknown (zero) where the socket options are not read.
func socketBuffers(net.PacketConn) SocketBuffers { return SocketBuffers{} }
