//go:build !deadlock

package locks

import "sync"

// Mutex is sync.Mutex, or go-deadlock's checked mutex under the tag.
type Mutex = sync.Mutex
