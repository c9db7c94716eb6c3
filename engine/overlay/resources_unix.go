//go:build unix

package overlay

import "syscall"

// descriptorsAllow reports whether the soft limit on open files leaves room
// for need more sockets beyond those open now.
func descriptorsAllow(need int) bool {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return false
	}
	if lim.Cur > 1<<40 { // unlimited
		return true
	}
	return int64(lim.Cur)-int64(openDescriptors()) >= int64(need)
}
