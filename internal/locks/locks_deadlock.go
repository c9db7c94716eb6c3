//go:build deadlock

package locks

import (
	"time"

	deadlock "github.com/sasha-s/go-deadlock"
)

func init() {
	// Slow tests under -race hold locks across long disk syncs; only an
	// inversion of lock order, or a lock held this long, is a finding.
	deadlock.Opts.DeadlockTimeout = 2 * time.Minute
}

// Mutex is go-deadlock's order-checking mutex.
type Mutex = deadlock.Mutex
