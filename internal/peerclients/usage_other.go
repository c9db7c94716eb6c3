//go:build !linux

package peerclients

import "time"

// Usage is not measured on this system: always zeros.
func (p *Proc) Usage() (cpu time.Duration, peakRSS int64) { return 0, 0 }
