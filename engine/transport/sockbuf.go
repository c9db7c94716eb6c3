package transport

import "net"

// The buffers a uTP UDP socket asks the kernel for, as Transmission's
// tr-udp.cc does: 4 MiB to receive, 1 MiB to send. Every uTP connection
// and the DHT share one socket, and a receive window is up to 1 MiB per
// connection (package utp's readBufferLen), so the default 208 KiB of a
// Linux socket overflowed in a burst from a few fast peers, and each
// datagram dropped there cost a resend and LEDBAT a halved window.
const (
	UDPRecvBuffer = 4 << 20
	UDPSendBuffer = 1 << 20
)

// SocketBuffers are a UDP socket's buffer sizes in bytes, as the kernel
// reports them after sizing (SO_RCVBUF, SO_SNDBUF): Linux grants at most
// net.core.rmem_max and wmem_max and reports twice what it granted (half
// is its bookkeeping). Zero where the system does not say.
type SocketBuffers struct {
	Recv, Send int
}

// Short reports whether the kernel granted less than was asked, which on
// Linux means net.core.rmem_max or wmem_max is below it.
func (b SocketBuffers) Short() bool {
	return b.Recv != 0 && b.Recv < UDPRecvBuffer || b.Send != 0 && b.Send < UDPSendBuffer
}

// bufferedConn is what a UDP socket must offer to be sized (*net.UDPConn does).
type bufferedConn interface {
	SetReadBuffer(int) error
	SetWriteBuffer(int) error
}

// sizeBuffers asks the kernel for UDPRecvBuffer and UDPSendBuffer on pc
// and returns what it granted. A socket that cannot be sized (not UDP)
// is left as it is; a refusal is not an error worth failing for, the
// socket works with what it has.
func sizeBuffers(pc net.PacketConn) SocketBuffers {
	bc, ok := pc.(bufferedConn)
	if !ok {
		return SocketBuffers{}
	}
	bc.SetReadBuffer(UDPRecvBuffer)
	bc.SetWriteBuffer(UDPSendBuffer)
	return socketBuffers(pc)
}
