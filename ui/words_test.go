package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestErrorWords: each kind of engine error, wrapped as the engine and the
// UI wrap it, becomes a sentence that says what happened and what to do,
// with no engine text in it.
func TestErrorWords(t *testing.T) {
	net := engine.NetStatus{DHTNodes: 0}
	wrap := func(op string, err error) error { return &opError{op: op, err: err} }
	cases := []struct {
		name      string
		err       error
		title     string
		text      string // a part of the text
		details   bool   // the raw text is offered under Details
		forbidden string // engine text that must not show in title or text
	}{
		{"no supernode", fmt.Errorf("search %q: %w", "linux", engine.ErrNoSupernode), "Shoal could not do that",
			"Shoal is still joining the network (0 DHT nodes). Search will work once it has found a supernode", false, "overlay"},
		{"bad magnet", wrap("add magnet:?xt=urn:btih:zz", fmt.Errorf("%w: engine: magnet link: error parsing v1 infohash", engine.ErrBadLink)),
			"Could not add magnet:?xt=urn:btih:zz", "A magnet link starts with", false, "error parsing"},
		{"bad torrent", wrap("add /tmp/x.torrent", fmt.Errorf("engine: torrent file: %w: missing name", engine.ErrBadTorrent)),
			"Could not add /tmp/x.torrent", "damaged or incomplete", false, "missing name"},
		{"torrent gone", wrap("add /tmp/x.torrent", fmt.Errorf("engine: torrent file: %w", &fs.PathError{Op: "stat", Path: "/tmp/x.torrent", Err: syscall.ENOENT})),
			"Could not add /tmp/x.torrent", "not there any more", false, "stat"},
		{"transfer gone", wrap("pause x", fmt.Errorf("engine: pause: %w", engine.ErrNotFound)), "Could not pause x",
			"no longer in the list", false, "no such transfer"},
		{"closing", wrap("resume x", engine.ErrClosed), "Could not resume x", "shutting down", false, "engine: closed"},
		{"disk full", wrap("share /a", fmt.Errorf("write: %w", syscall.ENOSPC)), "Could not share /a", "The disk is full", false, "no space"},
		{"permission", wrap("share /root", fmt.Errorf("engine: share: %w", &fs.PathError{Op: "open", Path: "/root", Err: syscall.EACCES})),
			"Could not share /root", "not allowed", false, "permission denied"},
		{"timeout", wrap("add x", context.DeadlineExceeded), "Could not add x", "took too long", false, "deadline"},
		{"move onto a name", wrap("move x", fmt.Errorf("%w: /media/x", engine.ErrExists)), "Could not move x",
			"Choose another folder", false, "destination"},
		{"move unfinished", wrap("move x", engine.ErrNotFinished), "Could not move x", "Only a finished download", false, "engine:"},
		{"empty query", engine.ErrEmptyQuery, "Shoal could not do that", "Type one or more words", false, "no words"},
		{"ui's own words", sayf("this transfer has no folder yet"), "Shoal could not do that", "This transfer has no folder yet", false, ""},
		{"unknown", wrap("pause x", errors.New("swarm: piece 7: checksum mismatch")), "Could not pause x",
			"Something unexpected went wrong", true, "checksum"},
	}
	for _, c := range cases {
		x := explain(c.err, net)
		if x.title != c.title || !strings.Contains(x.text, c.text) || (x.details != "") != c.details {
			t.Errorf("%s: explain = %+v\n want title %q, text with %q, details %v", c.name, x, c.title, c.text, c.details)
		}
		if c.forbidden != "" && strings.Contains(x.title+x.text, c.forbidden) {
			t.Errorf("%s: engine text %q reaches the user: %+v", c.name, c.forbidden, x)
		}
		if c.details && !strings.Contains(x.details, c.forbidden) {
			t.Errorf("%s: details %q lack the raw error", c.name, x.details)
		}
	}
}

// TestRealEngineErrorsHaveWords runs the real engine's refusals through
// the words: a bad magnet, a damaged .torrent, a missing file, an unknown
// transfer.
func TestRealEngineErrorsHaveWords(t *testing.T) {
	e := enginetest.Start(t, enginetest.Config(t))
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.torrent")
	if err := os.WriteFile(damaged, []byte("d4:infod6:lengthi5eee"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		source, want string
	}{
		{"magnet:?xt=urn:btih:zzzz", "A magnet link starts with"},
		{"magnet:?dn=nothing", "A magnet link starts with"},
		{damaged, "damaged or incomplete"},
		{filepath.Join(dir, "gone.torrent"), "not there any more"},
	} {
		_, err := e.Download(ctx, engine.DownloadRequest{Source: c.source})
		if err == nil {
			t.Fatalf("Download(%q) accepted", c.source)
		}
		if x := explain(&opError{op: "add", err: err}, engine.NetStatus{}); !strings.Contains(x.text, c.want) {
			t.Errorf("Download(%q) = %v\n worded %q, want %q", c.source, err, x.text, c.want)
		}
	}
	if x := explain(e.Pause(hash(9)), engine.NetStatus{}); !strings.Contains(x.text, "no longer in the list") {
		t.Errorf("Pause of an unknown transfer worded %q", x.text)
	}
}

func TestTroubleText(t *testing.T) {
	for in, want := range map[string]string{
		"write /d/x: no space left on device":  "the disk is full; free some space, then resume",
		"open /d/x: permission denied":         "Shoal may not write to the download folder; check its permissions",
		"open /d/x: no such file or directory": "files are missing from the download folder; resume to fetch them again",
		"disk full":                            "disk full",
	} {
		if got := troubleText(in); got != want {
			t.Errorf("troubleText(%q) = %q, want %q", in, got, want)
		}
	}
}
