package transport

import (
	"context"
	"fmt"
	"net"

	"github.com/shoalp2p/shoal/engine/transport/utp"
)

// UTPMode says which transports outgoing connections use.
type UTPMode uint8

// The uTP modes.
const (
	UTPOn   UTPMode = iota // race uTP and TCP, keep whichever connects first
	UTPOff                 // TCP only; incoming uTP is refused
	UTPOnly                // uTP only (for tests and measurements); TCP is still accepted
)

// String is the mode's name, as engine.UTPMode spells it.
func (m UTPMode) String() string {
	switch m {
	case UTPOff:
		return "off"
	case UTPOnly:
		return "only"
	}
	return "on"
}

// UTP is a uTP (BEP 29) socket on a UDP socket it shares: uTP packets go
// to its connections, every other datagram (the DHT's KRPC) to whoever
// reads PacketConn. See the package doc for the library and why.
type UTP struct {
	s       *utp.Socket
	buffers SocketBuffers
}

// NewUTP sizes pc's buffers (see UDPRecvBuffer) and starts demultiplexing
// it. Closing the UTP closes pc.
func NewUTP(pc net.PacketConn) (*UTP, error) {
	return newUTPSized(pc, UDPRecvBuffer, UDPSendBuffer)
}

// newUTPSized is NewUTP asking for recv and send bytes of buffer.
func newUTPSized(pc net.PacketConn, recv, send int) (*UTP, error) {
	b := sizeBuffers(pc, recv, send)
	s, err := utp.NewSocketFromPacketConn(pc)
	if err != nil {
		return nil, fmt.Errorf("transport: uTP socket: %w", err)
	}
	return &UTP{s: s, buffers: b}, nil
}

// Buffers are the socket buffers the kernel granted the UDP socket.
func (u *UTP) Buffers() SocketBuffers { return u.buffers }

// PacketConn is the shared socket as the DHT sees it: it reads only the
// datagrams that are not uTP, and writes as the UDP socket does.
func (u *UTP) PacketConn() net.PacketConn { return u.s }

// Dial opens a uTP connection to addr (host:port).
func (u *UTP) Dial(ctx context.Context, addr string) (net.Conn, error) {
	return u.s.DialContext(ctx, "udp", addr)
}

// Accept waits for the next incoming uTP connection.
func (u *UTP) Accept() (net.Conn, error) { return u.s.Accept() }

// Close stops accepting and closes the UDP socket once the last uTP
// connection has closed.
func (u *UTP) Close() error { return u.s.Close() }

// CloseNow closes every uTP connection and the UDP socket at once.
func (u *UTP) CloseNow() error { return u.s.CloseNow() }
