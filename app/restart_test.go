package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/bench"
)

// TestKill9RestartRehashesNothing shares 200 files from a daemon, kills
// it with SIGKILL as soon as it is ready, and starts it again on the same
// data folder: the restart trusts what it recorded and reads back no
// piece to hash (its SIGUSR1 line counts them), yet serves every item: a
// download of one from it is the shared file.
func TestKill9RestartRehashesNothing(t *testing.T) {
	src := t.TempDir()
	paths := bench.MakeIdleFiles(t, src, 200)
	data := t.TempDir()
	args := bench.IdleDaemonArgs(data)
	for _, p := range paths {
		args = append(args, "--share", p)
	}
	d, _, err := bench.StartIdleShoal(shoalBin, args, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ih := d.Ready.Shared[paths[123]]
	d.Cmd.Process.Kill()
	d.Cmd.Wait()
	if ih == "" {
		t.Fatalf("the daemon did not list %s as shared", paths[123])
	}

	d, _, err = bench.StartIdleShoal(shoalBin, bench.IdleDaemonArgs(data), 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Interrupt()
	time.Sleep(2 * time.Second) // a recheck would be under way by now
	checkNoRehash(t, d, "after the restart")
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	_, stderr, err := shoal(ctx, "get", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none",
		"--data", t.TempDir(), "--out", out, "--quiet", "--peer", d.Ready.PeerAddr, ih)
	if err != nil {
		t.Fatalf("get %s from the restarted daemon: %v\n%s", ih, err, stderr)
	}
	want, _ := os.ReadFile(paths[123])
	if got, err := os.ReadFile(filepath.Join(out, filepath.Base(paths[123]))); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the item downloaded from the restarted daemon differs from the shared file (err %v)", err)
	}
	checkNoRehash(t, d, "after serving a download")
}

// checkNoRehash fails t unless the daemon has hashed no piece from disk.
func checkNoRehash(t *testing.T, d *bench.IdleShoal, when string) {
	t.Helper()
	rl, err := d.Runtime()
	if err != nil {
		t.Fatal(err)
	}
	if rl.PiecesHashed != 0 {
		t.Fatalf("%s the daemon hashed %d pieces from disk, want none", when, rl.PiecesHashed)
	}
}
