package ui

import (
	"strings"

	"fyne.io/fyne/v2/container"

	"github.com/shoalp2p/shoal/engine"
)

// Add starts downloading a link handed in from outside the window (the
// command line, the desktop file, a second start) and shows the Transfers
// tab; a refusal shows in a dialog. Call it on the Fyne goroutine.
func (u *UI) Add(link string) {
	u.tabs.Select(u.transferItem)
	u.transfers.add(engine.DownloadRequest{Source: link})
}

// Raise shows the window and asks the window manager for focus, for a
// second start of the app. Call it on the Fyne goroutine.
func (u *UI) Raise() {
	u.win.Show()
	u.win.RequestFocus()
}

// ShowTab selects a tab by its name ("search", "transfers", "library",
// "ratio" or "settings") and reports whether there is one of that name.
// Call it on the Fyne goroutine.
func (u *UI) ShowTab(name string) bool {
	it := u.tabNamed(name)
	if it != nil {
		u.tabs.Select(it)
	}
	return it != nil
}

// tabNamed is the tab of that name (see ShowTab), or nil.
func (u *UI) tabNamed(name string) *container.TabItem {
	items := map[string]*container.TabItem{"search": u.searchItem, "transfers": u.transferItem,
		"library": u.libraryItem, "ratio": u.ratioItem, "settings": u.settingsItem}
	return items[strings.ToLower(name)]
}
