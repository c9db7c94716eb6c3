package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSelected(t *testing.T) {
	t.Setenv(RowsEnv, "")
	if Picking() || !Selected("anything") {
		t.Fatal("with BENCH_ROWS unset every row runs")
	}
	t.Setenv(RowsEnv, "Shoal → Shoal|uTP")
	for name, want := range map[string]bool{
		"Shoal → Shoal":                       true,
		"qBittorrent → qBittorrent, uTP only": true,
		"aria2 → aria2":                       false,
	} {
		if got := Selected(name); got != want {
			t.Errorf("Selected(%q) = %v, want %v", name, got, want)
		}
	}
	if !Picking() {
		t.Error("Picking with BENCH_ROWS set")
	}
}

func TestRuns(t *testing.T) {
	t.Setenv("BENCH_RUNS", "")
	if got := Runs(t, 5); got != 5 {
		t.Errorf("unset: %d, want the default 5", got)
	}
	t.Setenv("BENCH_RUNS", "3")
	if got := Runs(t, 5); got != 3 {
		t.Errorf("BENCH_RUNS=3: %d", got)
	}
}

func TestContentAndCheckCopy(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a", "content.bin")
	if err := WriteContent(src, 3<<20+17); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(src); err != nil || fi.Size() != 3<<20+17 {
		t.Fatalf("content: %v, %v", fi, err)
	}
	sum, err := SHA1File(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCopy(src, sum); err != nil {
		t.Errorf("the content itself: %v", err)
	}
	other := filepath.Join(dir, "other.bin")
	if err := WriteContent(other, 3<<20+17); err != nil {
		t.Fatal(err)
	}
	if err := CheckCopy(other, sum); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("a different copy: %v", err)
	}
	if err := CheckCopy(filepath.Join(dir, "missing"), sum); err == nil {
		t.Error("a missing copy passed")
	}
}

func TestProcFigures(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs Linux /proc")
	}
	pid := os.Getpid()
	if _, err := CPU(pid); err != nil {
		t.Error(err)
	}
	if RSS(pid) <= 0 || Threads(pid) <= 0 || FDs(pid) <= 0 {
		t.Errorf("RSS %d, threads %d, fds %d: want all positive", RSS(pid), Threads(pid), FDs(pid))
	}
	if pct, err := CPUOver(pid, 50*time.Millisecond); err != nil || pct < 0 {
		t.Errorf("CPUOver: %v, %v", pct, err)
	}
	if _, err := CPU(1 << 30); err == nil {
		t.Error("a process that does not exist has a CPU time")
	}
	if LoadAvg() == "?" {
		t.Error("no load average from /proc/loadavg")
	}
}

func TestTail(t *testing.T) {
	var w Tail
	w.Write([]byte("start "))
	w.Write([]byte(strings.Repeat("x", 5000)))
	w.Write([]byte(" end"))
	if s := w.String(); len(s) != 4096 || !strings.HasSuffix(s, "x end") || strings.Contains(s, "start") {
		t.Errorf("kept %d bytes ending %q", len(s), s[len(s)-8:])
	}
}
