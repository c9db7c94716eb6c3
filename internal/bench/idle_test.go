package bench

import (
	"encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMedianRow(t *testing.T) {
	runs := []idleRow{
		{client: "Shoal", torrents: 300, ready: 3 * time.Second, cpu: 0.5, rss: 30 << 20, fds: 20, routines: 30, hashed: 0},
		{client: "Shoal", torrents: 300, ready: time.Second, cpu: 0.1, rss: 10 << 20, fds: 22, routines: 31, hashed: 4},
		{client: "Shoal", torrents: 300, ready: 2 * time.Second, cpu: 0.3, rss: 20 << 20, fds: 21, routines: 32, hashed: 0},
	}
	r := medianRow(runs)
	if r.runs != 3 || r.ready != 2*time.Second || r.cpu != 0.3 || r.rss != 20<<20 || r.fds != 21 || r.routines != 31 {
		t.Errorf("medians: %+v", r)
	}
	if r.hashed != 4 {
		t.Errorf("hashed = %d, want the most of any start (4)", r.hashed)
	}
	if want := "runs: ready s 3.00, 1.00, 2.00, CPU % 0.50, 0.10, 0.30"; r.detail != want {
		t.Errorf("detail = %q, want %q", r.detail, want)
	}
}

func TestIdleTargets(t *testing.T) {
	tr := idleRow{client: "Transmission", torrents: 300, cpu: 0.1, rss: 10 << 20}
	s := idleRow{client: "Shoal", torrents: 300, cpu: 0.3, rss: 30 << 20, fds: 21, ready: time.Second}
	want := "MISSED: CPU ≤ 2× Transmission (0.20%); met: RSS ≤ 4× Transmission (40.0 MiB); met: fds < 300; met: ready ≤ 3 s; met: no rehash"
	if got := idleTargets(s, tr); got != want {
		t.Errorf("idleTargets = %q, want %q", got, want)
	}
	if got := idleTargets(s, idleRow{}); strings.Contains(got, "Transmission") {
		t.Errorf("without a Transmission row: %q", got)
	}
	gui := idleRow{client: "Shoal GUI", cpu: 0.5, rss: 150 << 20, ready: 2 * time.Second}
	floor := idleRow{client: "empty Fyne window", cpu: 0.25, rss: 140 << 20}
	want = "met: CPU ≤ 1%; MISSED: RSS ≤ 120 MiB; MISSED: first frame ≤ 1 s; over the empty Fyne window: +0.25% CPU, +10.0 MiB"
	if got := guiTargets(gui, floor); got != want {
		t.Errorf("guiTargets = %q, want %q", got, want)
	}
	gui.mem = Rollup{PSS: 120 << 20, Private: 100 << 20, Shared: 50 << 20}
	want += "; RSS = 50.0 MiB shared with other processes + 100.0 MiB private (PSS 120.0 MiB)"
	if got := guiTargets(gui, floor); got != want {
		t.Errorf("with the memory split: guiTargets = %q, want %q", got, want)
	}
}

// TestMemRollup reads this test's own smaps_rollup: private and shared
// add up to about its RSS, and PSS lies between private and RSS.
func TestMemRollup(t *testing.T) {
	m, rss := MemRollup(os.Getpid()), RSS(os.Getpid())
	if m.Private <= 0 || m.PSS < m.Private || m.PSS > m.Private+m.Shared {
		t.Fatalf("MemRollup = %+v", m)
	}
	if sum := m.Private + m.Shared; sum < rss*9/10 || sum > rss*11/10 {
		t.Errorf("private+shared = %d, RSS %d", sum, rss)
	}
}

func TestIdleConfigFor(t *testing.T) {
	t.Setenv("BENCH_IDLE_CLIENTS", "shoal, gui")
	t.Setenv("BENCH_IDLE_SIZES", "10,20")
	t.Setenv("BENCH_IDLE_RUNS", "4")
	t.Setenv("BENCH_IDLE_SECS", "9")
	t.Setenv("BENCH_GUI_SIZE", "20")
	c := idleConfigFor(t, false)
	if !slices.Equal(c.sizes, []int{10, 20}) || c.runs != 4 || c.idle != 9*time.Second || c.guiSize != 20 ||
		!c.clients["shoal"] || !c.clients["gui"] || c.clients["transmission"] {
		t.Errorf("full: %+v", c)
	}
	if c := idleConfigFor(t, true); !slices.Equal(c.sizes, []int{300}) || c.runs != 2 || c.idle != 5*time.Second || c.clients["transmission"] {
		t.Errorf("smoke (sizes fixed, clients still picked): %+v", c)
	}
}

// TestDistinctPixels counts the colours of made-up pixel rows: runs of
// one value, values met again after others, and the 256 cap.
func TestDistinctPixels(t *testing.T) {
	px := func(vals ...uint32) []byte {
		b := make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(b[4*i:], v)
		}
		return b
	}
	cases := []struct {
		b    []byte
		bpp  int
		want int
	}{
		{px(0, 0, 0, 0), 4, 1},                    // unpainted: one colour
		{px(0xffffffff, 0xffffffff), 4, 1},        // the first pixel counts whatever its value
		{px(1, 1, 2, 2, 1, 3, 2), 4, 3},           // a value met again after others counts once
		{[]byte{1, 2, 3, 1, 2, 3, 4, 5, 6}, 3, 2}, // 3 bytes a pixel
		{px(1, 2), 5, 0},                          // no such pixel size
	}
	for _, c := range cases {
		if got := distinctPixels(c.b, c.bpp); got != c.want {
			t.Errorf("distinctPixels(%v, %d) = %d, want %d", c.b, c.bpp, got, c.want)
		}
	}
	many := make([]uint32, 1000)
	for i := range many {
		many[i] = uint32(i)
	}
	if got := distinctPixels(px(many...), 4); got != 256 {
		t.Errorf("1000 colours counted as %d, want the cap of 256", got)
	}
}
