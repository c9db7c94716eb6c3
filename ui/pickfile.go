package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
)

// fileOpen returns a file-open dialog (not yet shown) that hands the
// chosen file to chosen (see openedFile). The Library's "Add files…" and
// the Transfers tab's "Open .torrent…" share it.
func (u *UI) fileOpen(op string, chosen func(fyne.URI)) *dialog.FileDialog {
	return dialog.NewFileOpen(u.openedFile(op, chosen), u.win)
}

// openedFile is a file-open dialog's callback: only the chosen file's URI
// is wanted (the engine reads the file itself), so the reader is closed at
// once and the URI handed to chosen. A failure is shown as failing to op;
// a cancel does nothing.
func (u *UI) openedFile(op string, chosen func(fyne.URI)) func(fyne.URIReadCloser, error) {
	return func(r fyne.URIReadCloser, err error) {
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
	}
}
