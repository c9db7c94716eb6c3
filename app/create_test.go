package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestCreateMatchesCLI: the engine's CreateTorrent (the desktop app's "New
// torrent…") makes the same torrent as `shoal create` for the same
// folder, in each format: the same v1 and v2 infohashes.
func TestCreateMatchesCLI(t *testing.T) {
	root := filepath.Join(t.TempDir(), "Field Recordings")
	enginetest.RandomFile(t, root, "dawn/birds.flac", 900<<10+5)
	enginetest.RandomFile(t, root, "dusk/frogs.flac", 200<<10)
	enginetest.RandomFile(t, root, "notes.txt", 1234)
	n := enginetest.Start(t, enginetest.Config(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range []struct {
		flags  []string
		format engine.TorrentFormat
	}{{nil, engine.FormatHybrid}, {[]string{"--v1"}, engine.FormatV1}, {[]string{"--v2"}, engine.FormatV2}} {
		out := filepath.Join(t.TempDir(), "cli.torrent")
		args := append(append([]string{"create"}, c.flags...), "--tracker", "http://127.0.0.1:1/announce", "-o", out, root)
		stdout, stderr, err := shoal(ctx, args...)
		if err != nil {
			t.Fatalf("shoal %q: %v\n%s", args, err, stderr)
		}
		cli := strings.Fields(stdout)
		got, err := n.CreateTorrent(ctx, engine.CreateRequest{Path: root, Save: filepath.Join(t.TempDir(), "app.torrent"),
			Trackers: []string{"http://127.0.0.1:1/announce"}, Format: c.format}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		switch c.format {
		case engine.FormatHybrid:
			want = []string{got.InfoHash.String(), got.InfoHashV2}
		case engine.FormatV1:
			want = []string{got.InfoHash.String()}
		case engine.FormatV2:
			want = []string{got.InfoHashV2}
		}
		if len(cli) != len(want)+1 || strings.Join(cli[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("%v: shoal create printed %q, the engine made %q", c.flags, stdout, want)
		}
	}
}
