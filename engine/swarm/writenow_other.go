//go:build !unix

package swarm

import "syscall"

// writeNow writes nothing where a descriptor cannot be written without
// waiting through package syscall; the writer goroutine sends everything.
func writeNow(syscall.RawConn, []byte) int { return 0 }
