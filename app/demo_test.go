package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoSwarmIsSearchable starts `shoal demo --headless` and checks that a
// newcomer finds and downloads one of its sample files, as the demo promises.
func TestDemoSwarmIsSearchable(t *testing.T) {
	cmd := exec.Command(shoalBin, "demo", "--headless")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("demo ready line: %v", err)
	}
	var ready map[string]string
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready["bootstrap"] == "" {
		t.Fatalf("demo ready line %q: %v", line, err)
	}
	common := []string{"--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", ready["bootstrap"]}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var hit jsonHit
	for deadline := time.Now().Add(60 * time.Second); hit.InfoHash == "" && time.Now().Before(deadline); {
		stdout, _, err := shoal(ctx, append(append([]string{"search", "--data", t.TempDir(), "--json", "--timeout", "5s"}, common...), "jazz")...)
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
			if json.Unmarshal([]byte(l), &hit) == nil && strings.Contains(hit.Name, "Jazz") {
				break
			}
			hit = jsonHit{}
		}
	}
	if hit.InfoHash == "" {
		t.Fatal("no demo hit for 'jazz' within a minute")
	}
	dir := t.TempDir()
	if _, stderr, err := shoal(ctx, append(append([]string{"get", "--quiet", "--data", t.TempDir(), "--out", dir, "--timeout", "60s"}, common...), hit.Magnet)...); err != nil {
		t.Fatalf("get %s: %v: %s", hit.Name, err, stderr)
	}
	if _, err := os.Stat(dir + "/Jazz Piano Collection/02 Autumn Leaves.ogg"); err != nil {
		t.Fatalf("downloaded folder incomplete: %v", err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo exit after SIGINT: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30s of SIGINT")
	}
}
