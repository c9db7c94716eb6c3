package netguard

import (
	"context"
	"net"
	"syscall"
	"time"
)

// ListenShared is Listen with SO_REUSEADDR and SO_REUSEPORT set, so that
// DialFrom may open outgoing connections from the listening port: a TCP
// hole punch (BEP 55) needs the source port that the far NAT was told.
// Where the options do not exist it is Listen.
func (p Policy) ListenShared(network, addr string) (net.Listener, error) {
	if err := p.checkListen(addr); err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: reusePort}
	l, err := lc.Listen(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	return &listener{Listener: l, policy: p}, nil
}

// DialFrom connects to addr from local (a ListenShared listener's
// address) if the policy allows addr. The connection may also form by TCP
// simultaneous open, when addr dials us at the same time.
func (p Policy) DialFrom(ctx context.Context, network string, local *net.TCPAddr, addr string, timeout time.Duration) (net.Conn, error) {
	if err := p.CheckHostPort(addr); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: timeout, LocalAddr: local, Control: reusePort}
	return d.DialContext(ctx, network, addr)
}

// reusePort sets SO_REUSEADDR and SO_REUSEPORT on a socket before bind.
func reusePort(_, _ string, c syscall.RawConn) error {
	var err error
	cerr := c.Control(func(fd uintptr) { err = setReuse(fd) })
	if cerr != nil {
		return cerr
	}
	return err
}
