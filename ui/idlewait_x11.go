//go:build linux && !wayland

package ui

/*
#cgo LDFLAGS: -lX11
#include <X11/Xlib.h>

static int shoalXFD(void *d) { return ConnectionNumber((Display *)d); }
static int shoalXPending(void *d) { return XPending((Display *)d); }
*/
import "C"

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/go-gl/glfw/v3.3/glfw"
	"golang.org/x/sys/unix"
)

// xWaiter parks the loop in Go's network poller, on a duplicate of the X
// connection's descriptor, rather than in GLFW's WaitEventsTimeout. Both
// end at the same events (anything from the X server, a wake, the
// timeout), but a goroutine blocked in a C call holds its P in a system
// call: the runtime's sysmon wakes to take the P back, and after that and
// after the call returns it polls every 20 µs for a while. In `strace -c
// -f` of an idle window over 30 s, nanosleeps (nearly all sysmon's) fell
// from 3,388 to 1,155, and sysmon's thread's CPU from 12 to 5 ticks
// (0.40% to 0.17% of a core). The wait runs on the main thread, where
// Xlib is used, so reading Xlib's queue there is safe.
type xWaiter struct {
	st    atomic.Pointer[xConn] // set by the first Wait, on the main thread
	woken atomic.Bool           // a Wake not yet seen by a Wait
	glfw  atomic.Bool           // no X connection: GLFW's own wait instead
}

// xConn is the X connection as the waiter polls it.
type xConn struct {
	display unsafe.Pointer
	f       *os.File // a duplicate of its descriptor, in Go's poller; never closed
	rc      syscall.RawConn
}

// GLFWWaiter parks Fyne's GLFW loop while the window is idle (see
// EventWaiter): Fyne 2.7 would otherwise poll and check for redraws 60
// times a second, which is most of an idle window's CPU. On X11 it waits
// in Go's poller (see xWaiter), elsewhere in glfw.WaitEventsTimeout.
func GLFWWaiter() EventWaiter {
	w := &xWaiter{}
	return EventWaiter{Wait: w.wait, Wake: w.wake}
}

// wait blocks until the X server sends anything, wake is called, or d
// passes. It runs on the main thread, inside the driver's loop.
func (w *xWaiter) wait(d time.Duration) {
	c := w.conn()
	if c == nil {
		glfwWait(d)
		return
	}
	// Xlib may hold events it read during the last frame (a round trip
	// reads whatever came before the reply): those never show on the
	// descriptor again. XPending also reads what the socket holds.
	if C.shoalXPending(c.display) > 0 {
		return
	}
	c.f.SetReadDeadline(time.Now().Add(d))
	// Wake sets woken before it moves the deadline: a wake that came
	// before the deadline above is seen here, a later one ends the read.
	if w.woken.Swap(false) {
		return
	}
	first := true
	c.rc.Read(func(fd uintptr) bool {
		if first { // data may have come after XPending, before the poller was armed
			first = false
			return readable(int(fd))
		}
		return true // the poller said readable: Fyne's next tick reads it
	})
	// The wake that ended this wait is spent (as GLFW drains its pipe):
	// left set, it would end the next wait at once. One that comes from
	// now on is for work the loop runs anyway as this wait returns.
	w.woken.Store(false)
}

// wake ends a wait under way, or the next one. Safe from any goroutine,
// before the first wait and after the driver stopped.
func (w *xWaiter) wake() {
	w.woken.Store(true)
	if c := w.st.Load(); c != nil {
		c.f.SetReadDeadline(time.Unix(1, 0))
	} else if w.glfw.Load() {
		glfwWake()
	}
}

// conn is the X connection, found on the first call (GLFW is initialised
// by then: the driver's loop is running), or nil without one.
func (w *xWaiter) conn() *xConn {
	if c := w.st.Load(); c != nil || w.glfw.Load() {
		return c
	}
	c := openXConn()
	if c == nil {
		w.glfw.Store(true)
		return nil
	}
	w.st.Store(c)
	return c
}

// openXConn puts a duplicate of GLFW's X connection in Go's poller, or
// returns nil (no X display, or a descriptor the poller cannot take).
func openXConn() (c *xConn) {
	defer func() {
		if r := recover(); r != nil { // go-gl panics when GLFW has no X display
			c = nil
		}
	}()
	display := unsafe.Pointer(glfw.GetX11Display())
	if display == nil {
		return nil
	}
	fd, err := unix.Dup(int(C.shoalXFD(display)))
	if err != nil {
		return nil
	}
	unix.CloseOnExec(fd)
	// os.NewFile puts a descriptor in the poller only if it is
	// non-blocking; the flag belongs to the socket, shared with Xlib's
	// descriptor, whose reads (XCB's) already expect it.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil
	}
	f := os.NewFile(uintptr(fd), "x11")
	rc, err := f.SyscallConn()
	if err != nil || f.SetReadDeadline(time.Time{}) != nil { // SetReadDeadline fails unless polled
		f.Close()
		return nil
	}
	return &xConn{display: display, f: f, rc: rc}
}

// readable reports whether fd has data to read now.
func readable(fd int) bool {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(p, 0)
	return err == nil && n > 0
}
