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

// DialContext dials from inside the node's namespace (for an
// http.Transport that reaches a program's API on the node's loopback).
func (n *Node) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// ListenPacket opens a packet socket inside the node's namespace.
func (n *Node) ListenPacket(network, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := n.Do(func() error {
		var err error
		pc, err = net.ListenPacket(network, addr)
		return err
	})
	return pc, err
}

// Listen opens a stream listener inside the node's namespace.
func (n *Node) Listen(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := n.Do(func() error {
		var err error
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}
