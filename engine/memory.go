package engine

import (
	"context"
	"runtime/debug"
	"time"
)

// startupSettle is how long after Run starts the heap the start needed
// only for the while is given back to the OS (see releaseStartupMemory).
const startupSettle = 10 * time.Second

// startupRelease is when and how an engine gives back the memory of its
// start: after startupSettle, debug.FreeOSMemory; tests change both.
type startupRelease struct {
	after time.Duration
	free  func()
}

// releaseStartupMemory gives back to the OS, once a start has settled,
// the memory that loading the library used only for the while (parsed
// rows, the first announce and search-index work). Without it the
// process keeps that peak resident for as long as it runs idle: the
// runtime's background scavenger only returns memory above what the
// heap may grow back to before its next collection, twice the live heap.
// With 10,000 shared items that peak is tens of MiB over what they hold.
func (e *Engine) releaseStartupMemory(ctx context.Context) error {
	r := e.startRel
	if r.free == nil {
		r = startupRelease{after: startupSettle, free: debug.FreeOSMemory}
	}
	select {
	case <-ctx.Done():
	case <-time.After(r.after):
		r.free()
	}
	return nil
}
