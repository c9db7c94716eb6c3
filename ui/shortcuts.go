package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/shoalp2p/shoal/engine"
)

// Keyboard shortcuts of the main window:
//
//	Ctrl+F  search            Ctrl+O  open a .torrent file
//	Ctrl+V  add the magnet link on the clipboard (a focused text field pastes instead)
//	Delete  remove the selected transfer (asks first)
//	Space   pause or resume the selected transfer
//	Ctrl+Q  quit
//	Escape and Enter close and confirm dialogs (see dialogkeys.go)
//
// Ctrl+F, Ctrl+O and Ctrl+Q live in the main menu: the GLFW driver tries
// the menu's shortcuts before the focused widget's, so they work while
// the search field has the focus. Ctrl+V is a canvas shortcut, reached
// only when no text field has the focus, so pasting into a field still
// pastes. Delete and Space are plain keys, which reach the canvas only
// when no widget has the focus.
var (
	scFind  = &desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}
	scOpen  = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	scQuit  = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
	scPaste = &fyne.ShortcutPaste{}
)

// installKeys sets the main menu, the canvas shortcuts and the key
// handler of the main window.
func (u *UI) installKeys() {
	u.win.SetMainMenu(u.mainMenu())
	c := u.win.Canvas()
	c.AddShortcut(scPaste, func(fyne.Shortcut) { u.pasteMagnet() })
	c.SetOnTypedKey(u.typedKey)
}

// mainMenu is the window's menu bar; its items carry the shortcuts.
func (u *UI) mainMenu() *fyne.MainMenu {
	addMagnet := fyne.NewMenuItem("Add magnet link…", u.transfers.askMagnet)
	paste := fyne.NewMenuItem("Add magnet link from clipboard (Ctrl+V)", u.pasteMagnet)
	open := fyne.NewMenuItem("Open .torrent file…", u.transfers.askTorrent)
	open.Shortcut = scOpen
	shareFiles := fyne.NewMenuItem("Share files…", u.library.askFile)
	shareFolder := fyne.NewMenuItem("Share folder…", u.library.askFolder)
	newTorrent := fyne.NewMenuItem("New torrent…", u.newTorrent)
	quit := fyne.NewMenuItem("Quit", u.Quit)
	quit.Shortcut, quit.IsQuit = scQuit, true
	find := fyne.NewMenuItem("Search", u.focusSearch)
	find.Shortcut = scFind
	toggle := fyne.NewMenuItem("Pause or resume (Space)", u.togglePause)
	remove := fyne.NewMenuItem("Remove… (Delete)", u.removeSelected)
	return fyne.NewMainMenu(
		fyne.NewMenu("File", addMagnet, paste, open, fyne.NewMenuItemSeparator(),
			shareFiles, shareFolder, newTorrent, fyne.NewMenuItemSeparator(), quit),
		fyne.NewMenu("Transfer", find, fyne.NewMenuItemSeparator(), toggle, remove),
	)
}

// typedKey handles keys that no focused widget took: Escape and Enter on
// an open dialog, Delete and Space on the selected transfer.
func (u *UI) typedKey(ev *fyne.KeyEvent) {
	if u.dialogKey(ev) {
		return
	}
	if u.win.Canvas().Overlays().Top() != nil {
		return // a dialog or menu we do not drive: keys are not for the table
	}
	switch ev.Name {
	case fyne.KeyDelete:
		u.removeSelected()
	case fyne.KeySpace:
		u.togglePause()
	}
}

// focusSearch shows the Search tab with the cursor in its field.
func (u *UI) focusSearch() {
	u.tabs.Select(u.searchItem)
	u.win.Canvas().Focus(u.search.entry)
}

// removeSelected asks to remove the selected transfer, if the Transfers tab
// shows one.
func (u *UI) removeSelected() {
	if u.tabs.Selected() == u.transferItem {
		u.transfers.removeSelected()
	}
}

// togglePause pauses the selected transfer, or resumes it when it is
// paused, if the Transfers tab shows one.
func (u *UI) togglePause() {
	if u.tabs.Selected() != u.transferItem {
		return
	}
	tr, ok := u.transfers.selected()
	if !ok {
		return
	}
	if stopped(tr.State) {
		u.transfers.resumeSelected()
	} else {
		u.transfers.pauseSelected()
	}
}

// stopped reports whether a transfer in state st can be resumed.
func stopped(st engine.TransferState) bool {
	return st == engine.StatePaused || st == engine.StateError || st == engine.StateComplete
}

// pasteMagnet adds the magnet link or infohash on the clipboard, or says
// what the clipboard would need to hold.
func (u *UI) pasteMagnet() {
	text := strings.TrimSpace(u.app.Clipboard().Content())
	if !looksLikeLink(text) {
		u.inform("No magnet link on the clipboard",
			"Copy a magnet link (it starts with \"magnet:?\") in your browser, then press Ctrl+V here again. "+
				"To add a .torrent file, press Ctrl+O or drop it on the window.")
		return
	}
	u.Add(text)
}

// looksLikeLink reports whether s is worth handing to the engine as a
// download source: a magnet link or a 40-digit hex infohash. The engine
// still checks it in full.
func looksLikeLink(s string) bool {
	if strings.HasPrefix(strings.ToLower(s), "magnet:?") {
		return true
	}
	return len(s) == 40 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}
