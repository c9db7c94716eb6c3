package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
)

// fileOpen returns a file-open dialog (not yet shown) that hands the
// chosen file to chosen. Only the file's URI is wanted (the engine reads
// the file itself), so the dialog's reader is closed at once. A failure
// is shown as failing to op; a cancel does nothing. The Library's "Add
// files…" and the Transfers tab's "Open .torrent…" share it.
func (u *UI) fileOpen(op string, chosen func(fyne.URI)) *dialog.FileDialog {
	return dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			u.showError(&opError{op: op, err: err})
			return
		}
		if r == nil {
			return // cancelled
		}
		uri := r.URI()
		_ = r.Close()
		chosen(uri)
	}, u.win)
}
