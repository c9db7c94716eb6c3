package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The GUI row of the idle-library table: `shoal gui` on a library of
// BENCH_GUI_SIZE items (default 1,000; the first of the sizes in smoke
// mode), under a private Xvfb with Mesa's software renderer (llvmpipe),
// the window on the Transfers tab (SHOAL_GUI_TAB). Ready is the time from
// exec until the window's first frame is on the X server: every 25 ms the
// bench looks for the window named "Shoal" and reads its pixels (xWatch)
// until they hold at least guiPaintedColors distinct colours (an
// unpainted GL window is one colour, black); the figure is late by at most
// one poll and one read. Then, as for the daemon, CPU over the idle period
// and RSS, fds and threads at its end.

// guiPaintedColors is how many distinct pixel values make a window count
// as painted: Fyne's window has text, icons and a background.
const guiPaintedColors = 8

// benchGUIIdle shares paths from a fresh data folder with the daemon, then
// measures the GUI started on that folder (a fresh one when paths is
// empty: one engine, nothing shared, no transfers).
func benchGUIIdle(t *testing.T, cfg idleConfig, paths []string) idleRow {
	row := idleRow{client: "Shoal GUI", torrents: len(paths), hashed: -1}
	if _, err := exec.LookPath("Xvfb"); err != nil {
		row.note = "n/a: Xvfb is missing (make deps installs it)"
		return row
	}
	data := t.TempDir()
	if len(paths) > 0 {
		var err error
		if data, err = shareIdleLibrary(t, cfg, paths); err != nil {
			row.note = err.Error()
			return row
		}
	}
	cmd := exec.Command(cfg.opt.Shoal, "gui", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none", "--data", data)
	cmd.Env = []string{"SHOAL_GUI_TAB=transfers"}
	if p := os.Getenv("BENCH_GUI_CPUPROFILE"); p != "" {
		cmd.Env = append(cmd.Env, "SHOAL_CPUPROFILE_IDLE="+p)
	}
	return measureWindow(t, cfg, row, cmd)
}

// benchFyneFloor measures an empty Fyne window (Options.FyneFloor) as
// benchGUIIdle measures the GUI: the floor under any Fyne 2.7 app's idle
// cost here (its 60 Hz event loop), on the same X server and renderer.
func benchFyneFloor(t *testing.T, cfg idleConfig) idleRow {
	row := idleRow{client: "empty Fyne window", hashed: -1}
	bin := filepath.Join(t.TempDir(), "fynefloor")
	if out, err := exec.Command("go", "build", "-o", bin, cfg.opt.FyneFloor).CombinedOutput(); err != nil {
		row.note = fmt.Sprintf("build: %v: %s", err, out)
		return row
	}
	return measureWindow(t, cfg, row, exec.Command(bin))
}

// measureWindow runs cmd (extra environment in cmd.Env) on a private Xvfb
// and fills row with the time to its first painted frame and its idle
// figures.
func measureWindow(t *testing.T, cfg idleConfig, row idleRow, cmd *exec.Cmd) idleRow {
	display, env := cfg.opt.X(t)
	cmd.Env = append(append(env, "GALLIUM_DRIVER=llvmpipe", "LANG=en_US.UTF-8"), cmd.Env...)
	var stderr Tail
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		row.note = err.Error()
		return row
	}
	defer stopGUI(cmd)
	if err := waitPainted(display, cmd, time.Minute); err != nil {
		row.note = fmt.Sprintf("%v: %s", err, stderr.String())
		return row
	}
	row.ready = time.Since(start)
	if err := row.measure(cmd.Process.Pid, cfg.idle); err != nil {
		row.note = err.Error()
	}
	return row
}

// shareIdleLibrary shares paths with a daemon on a fresh data folder and
// stops it, leaving the folder to start on.
func shareIdleLibrary(t *testing.T, cfg idleConfig, paths []string) (string, error) {
	data := t.TempDir()
	args := IdleDaemonArgs(data)
	for _, p := range paths {
		args = append(args, "--share", p)
	}
	d, _, err := StartIdleShoal(cfg.opt.Shoal, args, 20*time.Minute)
	if err != nil {
		return "", fmt.Errorf("sharing: %w", err)
	}
	if err := d.Interrupt(); err != nil {
		return "", fmt.Errorf("stopping after sharing: %w", err)
	}
	return data, nil
}

// stopGUI ends the GUI with SIGINT (as Ctrl-C would), or kills it.
func stopGUI(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// waitPainted waits until the window named "Shoal" on display shows a
// painted frame, polling every 25 ms over one X connection (see xWatch).
func waitPainted(display string, cmd *exec.Cmd, timeout time.Duration) error {
	x, err := dialX(display)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", display, err)
	}
	defer x.close()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cmd.ProcessState != nil {
			return fmt.Errorf("the GUI exited")
		}
		if w := x.window("Shoal"); w != 0 {
			if n, err := x.colors(w); err == nil && n >= guiPaintedColors {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("no painted window within %v", timeout)
}

// guiTargets compares a GUI row with the issues' targets. With nothing
// shared (the desktop issue): idle CPU at most 1% of a core, RSS at most
// 120 MiB, first frame within 1 s. With a library (the robustness issue,
// 1,000 items): idle CPU under 2%. Beside them, what the GUI adds to the
// empty Fyne window measured in the same run (floor), the part Shoal's
// own code can cut.
func guiTargets(r, floor idleRow) string {
	var tg Targets
	if r.torrents == 0 {
		tg.Check(r.cpu <= 1, "CPU ≤ 1%")
		tg.Check(r.rss <= 120<<20, "RSS ≤ 120 MiB")
		tg.Check(r.ready <= time.Second, "first frame ≤ 1 s")
	} else {
		tg.Check(r.cpu < 2, "CPU < 2%")
	}
	s := tg.String()
	if floor.client != "" {
		s += fmt.Sprintf("; over the empty Fyne window: %+.2f%% CPU, %+.1f MiB", r.cpu-floor.cpu, float64(r.rss-floor.rss)/(1<<20))
	}
	return s + memSplit(r.mem)
}

// memSplit says what a window's RSS is made of: the pages it shares with
// other processes (the X server's copy of the renderer's libraries), what
// it alone holds, and its proportional share ("" when unknown).
func memSplit(m Rollup) string {
	if m == (Rollup{}) {
		return ""
	}
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	return fmt.Sprintf("; RSS = %.1f MiB shared with other processes + %.1f MiB private (PSS %.1f MiB)",
		mib(m.Shared), mib(m.Private), mib(m.PSS))
}
