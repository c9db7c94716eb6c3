package ui

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

func TestDropSharesAndShowsHashingProgress(t *testing.T) {
	u, f := newTestUI(t)
	dir := t.TempDir()
	file, folder := filepath.Join(dir, "holiday.mp4"), filepath.Join(dir, "photos")
	u.onDropped(fyne.NewPos(400, 300), []fyne.URI{storage.NewFileURI(file), storage.NewFileURI(folder)})
	settle(u)
	f.lock(func() {
		slices.Sort(f.shares)
		if !slices.Equal(f.shares, []string{file, folder}) {
			t.Errorf("shared %q, want the dropped paths", f.shares)
		}
	})
	if u.tabs.Selected() != u.libraryItem {
		t.Errorf("tab %q selected after a drop, want Library", u.tabs.Selected().Text)
	}
	if u.library.jobsBox.Visible() {
		t.Error("the hashing table shows with no jobs")
	}

	u.Refresh(engine.Snapshot{ShareJobs: []engine.ShareJob{{Path: file, Hashed: 50 << 20, Total: 200 << 20}}})
	if !u.library.jobsBox.Visible() {
		t.Fatal("the hashing table is hidden while a share hashes")
	}
	if got := u.library.jobs.rows[0]; strings.Join(got, "|") != "holiday.mp4||50.0 MiB / 200 MiB|Hashing" {
		t.Errorf("job row = %q", got)
	}
	bar := cells(u.library.jobs)[widget.TableCellID{Row: 0, Col: jobColProgress}].Objects[2].(*widget.ProgressBar)
	if bar.Value != 0.25 {
		t.Errorf("job progress bar = %v, want 0.25", bar.Value)
	}

	item := engine.LibraryItem{InfoHash: hash(7), Name: "holiday.mp4", Path: file, Size: 200 << 20, Files: 1,
		Magnet: "magnet:?xt=urn:btih:0707070707070707070707070707070707070707", Added: time.Unix(1700000000, 0)}
	u.Refresh(engine.Snapshot{
		ShareJobs: []engine.ShareJob{{Path: file, Hashed: 200 << 20, Total: 200 << 20, Done: true, Result: hash(7)}},
		Library:   []engine.LibraryItem{item},
	})
	if got := u.library.jobs.rows[0][jobColStatus]; got != "Shared" || u.library.jobs.progress[0] != 1 {
		t.Errorf("finished job shows %q at %v", got, u.library.jobs.progress[0])
	}
	if got := u.library.info.Text; got != "Sharing 1 item, 200 MiB." {
		t.Errorf("library info = %q", got)
	}
	if u.libraryItem.Text != "Library (1)" {
		t.Errorf("tab title %q", u.libraryItem.Text)
	}

	test.Tap(rowButton(t, u.library.grid, 0, libColButton))
	if got := u.app.Clipboard().Content(); got != item.Magnet {
		t.Errorf("clipboard = %q, want the magnet", got)
	}

	u.Refresh(engine.Snapshot{Library: []engine.LibraryItem{item}})
	if u.library.jobsBox.Visible() {
		t.Error("the hashing table stays after the jobs are gone")
	}
}

func TestDropErrors(t *testing.T) {
	u, f := newTestUI(t)
	web, err := storage.ParseURI("https://example.invalid/file.iso")
	if err != nil {
		t.Fatal(err)
	}
	u.onDropped(fyne.Position{}, []fyne.URI{web})
	assertDialog(t, u, "Only local files and folders can be shared")

	f.setFail(errBoom)
	u.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI("/tmp/x")})
	settle(u)
	assertDialog(t, u, "Could not share /tmp/x")
}
