package main

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
)

// TestCLIShareFormat: `shoal daemon --share-format` decides what --share
// makes: a hybrid by default and with hybrid, a v1 torrent with v1, a
// v2-only one with v2 (each infohash the one storage.CreateInfo gives in
// that format; a v2-only torrent's cut to 20 bytes); an unknown word is
// refused before anything starts, with the choices.
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
		if f == storage.V2Only {
			sum := sha256.Sum256(b)
			return hex.EncodeToString(sum[:20])
		}
		sum := sha1.Sum(b)
		return hex.EncodeToString(sum[:])
	}
	v1, hybrid, v2 := want(storage.V1Only), want(storage.Hybrid), want(storage.V2Only)
	for _, c := range []struct {
		flags []string
		ih    string
	}{{nil, hybrid}, {[]string{"--share-format", "v1"}, v1}, {[]string{"--share-format", "hybrid"}, hybrid},
		{[]string{"--share-format", "V2"}, v2}} {
		d := startDaemon(t, append([]string{"--share", path}, c.flags...)...)
		if got := d.ready.Shared[path]; got != c.ih {
			t.Errorf("%v: shared as %s, want %s (v1 %s, hybrid %s, v2 %s)", c.flags, got, c.ih, v1, hybrid, v2)
		}
		d.stop(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, stderr, err := shoal(ctx, "daemon", "--loopback-only", "--listen", "127.0.0.1:0", "--data", t.TempDir(),
		"--share", path, "--share-format", "v3")
	if says := "choose hybrid (v1 and v2 in one, the default), v1 (works with every client) or v2"; err == nil || !strings.Contains(stderr, says) {
		t.Errorf("--share-format v3: err %v, stderr %q; want a refusal saying %q", err, stderr, says)
	}
}
