package ui

import (
	"context"
	"crypto/sha1"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/torrentfile"
)

// libraryNames lists the Library's Name column, top to bottom.
func libraryNames(u *UI) []string {
	var out []string
	for _, r := range u.library.grid.rows {
		out = append(out, r[libColName])
	}
	return out
}

// TestSortLibrary: a click on a Library header sorts by it (numbers
// largest first), a second reverses, a third goes back to the engine's
// order; the right-click menu acts on the item shown on its row.
func TestSortLibrary(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.libraryItem)
	u.Refresh(engine.Snapshot{Library: []engine.LibraryItem{
		{InfoHash: hash(0x41), Name: "talk.mp4", Path: "/home/me/Videos/talk.mp4", Size: 300, Files: 1, Magnet: "magnet:?talk"},
		{InfoHash: hash(0x42), Name: "Album", Path: "/home/me/Music/Album", Size: 900, Files: 12, Magnet: "magnet:?album"},
		{InfoHash: hash(0x43), Name: "notes.txt", Path: "/data/notes.txt", Size: 5, Files: 1, Magnet: "magnet:?notes"},
	}})
	g := u.library.grid
	for _, c := range []struct {
		col   int
		want  []string
		title string
	}{
		{libColName, []string{"Album", "notes.txt", "talk.mp4"}, "Name ↑"},
		{libColName, []string{"talk.mp4", "notes.txt", "Album"}, "Name ↓"},
		{libColName, []string{"talk.mp4", "Album", "notes.txt"}, "Name"},
		{libColSize, []string{"Album", "talk.mp4", "notes.txt"}, "Size ↓"},
		{libColFiles, []string{"Album", "talk.mp4", "notes.txt"}, "Files ↓"},
		{libColPath, []string{"notes.txt", "Album", "talk.mp4"}, "Location ↑"},
	} {
		test.Tap(header(t, g, c.col))
		if got := libraryNames(u); !slices.Equal(got, c.want) {
			t.Fatalf("after a click on %q: %q, want %q", g.cols[c.col].title, got, c.want)
		}
		if got := header(t, g, c.col).Text; got != c.title {
			t.Errorf("header %q, want %q", got, c.title)
		}
	}
	rightClick(t, g, 0, libColName) // notes.txt, sorted by Location
	tapMenuItem(t, u, "Copy magnet link")
	if got := u.app.Clipboard().Content(); got != "magnet:?notes" {
		t.Errorf("the menu of the first sorted row copied %q", got)
	}
}

// saveDialogSave checks the open save dialog offers name and taps Save.
func saveDialogSave(t *testing.T, u *UI, name string) {
	t.Helper()
	top := u.win.Canvas().Overlays().Top()
	if top == nil || u.library.saving == nil {
		t.Fatal("no save dialog open")
	}
	var save *widget.Button
	var entry *widget.Entry
	for _, o := range walk(nil, top) {
		switch w := o.(type) {
		case *widget.Button:
			if w.Text == "Save" {
				save = w
			}
		case *widget.Entry:
			if w.PlaceHolder == "Enter filename" {
				entry = w
			}
		}
	}
	if save == nil || entry == nil {
		t.Fatal("the save dialog has no file name field or Save button")
	}
	if entry.Text != name {
		t.Fatalf("the save dialog offers %q, want %q", entry.Text, name)
	}
	test.Tap(save)
}

// TestLibrarySaveTorrent: "Save .torrent file…" opens a save dialog in the
// item's folder with the item's name; Save has the engine write the file
// there. When the engine fails, the error shows and the empty file the
// dialog made is gone.
func TestLibrarySaveTorrent(t *testing.T) {
	u, f := newTestUI(t)
	u.tabs.Select(u.libraryItem)
	dir := t.TempDir()
	u.Refresh(engine.Snapshot{Library: []engine.LibraryItem{
		{InfoHash: hash(0x51), Name: "Field Notes", Path: filepath.Join(dir, "Field Notes"), Size: 10, Files: 2},
	}})
	rightClick(t, u.library.grid, 0, libColName)
	tapMenuItem(t, u, "Save .torrent file…")
	saveDialogSave(t, u, "Field Notes.torrent")
	settle(u)
	want := filepath.Join(dir, "Field Notes.torrent")
	f.lock(func() {
		if !slices.Equal(f.saved, []string{want}) {
			t.Fatalf("engine asked to save %q, want %q", f.saved, want)
		}
	})
	if b, err := os.ReadFile(want); err != nil || len(b) == 0 {
		t.Fatalf("saved file: %v, %d bytes", err, len(b))
	}
	if !strings.Contains(u.library.info.Text, want) {
		t.Errorf("info says %q", u.library.info.Text)
	}

	f.setFail(errBoom)
	u.library.grid.selectRow(-1)
	rightClick(t, u.library.grid, 0, libColName)
	tapMenuItem(t, u, "Save .torrent file…")
	entry := walkEntry(t, u)
	entry.SetText("again.torrent")
	saveDialogSave(t, u, "again.torrent")
	settle(u)
	if !strings.Contains(errorText(t, u), "disk on fire") {
		t.Errorf("error dialog %q", errorText(t, u))
	}
	if _, err := os.Stat(filepath.Join(dir, "again.torrent")); !os.IsNotExist(err) {
		t.Errorf("a failed save left a file behind: %v", err)
	}
}

// walkEntry finds the open save dialog's file name field.
func walkEntry(t *testing.T, u *UI) *widget.Entry {
	t.Helper()
	for _, o := range walk(nil, u.win.Canvas().Overlays().Top()) {
		if e, ok := o.(*widget.Entry); ok && e.PlaceHolder == "Enter filename" {
			return e
		}
	}
	t.Fatal("no file name field")
	return nil
}

// errorText is the text of the dialog on top.
func errorText(t *testing.T, u *UI) string {
	t.Helper()
	var b strings.Builder
	for _, o := range walk(nil, u.win.Canvas().Overlays().Top()) {
		switch w := o.(type) {
		case *widget.Label:
			b.WriteString(w.Text + "\n")
		case *widget.RichText:
			b.WriteString(w.String() + "\n")
		}
	}
	return b.String()
}

// TestLibraryStopSharing: "Stop sharing…" asks first, saying the files
// stay; Escape keeps the item, the confirmation removes the share from
// the engine without its data.
func TestLibraryStopSharing(t *testing.T) {
	u, f := newTestUI(t)
	u.tabs.Select(u.libraryItem)
	u.Refresh(engine.Snapshot{Library: []engine.LibraryItem{
		{InfoHash: hash(0x61), Name: "talk.mp4", Path: "/home/me/Videos/talk.mp4", Size: 10, Files: 1},
	}})
	rightClick(t, u.library.grid, 0, libColName)
	tapMenuItem(t, u, "Stop sharing…")
	if u.library.stopping == nil {
		t.Fatal("no confirmation")
	}
	if txt := errorText(t, u); !strings.Contains(txt, "not deleted") || !strings.Contains(txt, "/home/me/Videos/talk.mp4") {
		t.Fatalf("the confirmation says %q", txt)
	}
	pressKey(u, fyne.KeyEscape)
	settle(u)
	if u.library.stopping != nil || u.win.Canvas().Overlays().Top() != nil {
		t.Fatal("Escape left the confirmation open")
	}
	rightClick(t, u.library.grid, 0, libColName)
	tapMenuItem(t, u, "Stop sharing…")
	test.Tap(u.library.stopping.confirm)
	settle(u)
	f.lock(func() {
		if want := []removal{{hash(0x61), false}}; !slices.Equal(f.removed, want) {
			t.Fatalf("removed %+v, want %+v", f.removed, want)
		}
	})
	if !strings.Contains(u.library.info.Text, "Stopped sharing") {
		t.Errorf("info says %q", u.library.info.Text)
	}
}

// TestLibraryWithRealEngine: on a real engine, the saved .torrent file has
// the shared item's infohash, and Stop sharing takes the item off the
// Library while its file stays, unchanged.
func TestLibraryWithRealEngine(t *testing.T) {
	n := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "Harbour.mov", 300<<10+5)
	want, _ := os.ReadFile(src)
	ih, err := n.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := newRealUI(t, n.Engine)
	u.tabs.Select(u.libraryItem)
	pullUntil(t, u, "the shared file", 30*time.Second, func() bool { return len(u.library.items) == 1 })
	rightClick(t, u.library.grid, 0, libColName)
	tapMenuItem(t, u, "Save .torrent file…")
	saveDialogSave(t, u, "Harbour.mov.torrent")
	settle(u)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(src), "Harbour.mov.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	tf, err := torrentfile.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if sha1.Sum(tf.InfoBytes) != ih {
		t.Fatalf("the saved .torrent has infohash %x, want %s", sha1.Sum(tf.InfoBytes), ih)
	}

	rightClick(t, u.library.grid, 0, libColName)
	tapMenuItem(t, u, "Stop sharing…")
	test.Tap(u.library.stopping.confirm)
	settle(u)
	pullUntil(t, u, "an empty Library", 30*time.Second, func() bool { return len(u.library.items) == 0 })
	if got, err := os.ReadFile(src); err != nil || string(got) != string(want) {
		t.Fatalf("the shared file after Stop sharing: %v (same bytes: %v)", err, string(got) == string(want))
	}
}
