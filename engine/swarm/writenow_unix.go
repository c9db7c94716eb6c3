//go:build unix

package swarm

import "syscall"

// writeNow writes as much of b as the socket takes without waiting and
// returns how much that was. It holds the descriptor's write lock, so it
// never interleaves with another write on the connection.
func writeNow(rc syscall.RawConn, b []byte) int {
	n := 0
	_ = rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, err := syscall.Write(int(fd), b[n:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil || m <= 0 {
				break
			}
			n += m
		}
		return true // never wait for the socket
	})
	return n
}
