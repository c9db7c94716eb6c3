package transport

import (
	"net"
	"runtime"
)

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
// is its bookkeeping). Zero where the system does not say. AskedRecv and
// AskedSend are the sizes asked for.
type SocketBuffers struct {
	Recv, Send           int
	AskedRecv, AskedSend int
}

// reportedPerByte is how many bytes the kernel reports in SO_RCVBUF and
// SO_SNDBUF per byte it granted: Linux doubles them.
func reportedPerByte() int {
	if runtime.GOOS == "linux" {
		return 2
	}
	return 1
}

// Short reports whether the kernel granted less than was asked, which on
// Linux means net.core.rmem_max or wmem_max is below it (and the process
// may not pass it). On Linux the reported sizes are twice the granted
// ones, so a cap of 3 MiB reports 6 MiB, which is short of 4 MiB.
func (b SocketBuffers) Short() bool {
	f := reportedPerByte()
	return b.Recv != 0 && b.Recv < f*b.AskedRecv || b.Send != 0 && b.Send < f*b.AskedSend
}

// socketOf is the socket under pc's wrappers (netguard's policy guard):
// each wrapper that has an Unwrap method is taken off. Without that the
// guard, which every engine socket has, hid the socket and its buffers
// were never sized.
func socketOf(pc net.PacketConn) net.PacketConn {
	for {
		w, ok := pc.(interface{ Unwrap() net.PacketConn })
		if !ok {
			return pc
		}
		pc = w.Unwrap()
	}
}

// bufferedConn is what a UDP socket must offer to be sized (*net.UDPConn does).
type bufferedConn interface {
	SetReadBuffer(int) error
	SetWriteBuffer(int) error
}

// sizeBuffers asks the kernel for recv and send bytes of buffer on pc and
// returns what it granted. Where the kernel caps them below the ask
// (Linux's net.core.rmem_max and wmem_max), a process allowed to pass the
// caps (CAP_NET_ADMIN) passes them, as quic-go does (SO_RCVBUFFORCE); any
// other is left with the capped sizes, which Short then reports. A socket
// that cannot be sized (not UDP) is left as it is; a refusal is not an
// error worth failing for, the socket works with what it has.
func sizeBuffers(pc net.PacketConn, recv, send int) SocketBuffers {
	pc = socketOf(pc)
	bc, ok := pc.(bufferedConn)
	if !ok {
		return SocketBuffers{AskedRecv: recv, AskedSend: send}
	}
	bc.SetReadBuffer(recv)
	bc.SetWriteBuffer(send)
	b := socketBuffers(pc)
	b.AskedRecv, b.AskedSend = recv, send
	if b.Short() {
		forceBuffers(pc, recv, send)
		b = socketBuffers(pc)
		b.AskedRecv, b.AskedSend = recv, send
	}
	return b
}
