package netlab

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread inside the node's network namespace: sockets
// fn opens belong to the namespace and keep working from any goroutine
// afterwards. The thread is retired after fn, never reused.
func (n *Node) Do(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the runtime retires the thread
		fd, err := unix.Open(filepath.Join("/run/netns", n.NS), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- fmt.Errorf("netlab: open namespace %s: %w", n.Name, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			done <- fmt.Errorf("netlab: enter namespace %s: %w", n.Name, err)
			return
		}
		done <- fn()
	}()
	return <-done
}

// inNS runs open inside n's namespace (Do) and returns what it opened.
func inNS[T any](n *Node, open func() (T, error)) (T, error) {
	var v T
	err := n.Do(func() error {
		var err error
		v, err = open()
		return err
	})
	return v, err
}

// DialContext dials from inside the node's namespace (for an
// http.Transport that reaches a program's API on the node's loopback).
func (n *Node) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return inNS(n, func() (net.Conn, error) { return (&net.Dialer{}).DialContext(ctx, network, addr) })
}

// ListenPacket opens a packet socket inside the node's namespace.
func (n *Node) ListenPacket(network, addr string) (net.PacketConn, error) {
	return inNS(n, func() (net.PacketConn, error) { return net.ListenPacket(network, addr) })
}

// Listen opens a stream listener inside the node's namespace.
func (n *Node) Listen(network, addr string) (net.Listener, error) {
	return inNS(n, func() (net.Listener, error) { return net.Listen(network, addr) })
}
