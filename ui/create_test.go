package ui

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
)

// TestNewTorrentDialog: the form becomes the engine's request (trackers
// one a line, piece size, format, private, comment, seeding), the
// progress bar fills, and the result says where the file went and that
// it seeds.
func TestNewTorrentDialog(t *testing.T) {
	u, f := newTestUI(t)
	u.newTorrent()
	d := u.creating
	if !d.create.Disabled() {
		t.Fatal("Create is on without a path")
	}
	test.Type(d.path, "/home/user/Album")
	if d.create.Disabled() {
		t.Fatal("Create is off with a path")
	}
	d.trackers.SetText("udp://127.0.0.1:6969/announce\n\n  http://127.0.0.1:8000/announce  \n")
	d.piece.SetSelected("1 MiB")
	d.format.SetSelectedIndex(1)
	test.Tap(d.private)
	d.comment.SetText(" holiday ")
	d.start("/home/user/Album.torrent")
	settle(u)
	fyne.DoAndWait(func() {})
	want := engine.CreateRequest{Path: "/home/user/Album", Save: "/home/user/Album.torrent",
		Trackers:    []string{"udp://127.0.0.1:6969/announce", "http://127.0.0.1:8000/announce"},
		PieceLength: 1 << 20, Private: true, Comment: "holiday", Format: engine.FormatV1, Seed: true}
	f.lock(func() {
		if len(f.creates) != 1 || !reflect.DeepEqual(f.creates[0], want) {
			t.Fatalf("requests %+v\nwant %+v", f.creates, want)
		}
	})
	if d.bar.Value != 1 || !strings.Contains(d.status.Text, "Saved /home/user/Album.torrent") ||
		!strings.Contains(d.status.Text, "seeds it now") {
		t.Fatalf("bar %v, status %q", d.bar.Value, d.status.Text)
	}
	test.Tap(d.closeBtn)
	if u.creating != nil {
		t.Error("Close left the dialog open")
	}
}

// TestNewTorrentRefusesABadTracker: a line that is no tracker address is
// named, and nothing reaches the engine.
func TestNewTorrentRefusesABadTracker(t *testing.T) {
	u, f := newTestUI(t)
	u.newTorrent()
	d := u.creating
	d.path.SetText("/home/user/Album")
	d.trackers.SetText("udp://127.0.0.1:6969/announce\nwww.example.org")
	test.Tap(d.create)
	if !strings.Contains(d.status.Text, "Tracker line 2") {
		t.Fatalf("status %q", d.status.Text)
	}
	f.lock(func() {
		if len(f.creates) != 0 {
			t.Fatalf("the engine got %+v", f.creates)
		}
	})
}

// TestNewTorrentCancel: Cancel during the hashing stops it and says that
// nothing was saved; Create is offered again.
func TestNewTorrentCancel(t *testing.T) {
	u, f := newTestUI(t)
	f.createGate = make(chan struct{})
	u.newTorrent()
	d := u.creating
	d.path.SetText("/home/user/Album")
	d.start("/tmp/Album.torrent")
	waitFor(t, f.createGate, "half-way progress")
	runHops(u)
	if d.bar.Value != 0.5 {
		t.Fatalf("progress %v, want 0.5", d.bar.Value)
	}
	if d.closeBtn.Text != "Cancel" || !d.create.Disabled() {
		t.Fatalf("while hashing: %q, create disabled %v", d.closeBtn.Text, d.create.Disabled())
	}
	test.Tap(d.closeBtn)
	settle(u)
	fyne.DoAndWait(func() {})
	if d.status.Text != "Cancelled; nothing was saved." || d.create.Disabled() || u.creating != d {
		t.Fatalf("after cancel: %q, create disabled %v", d.status.Text, d.create.Disabled())
	}
}

// TestNewTorrentWithRealEngine: through the dialog, a real engine makes
// the same torrent as `shoal create` (storage.Create with its options)
// for the same folder, and seeds it.
func TestNewTorrentWithRealEngine(t *testing.T) {
	n := enginetest.Start(t, enginetest.Config(t))
	root := filepath.Join(t.TempDir(), "Recordings")
	enginetest.RandomFile(t, root, "a/one.wav", 600<<10+9)
	enginetest.RandomFile(t, root, "b/two.wav", 90<<10)
	a := test.NewTempApp(t)
	u := New(a, n.Engine)
	queueHops(u)
	t.Cleanup(func() { u.cancel(); settle(u); u.win.Close() })
	u.newTorrent()
	d := u.creating
	d.path.SetText(root)
	save := filepath.Join(t.TempDir(), "rec.torrent")
	d.start(save)
	settle(u)
	fyne.DoAndWait(func() {})
	if !strings.HasPrefix(d.status.Text, "Saved ") {
		t.Fatalf("status %q", d.status.Text)
	}
	cli, err := storage.Create(context.Background(), root, storage.CreateOptions{CreatedBy: engine.CreatedBy}, nil)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := metainfo.LoadFromFile(save)
	if err != nil {
		t.Fatal(err)
	}
	if saved.HashInfoBytes() != cli.HashInfoBytes() || engine.InfoHash(cli.HashInfoBytes()) != d.created.InfoHash {
		t.Fatalf("dialog made %s, shoal create makes %s", saved.HashInfoBytes(), cli.HashInfoBytes())
	}
	if tr, ok := enginetest.Transfer(n.Snapshot(), d.created.InfoHash); !ok || tr.State != engine.StateSeeding {
		t.Fatalf("not seeding: %+v", tr)
	}
}
