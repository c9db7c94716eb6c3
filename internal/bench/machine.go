package bench

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Settle lets the machine go quiet before a timed run: the page cache
// the last run dirtied is written back, and exited processes are gone.
func Settle() {
	syscall.Sync()
	deadline := time.Now().Add(30 * time.Second)
	for dirtyBytes() > 64<<20 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second)
}

// dirtyBytes is the page cache waiting to be written (Dirty plus
// Writeback in /proc/meminfo); 0 if unknown.
func dirtyBytes() int64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var total int64
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "Dirty:" || f[0] == "Writeback:") {
			var kib int64
			fmt.Sscan(f[1], &kib)
			total += kib << 10
		}
	}
	return total
}

// LoadAvg is the machine's 1, 5 and 15 minute load averages as
// /proc/loadavg has them, "?" if unknown: printed beside every table, since
// the figures depend on what else the machine was doing.
func LoadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
