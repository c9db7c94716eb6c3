//go:build linux

package peerclients

import (
	"syscall"
	"time"
)

// Usage is the exited process's CPU time (user+system) and peak RSS in
// bytes; zeros before it has exited.
func (p *Proc) Usage() (cpu time.Duration, peakRSS int64) {
	if !p.Exited() {
		return 0, 0
	}
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, int64(ru.Maxrss) << 10 // Linux reports KiB
}
