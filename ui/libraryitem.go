package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// Actions on one shared item of the Library (its right-click menu):
// saving its .torrent file and stopping sharing it.

// askSaveTorrent asks where to save its .torrent file, starting in the
// item's folder with the item's name, and has the engine write it there.
func (l *libraryTab) askSaveTorrent(it engine.LibraryItem) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		l.saving = nil
		if err != nil {
			l.u.showError(&opError{op: "choose where to save the .torrent file", err: err})
			return
		}
		if w == nil {
			return // cancelled
		}
		path := w.URI().Path()
		// The dialog opened (and so created) the file; the engine writes
		// it anew, whole or not at all.
		_ = w.Close()
		l.saveTorrent(it, path)
	}, l.u.win)
	d.SetFileName(torrentFileName(it.Name))
	d.SetFilter(storage.NewExtensionFileFilter([]string{".torrent"}))
	if dir, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(it.Path))); err == nil {
		d.SetLocation(dir)
	}
	l.saving = d
	d.Show()
}

// saveTorrent has the engine write the .torrent file of it to path. If that
// fails, the empty file the save dialog made is removed again.
func (l *libraryTab) saveTorrent(it engine.LibraryItem, path string) {
	l.u.actOr("save the .torrent file of "+it.Name,
		func() error { return l.u.eng.SaveTorrent(it.InfoHash, path) },
		func() { l.info.SetText(fmt.Sprintf("Saved the .torrent file of %q as %s.", it.Name, path)) },
		func() {
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
				_ = os.Remove(path)
			}
		})
}

// torrentFileName is the file name offered for name's .torrent file.
func torrentFileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	if name == "" || name == "." || name == ".." {
		name = "shared"
	}
	return name + ".torrent"
}

// stopShareDialog asks before an item leaves the Library.
type stopShareDialog struct {
	dlg     *dialog.CustomDialog
	confirm *widget.Button
	cancel  *widget.Button
}

// askStopSharing asks to confirm that it should no longer be shared,
// saying that its files stay where they are.
func (l *libraryTab) askStopSharing(it engine.LibraryItem) {
	d := &stopShareDialog{}
	msg := widget.NewLabel(fmt.Sprintf("Stop sharing %q? Shoal stops seeding it and takes it off the Library. "+
		"Your files are not deleted: they stay where they are.", it.Name))
	msg.Wrapping = fyne.TextWrapWord
	where := widget.NewLabel("Files: " + it.Path)
	where.Truncation = fyne.TextTruncateEllipsis
	d.dlg = dialog.NewCustomWithoutButtons("Stop sharing", container.NewVBox(msg, where), l.u.win)
	d.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
		d.dlg.Hide()
		l.stopping = nil
	})
	d.confirm = widget.NewButtonWithIcon("Stop sharing", theme.ContentRemoveIcon(), func() {
		d.dlg.Hide()
		l.stopping = nil
		l.u.act("stop sharing "+it.Name, func() error { return l.u.eng.Remove(it.InfoHash, false) }, func() {
			l.info.SetText(fmt.Sprintf("Stopped sharing %q; its files are still in %s.", it.Name, filepath.Dir(it.Path)))
		})
	})
	d.confirm.Importance = widget.DangerImportance
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.confirm})
	d.dlg.Resize(fyne.NewSize(460, 220))
	l.stopping = d
	l.u.keyed(d.dlg, d.confirm.OnTapped, d.cancel.OnTapped)
	d.dlg.Show()
}
