package control_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/control"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

const testIH = "0123456789abcdef0123456789abcdef01234567"

// serve starts a loopback engine and its control server; both stop when
// the test ends, the server first.
func serve(t *testing.T) (dir string, srv *control.Server) {
	t.Helper()
	n := enginetest.Start(t, enginetest.Config(t))
	dir = n.Config.DataDir
	srv, err := control.Listen(dir, n.Engine, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("control server: %v", err)
		}
	})
	return dir, srv
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestAddThenStatus: a magnet handed over the socket becomes a transfer
// that status lists, with the network fields filled in.
func TestAddThenStatus(t *testing.T) {
	dir, _ := serve(t)
	ih, err := control.Add(ctx(t), dir, "magnet:?xt=urn:btih:"+testIH+"&dn=Heron+Count+2026.csv")
	if err != nil || ih != testIH {
		t.Fatalf("add: %q, %v", ih, err)
	}
	st, err := control.GetStatus(ctx(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.DataDir != dir || st.PID != os.Getpid() {
		t.Errorf("status names %q pid %d, want %q pid %d", st.DataDir, st.PID, dir, os.Getpid())
	}
	if len(st.Transfers) != 1 || st.Transfers[0].InfoHash != testIH || st.Transfers[0].Name != "Heron Count 2026.csv" {
		t.Fatalf("transfers %+v, want the added magnet", st.Transfers)
	}
	if st.Transfers[0].SavePath == "" || st.Transfers[0].State == "" {
		t.Errorf("transfer lacks save path or state: %+v", st.Transfers[0])
	}
	n := st.Network
	if n.Role != "leaf" || n.SupernodeLink != "not linked" || n.PortMapping == "" || n.Reachable == "" || n.PeerAddr == "" {
		t.Errorf("network view %+v", n)
	}
	// Adding again finds the same transfer rather than a second one.
	if ih, err := control.Add(ctx(t), dir, testIH); err != nil || ih != testIH {
		t.Errorf("second add: %q %v", ih, err)
	}
}

// TestAddTorrentFile: the client resolves a relative .torrent
// path; the server reads the file.
func TestAddTorrentFile(t *testing.T) {
	dir, _ := serve(t)
	wd := t.TempDir()
	t.Chdir(wd)
	if err := os.WriteFile("broken.torrent", []byte("d4:infoi1ee"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := control.Add(ctx(t), dir, "broken.torrent")
	if err == nil || !strings.HasPrefix(err.Error(), "Shoal could not add "+filepath.Join(wd, "broken.torrent")) {
		t.Fatalf("add of a bad .torrent: %v, want the server's message", err)
	}
	if _, err := control.Add(ctx(t), dir, "missing.torrent"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("add of a missing file: %v", err)
	}
	_, err = control.Add(ctx(t), dir, "magnet:?xt=urn:btih:nothex")
	if err == nil || !strings.HasPrefix(err.Error(), "Shoal could not add this magnet link") {
		t.Errorf("bad magnet: %v, want a message for people", err)
	}
}

func TestShow(t *testing.T) {
	dir, srv := serve(t)
	if shown, err := control.Show(ctx(t), dir); err != nil || shown {
		t.Fatalf("show without a window: %v %v, want false", shown, err)
	}
	raised := make(chan struct{}, 1)
	srv.OnShow(func() bool { raised <- struct{}{}; return true })
	if shown, err := control.Show(ctx(t), dir); err != nil || !shown {
		t.Fatalf("show: %v %v", shown, err)
	}
	<-raised
}

// TestSocketFile: the socket is 0600, replaces a stale one, and is gone
// once the server stops; then clients are told nothing runs.
func TestSocketFile(t *testing.T) {
	n := enginetest.Start(t, enginetest.Config(t))
	dir := n.Config.DataDir
	stale, err := net.Listen("unix", control.SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close() // a dead process's socket: the file stays, nobody listens
	if _, err := control.GetStatus(ctx(t), dir); !errors.Is(err, control.ErrNotRunning) {
		t.Fatalf("status on a stale socket: %v, want ErrNotRunning", err)
	}
	srv, err := control.Listen(dir, n.Engine, nil)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	st, err := os.Stat(srv.Path())
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket file %v %v, want a socket with mode 0600", st.Mode(), err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	if _, err := control.GetStatus(ctx(t), dir); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Run: %v, want it removed", err)
	}
	if _, err := control.GetStatus(ctx(t), dir); !errors.Is(err, control.ErrNotRunning) {
		t.Errorf("status after stop: %v, want ErrNotRunning", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".ctl-*")); len(entries) != 0 {
		t.Errorf("temporary folders left: %v", entries)
	}
}

// TestBadLines: garbage and over-long lines get an answer for people, and
// the connection serves the next request.
func TestBadLines(t *testing.T) {
	dir, _ := serve(t)
	c, err := net.Dial("unix", control.SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for _, line := range []string{"hello", `{"cmd":"rm -rf"}`, `{"cmd":"status"}`} {
		c.Write([]byte(line + "\n"))
		ans, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		wantOK := line == `{"cmd":"status"}`
		if strings.Contains(ans, `"ok":true`) != wantOK {
			t.Errorf("%q answered %q", line, ans)
		}
		if !wantOK && !strings.Contains(ans, "Shoal did not understand this request") {
			t.Errorf("%q answered %q, want a message for people", line, ans)
		}
	}
	c.Write([]byte(strings.Repeat("x", control.MaxRequestLine+10) + "\n"))
	ans, _ := r.ReadString('\n')
	if !strings.Contains(ans, "too long") {
		t.Errorf("over-long line answered %q", ans)
	}
}

// TestDeepDataFolder: a data folder whose socket path passes the 108-byte
// sockaddr_un limit still gets a working control socket.
func TestDeepDataFolder(t *testing.T) {
	cfg := enginetest.Config(t)
	cfg.DataDir = filepath.Join(cfg.DataDir, strings.Repeat("deep-folder-", 12))
	if len(control.SocketPath(cfg.DataDir)) <= 108 {
		t.Fatalf("path %d bytes: not deep enough", len(control.SocketPath(cfg.DataDir)))
	}
	n := enginetest.Start(t, cfg)
	srv, err := control.Listen(cfg.DataDir, n.Engine, nil)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	if _, err := os.Stat(control.SocketPath(cfg.DataDir)); err != nil {
		t.Fatalf("socket file: %v", err)
	}
	if st, err := control.GetStatus(ctx(t), cfg.DataDir); err != nil || st.DataDir != cfg.DataDir {
		t.Fatalf("status: %+v %v", st, err)
	}
}

// TestSilentInstance: an instance that accepts but never answers makes
// the client give up at its deadline with an error that says so.
func TestSilentInstance(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("unix", control.SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = control.GetStatus(c, dir)
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("status from a silent instance: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
}
