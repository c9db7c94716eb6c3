package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"github.com/shoalp2p/shoal/engine"
)

// newTestUIOn is newTestUI built with NewIn, first showing the tab named.
func newTestUIOn(t *testing.T, first string) (*UI, *fakeEngine) {
	t.Helper()
	a := test.NewTempApp(t)
	f := newFake()
	u := NewIn(a, a.NewWindow("made early"), f, first)
	queueHops(u)
	closeAtCleanup(t, u)
	return u, f
}

// inWindow reports whether o is in the window's content tree (what Fyne
// measures, lays out and paints).
func inWindow(u *UI, o fyne.CanvasObject) bool {
	return slices.Contains(walk(nil, u.win.Content()), o)
}

// TestOnlyTheShownTabIsBuilt: a window opened on Transfers holds only the
// Transfers tab's content; the other tabs hold a placeholder until first
// shown (Fyne measures every tab's content for the window's minimum size),
// and then show the state applied meanwhile.
func TestOnlyTheShownTabIsBuilt(t *testing.T) {
	u, _ := newTestUIOn(t, "Transfers")
	if got := u.win.Title(); got != "Shoal" {
		t.Errorf("title %q, want Shoal", got)
	}
	if u.tabs.Selected() != u.transferItem || !inWindow(u, u.transfers.content) {
		t.Fatalf("opened on %q, want the Transfers tab and its content in the window", u.tabs.Selected().Text)
	}
	hidden := map[*container.TabItem]fyne.CanvasObject{u.searchItem: u.search.content, u.libraryItem: u.library.content,
		u.ratioItem: u.ratio.content, u.settingsItem: u.settings.content}
	for it, content := range hidden {
		if it.Content == content {
			t.Errorf("tab %s holds its content before it is shown: Fyne measures it for the first frame", it.Text)
		}
	}

	item := engine.LibraryItem{InfoHash: hash(7), Name: "holiday.mp4", Path: "/tmp/holiday.mp4", Size: 200 << 20, Files: 1,
		Added: time.Unix(1700000000, 0)}
	u.Refresh(engine.Snapshot{Library: []engine.LibraryItem{item}})
	u.tabs.Select(u.libraryItem)
	if u.libraryItem.Content != u.library.content || !inWindow(u, u.library.content) || u.library.content.Size().IsZero() {
		t.Fatal("the Library tab's content is not in the window once shown")
	}
	if got := u.library.info.Text; got != "Sharing 1 item, 200 MiB." {
		t.Errorf("library info once shown = %q", got)
	}
	u.tabs.Select(u.transferItem)
	if u.libraryItem.Content != u.library.content || !inWindow(u, u.transfers.content) {
		t.Error("going back to Transfers lost a built tab")
	}
}

// TestNewInUnknownTab: NewIn with no tab or an unknown name opens on
// Search, as New does.
func TestNewInUnknownTab(t *testing.T) {
	for _, name := range []string{"", "nope"} {
		u, _ := newTestUIOn(t, name)
		if u.tabs.Selected() != u.searchItem || !inWindow(u, u.search.content) {
			t.Errorf("NewIn(%q) opened on %q, want Search", name, u.tabs.Selected().Text)
		}
	}
}
