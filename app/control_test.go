package main

import (
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

// statusJSON is the part of `shoal status --json` the tests read; the keys
// are the documented ones (network.reachable, ...).
type statusJSON struct {
	DataDir   string `json:"data_dir"`
	PID       int    `json:"pid"`
	Transfers []struct {
		InfoHash string  `json:"infohash"`
		Name     string  `json:"name"`
		State    string  `json:"state"`
		Progress float64 `json:"progress"`
		SavePath string  `json:"save_path"`
	} `json:"transfers"`
	Ratio struct {
		Uploaded   *int64 `json:"uploaded"`
		Downloaded *int64 `json:"downloaded"`
	} `json:"ratio"`
	Network map[string]any `json:"network"`
}

// shoalIn runs the binary in a working folder.
func shoalIn(t *testing.T, wd string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, shoalBin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = wd, &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func getStatus(t *testing.T, dir string) statusJSON {
	t.Helper()
	out, stderr, err := shoalIn(t, "", "status", "--json", "--data", dir)
	if err != nil {
		t.Fatalf("status --json: %v %s", err, stderr)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json output %q: %v", out, err)
	}
	return st
}

func (s statusJSON) has(ih string) bool {
	for _, tr := range s.Transfers {
		if tr.InfoHash == ih {
			return true
		}
	}
	return false
}

// TestStatusWithoutInstance: no instance on the folder gives a message
// that says so and how to start one, and a non-zero exit.
func TestStatusWithoutInstance(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"status", "--data", dir}, {"add", "--data", dir, "magnet:?xt=urn:btih:" + strings.Repeat("ab", 20)}} {
		_, stderr, err := shoalIn(t, "", args...)
		lines := shoalLines(stderr)
		if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "No Shoal is running with data folder "+dir+".") ||
			!strings.Contains(lines[0], "shoal daemon") {
			t.Errorf("%v: err %v, stderr %q", args[0], err, stderr)
		}
	}
}

// TestAddAndStatusThroughDaemon: `shoal add` (magnet, relative .torrent
// path, bare infohash), `shoal MAGNET` and `shoal gui MAGNET` all hand
// their link to the running daemon and exit 0; `shoal status --json`
// lists every one with the network fields, and plain `shoal status` shows
// a table. Once the daemon stops, the socket is gone.
func TestAddAndStatusThroughDaemon(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--data", dir, "--bootstrap", "none")

	wd := t.TempDir()
	os.WriteFile(filepath.Join(wd, "Otter Sightings.csv"), bytes.Repeat([]byte("otter,1\n"), 5000), 0o644)
	out, stderr, err := shoalIn(t, wd, "create", "-o", "otters.torrent", "Otter Sightings.csv")
	if err != nil {
		t.Fatalf("create: %v %s", err, stderr)
	}
	torrentIH := strings.Fields(out)[0]

	magnet := func(b byte) (string, string) {
		ih := strings.Repeat(string("0123456789abcdef"[b]), 40)
		return ih, "magnet:?xt=urn:btih:" + ih + "&dn=Heron+Count+" + string('A'+b)
	}
	ih1, m1 := magnet(1)
	ih2, m2 := magnet(2)
	ih3, m3 := magnet(3)
	ih4 := strings.Repeat("4", 40)
	cases := []struct {
		args []string
		ih   string
	}{
		{[]string{"add", "--data", dir, m1}, ih1},
		{[]string{"add", "--data", dir, "otters.torrent"}, torrentIH},
		{[]string{"add", "--data", dir, ih4}, ih4},
		{[]string{"--data", dir, m2}, ih2},
		{[]string{"gui", "--data", dir, m3}, ih3},
	}
	for _, tc := range cases {
		out, stderr, err := shoalIn(t, wd, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v %s", tc.args, err, stderr)
		}
		if tc.args[0] == "add" && strings.TrimSpace(out) != tc.ih {
			t.Errorf("%v printed %q, want %s", tc.args, out, tc.ih)
		}
	}

	st := getStatus(t, dir)
	for _, tc := range cases {
		if !st.has(tc.ih) {
			t.Errorf("status lacks %s (from %v): %+v", tc.ih, tc.args, st.Transfers)
		}
	}
	if st.DataDir != dir || st.PID != d.cmd.Process.Pid || st.Ratio.Uploaded == nil {
		t.Errorf("status header: dir %q pid %d ratio %+v", st.DataDir, st.PID, st.Ratio)
	}
	for _, key := range []string{"reachable", "external_addr", "port_mapping", "dht_nodes", "role", "supernode_link"} {
		if _, ok := st.Network[key]; !ok {
			t.Errorf("status --json lacks network.%s: %v", key, st.Network)
		}
	}

	table, stderr, err := shoalIn(t, "", "status", "--data", dir)
	if err != nil || !strings.Contains(table, "Heron Count B") || !strings.Contains(table, "Otter Sightings.csv") ||
		!strings.Contains(table, "port mapping") {
		t.Errorf("status table: %v %s\n%s", err, stderr, table)
	}

	_, stderr, err = shoalIn(t, "", "add", "--data", dir, "magnet:?xt=urn:btih:nothex")
	if lines := shoalLines(stderr); err == nil || len(lines) != 1 || !strings.Contains(lines[0], "magnet link") {
		t.Errorf("bad magnet: %v %q", err, stderr)
	}

	d.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "shoal.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after a clean stop: %v, want it removed", err)
	}
}

// TestStatusAfterKill9: a killed daemon leaves its socket file; status
// says nothing runs, and the next daemon serves the folder again.
func TestStatusAfterKill9(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--data", dir, "--bootstrap", "none")
	d.cmd.Process.Signal(syscall.SIGKILL)
	d.cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, "shoal.sock")); err != nil {
		t.Fatalf("socket after kill -9: %v (the test expects the stale file)", err)
	}
	_, stderr, err := shoalIn(t, "", "status", "--data", dir)
	if err == nil || !strings.Contains(stderr, "No Shoal is running") {
		t.Errorf("status after kill -9: %v %q", err, stderr)
	}
	d2 := startDaemon(t, "--data", dir, "--bootstrap", "none")
	if st := getStatus(t, dir); st.PID != d2.cmd.Process.Pid {
		t.Errorf("status answered by pid %d, want %d", st.PID, d2.cmd.Process.Pid)
	}
}

func TestCallErrWords(t *testing.T) {
	dir := "/home/ada/.config/shoal"
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", control.ErrNotRunning), "No Shoal is running with data folder " + dir},
		{fmt.Errorf("control: read answer: %w", context.DeadlineExceeded), "did not answer within"},
		{fmt.Errorf("control: read answer: %w", os.ErrDeadlineExceeded), "did not answer within"},
		{errors.New("Shoal could not add this magnet link: …"), "Shoal could not add this magnet link"},
	}
	for _, tc := range cases {
		if got := callErr(dir, tc.err).Error(); !strings.Contains(got, tc.want) {
			t.Errorf("callErr(%v) = %q, want it to contain %q", tc.err, got, tc.want)
		}
	}
}

func TestIsLink(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(file, []byte("x"), 0o644)
	for arg, want := range map[string]bool{
		"magnet:?xt=urn:btih:" + strings.Repeat("ab", 20): true,
		"MAGNET:?xt=urn:btih:x":                           true,
		"file:///home/ada/x.torrent":                      true,
		"missing.torrent":                                 true,
		file:                                              true,
		"daemon":                                          false,
		"stauts":                                          false,
		filepath.Dir(file):                                false, // a folder
	} {
		if got := isLink(arg); got != want {
			t.Errorf("isLink(%q) = %v, want %v", arg, got, want)
		}
	}
}

// TestStatusCheckReach: `shoal status --check-reach` has the running
// daemon ask a supernode to dial it back now, and says the result for
// people; with --json the test's answer is in network.how. A node that
// knows no supernode says the result is not known yet.
func TestStatusCheckReach(t *testing.T) {
	alone := startDaemon(t, "--bootstrap", "none", "--leaf")
	out, stderr, err := shoalIn(t, "", "status", "--check-reach", "--data", alone.ready.DataDir)
	if err != nil || !strings.Contains(out, "Result: not known yet: no supernode could test this computer") {
		t.Fatalf("check-reach alone: %v\n%s%s", err, out, stderr)
	}
	sup := startDaemon(t, "--bootstrap", "none", "--supernode")
	leaf := startDaemon(t, "--bootstrap", sup.ready.DHTAddr, "--leaf")
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, stderr, err = shoalIn(t, "", "status", "--check-reach", "--json", "--data", leaf.ready.DataDir)
		var st statusJSON
		if err == nil && json.Unmarshal([]byte(out), &st) == nil {
			if how, _ := st.Network["how"].(string); strings.Contains(how, "dial-back by supernode "+sup.ready.PeerAddr+" reached") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dial-back by %s within 60 s: %v\n%s%s", sup.ready.PeerAddr, err, out, stderr)
		}
		time.Sleep(time.Second)
	}
	out, stderr, err = shoalIn(t, "", "status", "--check-reach", "--data", leaf.ready.DataDir)
	if err != nil || !strings.Contains(out, "Result: other computers can connect to this one") {
		t.Fatalf("check-reach with a supernode: %v\n%s%s", err, out, stderr)
	}
	t.Logf("%s", out)
}
