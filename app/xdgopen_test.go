package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/control"
)

// TestXdgOpenReachesRunningApp installs the desktop file as `make
// install-desktop` does, in a temporary HOME, then, under a private Xvfb:
//   - `shoal gui LINK` with no instance running starts the window with the
//     link added;
//   - `xdg-open MAGNET` and `xdg-open FILE.torrent` reach that window
//     through the desktop file and the control socket;
//   - a second plain `shoal` hands over (raises the window) and exits 0;
//
// each checked through `shoal status --json`. The installed "shoal" is a
// wrapper that adds --loopback-only, so nothing can leave the machine even
// if a hand-over failed and a second app started.
func TestXdgOpenReachesRunningApp(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdg-open", "xdg-mime", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is missing (make deps installs it): %v", tool, err)
		}
	}
	env := xdgEnv(t, startXvfb(t))
	home := envValue(env, "HOME")
	bin := filepath.Join(home, "bin")
	os.MkdirAll(bin, 0o755)
	wrapper := "#!/bin/sh\nexec " + shoalBin + " --loopback-only --bootstrap none --listen 127.0.0.1:0 \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "shoal"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := runEnv(t, env, "", "make", "-s", "-C", "..", "install-desktop", "BINDIR="+bin); err != nil {
		t.Fatalf("make install-desktop: %v\n%s", err, out)
	}
	if out, _ := runEnv(t, env, "", "xdg-mime", "query", "default", "x-scheme-handler/magnet"); strings.TrimSpace(out) != "io.github.shoalp2p.shoal.desktop" {
		t.Fatalf("magnet handler after install: %q", out)
	}

	ih1, ih2 := strings.Repeat("a1", 20), strings.Repeat("b2", 20)
	gui := startGUI(t, env, "magnet:?xt=urn:btih:"+ih1+"&dn=Puffin+Census")
	st := waitStatus(t, env, func(s statusJSON) bool { return s.has(ih1) })
	if st.PID != gui.Process.Pid {
		t.Fatalf("status answered by pid %d, want the window's %d", st.PID, gui.Process.Pid)
	}

	if out, err := runEnv(t, env, "", "xdg-open", "magnet:?xt=urn:btih:"+ih2+"&dn=Seal+Count"); err != nil {
		t.Fatalf("xdg-open magnet: %v\n%s", err, out)
	}
	waitStatus(t, env, func(s statusJSON) bool { return s.has(ih2) })

	wd := t.TempDir()
	os.WriteFile(filepath.Join(wd, "Tern Nests.csv"), bytes.Repeat([]byte("tern,2\n"), 3000), 0o644)
	out, err := runEnv(t, env, wd, shoalBin, "create", "--tracker", "http://127.0.0.1:1/announce",
		"-o", "terns.torrent", "Tern Nests.csv") // "d8:announce" first: how file(1) knows a torrent
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	ih3 := strings.Fields(out)[0]
	if ft, _ := runEnv(t, env, "", "xdg-mime", "query", "filetype", filepath.Join(wd, "terns.torrent")); !strings.Contains(ft, "application/x-bittorrent") {
		t.Logf("this system types a .torrent as %q, not application/x-bittorrent; skipping xdg-open of the file", strings.TrimSpace(ft))
	} else {
		if out, err := runEnv(t, env, "", "xdg-open", filepath.Join(wd, "terns.torrent")); err != nil {
			t.Fatalf("xdg-open .torrent: %v\n%s", err, out)
		}
		waitStatus(t, env, func(s statusJSON) bool { return s.has(ih3) })
	}

	// A second start without a link raises the first window and exits.
	if out, err := runEnv(t, env, "", filepath.Join(bin, "shoal")); err != nil {
		t.Fatalf("second start: %v\n%s", err, out)
	}
	if st := waitStatus(t, env, func(statusJSON) bool { return true }); st.PID != gui.Process.Pid {
		t.Errorf("after a second start, status answered by pid %d, want %d", st.PID, gui.Process.Pid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if shown, err := control.Show(ctx, st.DataDir); err != nil || !shown {
		t.Errorf("show to the window: shown=%v, %v; want the window raised", shown, err)
	}
}

// startXvfb runs a private X server and returns its display (":N").
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb gave no display number")
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatal("Xvfb did not start within 20s")
	}
	return ""
}

// xdgEnv is this process's environment with a temporary HOME and XDG
// folders, the given display, and no desktop-session hints (so xdg-open
// takes its generic path, as on a plain X session).
func xdgEnv(t *testing.T, display string) []string {
	home := t.TempDir()
	drop := map[string]bool{"HOME": true, "XDG_DATA_HOME": true, "XDG_CONFIG_HOME": true, "XDG_CACHE_HOME": true,
		"DISPLAY": true, "WAYLAND_DISPLAY": true, "XDG_CURRENT_DESKTOP": true, "DESKTOP_SESSION": true,
		"KDE_FULL_SESSION": true, "GNOME_DESKTOP_SESSION_ID": true, "BROWSER": true, "XDG_RUNTIME_DIR": true,
		"DBUS_SESSION_BUS_ADDRESS": true}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, ".local/share"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"DISPLAY="+display, "GALLIUM_DRIVER=softpipe", "LANG=C.UTF-8")
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(env[i], "="); k == key {
			return v
		}
	}
	return ""
}

// runEnv runs a command with env in wd and returns its output; a failure
// carries its stderr.
func runEnv(t *testing.T, env []string, wd, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, wd
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%w; stderr: %s", err, stderr.String())
	}
	return string(out), err
}

// guiProc is a `shoal gui` process; done closes when it has exited, with
// err its exit status.
type guiProc struct {
	*exec.Cmd
	done   chan struct{}
	err    error
	stderr bytes.Buffer
}

// startGUI starts `shoal gui` (loopback only, default data folder of env)
// with links; it is stopped with SIGINT when the test ends.
func startGUI(t *testing.T, env []string, links ...string) *guiProc {
	t.Helper()
	args := append([]string{"gui", "--loopback-only", "--bootstrap", "none", "--listen", "127.0.0.1:0"}, links...)
	g := &guiProc{Cmd: exec.Command(shoalBin, args...), done: make(chan struct{})}
	g.Env, g.Stderr = env, &g.stderr
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.err = g.Wait(); close(g.done) }()
	t.Cleanup(func() {
		g.Process.Signal(syscall.SIGINT)
		select {
		case <-g.done:
			if g.err != nil {
				t.Errorf("window exit after SIGINT: %v\n%s", g.err, g.stderr.String())
			}
		case <-time.After(30 * time.Second):
			g.Process.Kill()
			t.Errorf("window did not stop within 30s of SIGINT")
		}
	})
	return g
}

// waitStatus polls `shoal status --json` (default data folder of env)
// until ok holds, for up to 30 s.
func waitStatus(t *testing.T, env []string, ok func(statusJSON) bool) statusJSON {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, shoalBin, "status", "--json")
		cmd.Env = env
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		cancel()
		var st statusJSON
		if err == nil && json.Unmarshal(o.Bytes(), &st) == nil && ok(st) {
			return st
		}
		last = o.String() + e.String()
		if err != nil && !errors.As(err, new(*exec.ExitError)) {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("status did not reach the expected state within 30s; last answer:\n%s", last)
	return statusJSON{}
}

// TestTwoLinksAtOnceStartOneApp: two `shoal gui LINK` started together
// with no instance running (a browser opening two magnets) make one window
// holding both links; the start that lost the folder hands its link over
// and exits 0.
func TestTwoLinksAtOnceStartOneApp(t *testing.T) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skipf("Xvfb is missing (make deps installs it): %v", err)
	}
	env := xdgEnv(t, startXvfb(t))
	ihs := []string{strings.Repeat("c3", 20), strings.Repeat("d4", 20)}
	a := startGUI(t, env, "magnet:?xt=urn:btih:"+ihs[0])
	b := startGUI(t, env, "magnet:?xt=urn:btih:"+ihs[1])
	var loser, winner *guiProc
	select {
	case <-a.done:
		loser, winner = a, b
	case <-b.done:
		loser, winner = b, a
	case <-time.After(40 * time.Second):
		t.Fatal("neither start handed over within 40s")
	}
	if loser.err != nil {
		t.Fatalf("the start that lost the folder: %v\n%s", loser.err, loser.stderr.String())
	}
	st := waitStatus(t, env, func(s statusJSON) bool { return s.has(ihs[0]) && s.has(ihs[1]) })
	if st.PID != winner.Process.Pid {
		t.Errorf("status answered by pid %d, want the remaining window's %d", st.PID, winner.Process.Pid)
	}
}
