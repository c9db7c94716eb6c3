package ui

import (
	"fmt"
	"net/url"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/shoalp2p/shoal/engine"
)

// Right-click menus on table rows. A right-click selects the row first
// (gridTable.showMenu), so the toolbar agrees with the menu; the items act
// on the transfer or hit the menu was opened for.

// menuItem makes a menu item with an icon.
func menuItem(label string, icon fyne.Resource, action func()) *fyne.MenuItem {
	it := fyne.NewMenuItem(label, action)
	it.Icon = icon
	return it
}

// rowMenu is a transfer row's right-click menu.
func (t *transfersTab) rowMenu(row int) *fyne.Menu {
	if row < 0 || row >= len(t.list) {
		return nil
	}
	tr := t.list[row]
	toggle := menuItem("Pause", theme.MediaPauseIcon(), func() { t.pauseTransfer(tr) })
	if stopped(tr.State) {
		toggle = menuItem("Resume", theme.MediaPlayIcon(), func() { t.resumeTransfer(tr) })
	}
	open := menuItem("Open folder", theme.FolderOpenIcon(), func() { t.openTransferFolder(tr) })
	open.Disabled = tr.Dir == ""
	move := menuItem("Move to…", theme.FolderNewIcon(), func() { t.askMove(tr) })
	move.Disabled = !tr.Done()
	files := menuItem("Files…", theme.ListIcon(), t.filesSelected)
	files.Disabled = tr.Size <= 0
	items := []*fyne.MenuItem{
		toggle,
		menuItem("Remove…", theme.DeleteIcon(), func() { t.askRemove(tr, false) }),
		menuItem("Remove with data…", theme.DeleteIcon(), func() { t.askRemove(tr, true) }),
		fyne.NewMenuItemSeparator(),
		open,
		move,
		menuItem("Copy magnet link", theme.ContentCopyIcon(), func() { t.u.copyMagnet(tr.InfoHash, tr.Name, tr.Magnet) }),
		fyne.NewMenuItemSeparator(),
	}
	items = append(items, t.u.queueMenuItems(tr)...)
	items = append(items, fyne.NewMenuItemSeparator(),
		menuItem("Options…", theme.SettingsIcon(), t.optionsSelected), files)
	return fyne.NewMenu("", items...)
}

// rowMenu is a search result's right-click menu.
func (s *searchTab) rowMenu(row int) *fyne.Menu {
	if row < 0 || row >= len(s.shown) {
		return nil
	}
	h := s.hits[s.shown[row]]
	dl := menuItem("Download", theme.DownloadIcon(), func() { s.downloadHit(h) })
	if s.u.transfers.has(h.InfoHash) {
		dl.Label, dl.Disabled = "Downloading already", true
	}
	return fyne.NewMenu("", dl,
		menuItem("Copy magnet link", theme.ContentCopyIcon(), func() { s.u.copyMagnet(h.InfoHash, h.Name, h.Magnet) }))
}

// copyMagnet puts a magnet link on the clipboard: link when there is one,
// else one built from the infohash and name.
func (u *UI) copyMagnet(h engine.InfoHash, name, link string) {
	if link == "" {
		link = engine.Magnet(h, name)
	}
	u.app.Clipboard().SetContent(link)
}

// rowMenu is a shared item's right-click menu: open it, show it in its
// folder, copy its magnet link, save its .torrent file, stop sharing it.
func (l *libraryTab) rowMenu(row int) *fyne.Menu {
	if row < 0 || row >= len(l.items) {
		return nil
	}
	it := l.items[row]
	open := func(path, what string) func() {
		return func() {
			if err := l.u.openURL(&url.URL{Scheme: "file", Path: path}); err != nil {
				l.u.showError(&opError{op: what + " " + it.Name, err: err})
			}
		}
	}
	cp := menuItem("Copy magnet link", theme.ContentCopyIcon(), func() {
		l.u.app.Clipboard().SetContent(it.Magnet)
		l.info.SetText(fmt.Sprintf("Copied the magnet link of %q.", it.Name))
	})
	cp.Disabled = it.Magnet == ""
	return fyne.NewMenu("",
		menuItem("Open", theme.FileIcon(), open(it.Path, "open")),
		menuItem("Show in folder", theme.FolderOpenIcon(), open(filepath.Dir(it.Path), "show the folder of")),
		cp,
		menuItem("Save .torrent file…", theme.DocumentSaveIcon(), func() { l.askSaveTorrent(it) }),
		fyne.NewMenuItemSeparator(),
		menuItem("Stop sharing…", theme.ContentRemoveIcon(), func() { l.askStopSharing(it) }))
}
