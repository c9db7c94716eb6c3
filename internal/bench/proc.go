package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPU is a process's user+system CPU time so far (Linux /proc).
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("process %d gone: %w", pid, err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// CPUOver is the CPU a process uses over the next d, in % of one core.
func CPUOver(pid int, d time.Duration) (float64, error) {
	before, err := CPU(pid)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	time.Sleep(d)
	after, err := CPU(pid)
	if err != nil {
		return 0, err
	}
	return 100 * (after - before).Seconds() / time.Since(start).Seconds(), nil
}

// RSS is a process's resident set in bytes (0 if unknown).
func RSS(pid int) int64 { return status(pid, "VmRSS:") << 10 }

// Rollup is a process's memory from /proc/pid/smaps_rollup, in bytes:
// what RSS leaves unsaid. Shared is resident pages other processes map
// too (under Xvfb, the X server maps the same Mesa and libLLVM pages as a
// GL client, so they count in both RSS figures); Private is what the
// process alone holds, the memory its exit gives back; PSS splits each
// shared page among the processes that map it.
type Rollup struct{ PSS, Private, Shared int64 }

// MemRollup reads pid's smaps_rollup (zero figures if unreadable).
func MemRollup(pid int) Rollup {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return Rollup{}
	}
	var r Rollup
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kib, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "Pss:":
			r.PSS = kib << 10
		case "Private_Clean:", "Private_Dirty:":
			r.Private += kib << 10
		case "Shared_Clean:", "Shared_Dirty:":
			r.Shared += kib << 10
		}
	}
	return r
}

// Threads is a process's thread count (0 if unknown).
func Threads(pid int) int { return int(status(pid, "Threads:")) }

// status is the number after key in /proc/pid/status (0 if unknown).
func status(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == key {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// FDs counts a process's open file descriptors.
func FDs(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// Tail keeps the last 4 KiB written to it: a child's stderr, for the
// note of a row that failed.
type Tail struct{ b []byte }

// Write keeps the end of what was written so far; it never fails.
func (w *Tail) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if len(w.b) > 4096 {
		w.b = w.b[len(w.b)-4096:]
	}
	return len(p), nil
}

// String is what Tail has kept.
func (w *Tail) String() string { return string(w.b) }
