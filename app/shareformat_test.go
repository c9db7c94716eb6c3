package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
)

// TestCLIShareFormat: `shoal daemon --share-format` decides what --share
// makes: a v1 torrent by default and with v1, a hybrid with hybrid (each
// infohash the one storage.CreateInfo gives in that format); v2 and an
// unknown word are refused before anything starts, with what to do.
func TestCLIShareFormat(t *testing.T) {
	root := t.TempDir()
	enginetest.RandomFile(t, root, "Platypus/notes.txt", 70<<10+3)
	enginetest.RandomFile(t, root, "Platypus/sounds.ogg", 300<<10)
	path := root + "/Platypus"
	want := func(f storage.Format) string {
		info, err := storage.CreateInfo(context.Background(), path, storage.CreateOptions{Format: f}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := storage.EncodeInfo(info)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(b)
		return hex.EncodeToString(sum[:])
	}
	v1, hybrid := want(storage.V1Only), want(storage.Hybrid)
	for _, c := range []struct {
		flags []string
		ih    string
	}{{nil, v1}, {[]string{"--share-format", "v1"}, v1}, {[]string{"--share-format", "hybrid"}, hybrid}} {
		d := startDaemon(t, append([]string{"--share", path}, c.flags...)...)
		if got := d.ready.Shared[path]; got != c.ih {
			t.Errorf("%v: shared as %s, want %s (v1 %s, hybrid %s)", c.flags, got, c.ih, v1, hybrid)
		}
		d.stop(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for word, says := range map[string]string{"v2": "shoal create --v2", "v3": "choose v1 (works with every client) or hybrid"} {
		_, stderr, err := shoal(ctx, "daemon", "--loopback-only", "--listen", "127.0.0.1:0", "--data", t.TempDir(),
			"--share", path, "--share-format", word)
		if err == nil || !strings.Contains(stderr, says) {
			t.Errorf("--share-format %s: err %v, stderr %q; want a refusal saying %q", word, err, stderr, says)
		}
	}
}
