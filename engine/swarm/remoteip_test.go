package swarm

import (
	"bytes"
	"net"
	"testing"
)

// addrConn is a connection that only knows its remote address.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// TestRemoteIPEveryTransport: the yourip we send is the peer's IP whatever
// carries the connection: TCP, uTP (a UDP address), IPv4-mapped, IPv6.
func TestRemoteIPEveryTransport(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want []byte
	}{
		{&net.TCPAddr{IP: net.IPv4(203, 0, 113, 12), Port: 42042}, []byte{203, 0, 113, 12}},
		{&net.UDPAddr{IP: net.IPv4(203, 0, 113, 12), Port: 42042}, []byte{203, 0, 113, 12}},
		{&net.UDPAddr{IP: net.ParseIP("::ffff:198.51.100.7"), Port: 1}, []byte{198, 51, 100, 7}},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 6881}, net.ParseIP("2001:db8::1").To16()},
		{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, nil},
	} {
		if got := remoteIP(addrConn{remote: tc.addr}); !bytes.Equal(got, tc.want) {
			t.Errorf("remoteIP(%v) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
