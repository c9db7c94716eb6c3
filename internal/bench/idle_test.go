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

// TestXWDPixels reads the pixels of a made-up XWD image: a 100-byte
// header, 2 colour-map entries of 12 bytes, then 4-byte pixels.
func TestXWDPixels(t *testing.T) {
	img := make([]byte, 100+2*12+3*4)
	put := func(i, v int) { binary.BigEndian.PutUint32(img[4*i:], uint32(v)) }
	put(0, 100) // header size
	put(11, 32) // bits per pixel
	put(19, 2)  // colour-map entries
	copy(img[124:], []byte{1, 2, 3, 4, 1, 2, 3, 4, 9, 9, 9, 9})
	px, bpp, err := xwdPixels(img)
	if err != nil || bpp != 4 || len(px) != 12 || px[8] != 9 {
		t.Fatalf("xwdPixels: %d bytes, %d per pixel, %v", len(px), bpp, err)
	}
	put(11, 40)
	if _, _, err := xwdPixels(img); err == nil {
		t.Error("5 bytes a pixel accepted")
	}
	if _, _, err := xwdPixels(img[:50]); err == nil {
		t.Error("a truncated header accepted")
	}
}
