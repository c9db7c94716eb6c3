package ui

import "github.com/shoalp2p/shoal/engine"

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
