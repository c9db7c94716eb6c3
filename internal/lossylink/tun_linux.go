package lossylink

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// OpenTUN creates TUN device name (IFF_TUN|IFF_NO_PI: each read and
// write is one bare IP packet) in the network namespace called ns (as
// `ip netns` names it; "" for this process's own) and returns its file,
// non-blocking so that Close ends a pending Read. The device goes away
// when the file is closed. The caller brings it up (`ip link set NAME up`).
func OpenTUN(ns, name string) (*os.File, error) {
	if len(name) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("lossylink: tun name %q: longer than %d bytes", name, unix.IFNAMSIZ-1)
	}
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The thread enters ns and is never handed back to the scheduler:
		// the goroutine ends locked, so the runtime retires the thread.
		runtime.LockOSThread()
		if ns != "" {
			if err := enterNS(ns); err != nil {
				done <- result{err: err}
				return
			}
		}
		f, err := createTUN(name)
		done <- result{f, err}
	}()
	r := <-done
	return r.f, r.err
}

// enterNS moves the calling (locked) thread into network namespace ns.
func enterNS(ns string) error {
	fd, err := unix.Open(filepath.Join("/run/netns", ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("lossylink: open namespace %s: %w", ns, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("lossylink: enter namespace %s: %w", ns, err)
	}
	return nil
}

// ifreq is struct ifreq as TUNSETIFF reads it: a name and the flags.
type ifreq struct {
	name  [unix.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

func createTUN(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("lossylink: open /dev/net/tun: %w", err)
	}
	var req ifreq
	copy(req.name[:], name)
	req.flags = unix.IFF_TUN | unix.IFF_NO_PI
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); errno != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("lossylink: create tun %s: %w", name, errno)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+name), nil
}
