//go:build linux

package netguard

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestWriteToTTL: a datagram sent with WriteToTTL arrives with the TTL
// asked for (read back with IP_RECVTTL), the next plain WriteTo with the
// socket's default again, and a destination outside the policy is
// refused before sending.
func TestWriteToTTL(t *testing.T) {
	pc, err := loop.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	rc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	raw, err := rc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	raw.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVTTL, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	w := pc.(interface {
		WriteToTTL([]byte, net.Addr, int) (int, error)
	})
	if _, err := w.WriteToTTL([]byte("opener"), rc.LocalAddr(), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.WriteTo([]byte("plain"), rc.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if body, ttl := readTTL(t, rc); body != "opener" || ttl != 2 {
		t.Errorf("got %q with TTL %d, want \"opener\" with TTL 2", body, ttl)
	}
	if body, ttl := readTTL(t, rc); body != "plain" || ttl <= 2 {
		t.Errorf("got %q with TTL %d, want \"plain\" with the default TTL", body, ttl)
	}
	if _, err := w.WriteToTTL([]byte("x"), &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 9}, 2); err == nil {
		t.Error("WriteToTTL sent outside the policy")
	}
}

// readTTL reads one datagram from c and the TTL it arrived with.
func readTTL(t *testing.T, c *net.UDPConn) (string, int) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, oob := make([]byte, 64), make([]byte, 64)
	n, oobn, _, _, err := c.ReadMsgUDP(b, oob)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_TTL && len(m.Data) >= 1 {
			return string(b[:n]), int(m.Data[0])
		}
	}
	t.Fatal("no TTL in the control messages")
	return "", 0
}
