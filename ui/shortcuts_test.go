package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// pressShortcut delivers sc as the GLFW driver does (window.triggersShortcut):
// the main menu's items first, then the focused widget, then the canvas.
func pressShortcut(u *UI, sc fyne.Shortcut) {
	if menuShortcut(u.win.MainMenu(), sc) {
		return
	}
	c := u.win.Canvas()
	if f, ok := c.Focused().(fyne.Shortcutable); ok {
		f.TypedShortcut(sc)
		return
	}
	c.(fyne.Shortcutable).TypedShortcut(sc)
}

func menuShortcut(m *fyne.MainMenu, sc fyne.Shortcut) bool {
	if m == nil {
		return false
	}
	for _, menu := range m.Items {
		for _, it := range menu.Items {
			if it.Shortcut != nil && it.Shortcut.ShortcutName() == sc.ShortcutName() && it.Action != nil {
				it.Action()
				return true
			}
		}
	}
	return false
}

// pressKey delivers a plain key as the driver does: to the focused widget,
// or else to the canvas.
func pressKey(u *UI, name fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: name}
	c := u.win.Canvas()
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
		return
	}
	if h := c.OnTypedKey(); h != nil {
		h(ev)
	}
}

// topText is the markup of the top overlay, or "" when none is open.
func topText(u *UI) string {
	if top := u.win.Canvas().Overlays().Top(); top != nil {
		return test.RenderObjectToMarkup(top)
	}
	return ""
}

func TestCtrlFFocusesSearchEvenFromAField(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.transferItem)
	u.win.Canvas().Unfocus()
	pressShortcut(u, scFind)
	if u.tabs.Selected() != u.searchItem || u.win.Canvas().Focused() != u.search.entry {
		t.Fatalf("Ctrl+F: tab %q, focus %v", u.tabs.Selected().Text, u.win.Canvas().Focused())
	}
	// With the search field focused, Ctrl+O still opens the file dialog.
	pressShortcut(u, scOpen)
	if m := topText(u); !strings.Contains(m, ".torrent") && !strings.Contains(m, "Open") {
		t.Fatalf("Ctrl+O opened no file dialog:\n%s", m)
	}
	pressKey(u, fyne.KeyEscape)
	if top := u.win.Canvas().Overlays().Top(); top != nil {
		t.Fatal("Escape left the file dialog open")
	}
}

func TestCtrlVAddsTheMagnetOnTheClipboard(t *testing.T) {
	u, f := newTestUI(t)
	u.win.Canvas().Unfocus()
	const link = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x"
	u.app.Clipboard().SetContent("  " + link + "\n")
	pressShortcut(u, &fyne.ShortcutPaste{Clipboard: u.app.Clipboard()})
	settle(u)
	f.lock(func() {
		if len(f.downloads) != 1 || f.downloads[0].Source != link {
			t.Errorf("downloads = %+v, want the clipboard's magnet", f.downloads)
		}
	})
	if u.tabs.Selected() != u.transferItem {
		t.Error("the Transfers tab is not shown after Ctrl+V")
	}

	u.app.Clipboard().SetContent("just some words")
	pressShortcut(u, &fyne.ShortcutPaste{Clipboard: u.app.Clipboard()})
	if m := topText(u); !strings.Contains(m, "No magnet link on the clipboard") {
		t.Fatalf("no explanation for a clipboard without a magnet:\n%s", m)
	}
	pressKey(u, fyne.KeyReturn) // Enter closes the message
	if u.win.Canvas().Overlays().Top() != nil {
		t.Error("Enter left the message open")
	}
	f.lock(func() {
		if len(f.downloads) != 1 {
			t.Errorf("words were handed to the engine: %+v", f.downloads)
		}
	})
}

func TestCtrlVInAFieldPastesText(t *testing.T) {
	u, f := newTestUI(t)
	u.app.Clipboard().SetContent("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567")
	u.win.Canvas().Focus(u.search.entry)
	pressShortcut(u, &fyne.ShortcutPaste{Clipboard: u.app.Clipboard()})
	settle(u)
	if !strings.HasPrefix(u.search.entry.Text, "magnet:?") {
		t.Errorf("search field = %q, want the pasted text", u.search.entry.Text)
	}
	f.lock(func() {
		if len(f.downloads) != 0 {
			t.Errorf("a paste into the search field started a download: %+v", f.downloads)
		}
	})
}

func TestSpaceAndDeleteActOnTheSelectedTransfer(t *testing.T) {
	u, f := newTestUI(t)
	u.tabs.Select(u.transferItem)
	u.Refresh(twoTransfers(t.TempDir()))
	u.win.Canvas().Unfocus()
	pressKey(u, fyne.KeySpace) // nothing selected: nothing happens
	u.transfers.grid.selectRow(0)
	pressKey(u, fyne.KeySpace) // downloading: pause
	u.transfers.grid.selectRow(1)
	pressKey(u, fyne.KeySpace) // paused: resume
	settle(u)
	f.lock(func() {
		if len(f.paused) != 1 || f.paused[0] != hash(1) || len(f.resumed) != 1 || f.resumed[0] != hash(2) {
			t.Errorf("paused %v resumed %v", f.paused, f.resumed)
		}
	})

	pressKey(u, fyne.KeyDelete)
	if u.transfers.removing == nil || !strings.Contains(topText(u), "sintel.webm") {
		t.Fatalf("Delete did not ask to remove sintel.webm:\n%s", topText(u))
	}
	pressKey(u, fyne.KeySpace) // a dialog is open: Space does not reach the table
	pressKey(u, fyne.KeyEscape)
	if u.win.Canvas().Overlays().Top() != nil {
		t.Fatal("Escape left the remove dialog open")
	}
	pressKey(u, fyne.KeyDelete)
	pressKey(u, fyne.KeyReturn) // Enter confirms
	settle(u)
	f.lock(func() {
		if len(f.removed) != 1 || f.removed[0] != (removal{hash(2), false}) {
			t.Errorf("removed = %+v, want sintel without its data", f.removed)
		}
		if len(f.resumed) != 1 {
			t.Errorf("Space under the dialog acted: resumed %v", f.resumed)
		}
	})

	// On another tab, Delete and Space do nothing.
	u.tabs.Select(u.libraryItem)
	u.transfers.grid.selectRow(0)
	pressKey(u, fyne.KeyDelete)
	pressKey(u, fyne.KeySpace)
	settle(u)
	if u.win.Canvas().Overlays().Top() != nil {
		t.Error("Delete on the Library tab opened a dialog")
	}
	f.lock(func() {
		if len(f.paused) != 1 {
			t.Errorf("Space on the Library tab paused: %v", f.paused)
		}
	})
}

func TestMagnetDialogKeys(t *testing.T) {
	u, f := newTestUI(t)
	u.transfers.askMagnet()
	if _, ok := u.win.Canvas().Focused().(*dialogEntry); !ok {
		t.Fatalf("focus is on %T, want the link field", u.win.Canvas().Focused())
	}
	pressKey(u, fyne.KeyEscape)
	if u.win.Canvas().Overlays().Top() != nil {
		t.Fatal("Escape in the link field left the dialog open")
	}
	u.transfers.askMagnet()
	e := u.win.Canvas().Focused().(*dialogEntry)
	test.Type(e, "0123456789abcdef0123456789abcdef01234567")
	pressKey(u, fyne.KeyReturn)
	settle(u)
	f.lock(func() {
		if len(f.downloads) != 1 || f.downloads[0].Source != "0123456789abcdef0123456789abcdef01234567" {
			t.Errorf("Enter in the link field: downloads = %+v", f.downloads)
		}
	})
	if len(u.dialogs) != 0 {
		t.Errorf("%d dialogs still registered for keys", len(u.dialogs))
	}
}

func TestCtrlQQuits(t *testing.T) {
	u, _ := newTestUI(t)
	quit := 0
	u.onQuit = func() { quit++ }
	pressShortcut(u, scQuit)
	if quit != 1 {
		t.Errorf("Ctrl+Q quit %d times", quit)
	}
}

func TestLooksLikeLink(t *testing.T) {
	for s, want := range map[string]bool{
		"magnet:?xt=urn:btih:abc":                  true,
		"MAGNET:?xt=urn:btih:abc":                  true,
		"0123456789abcdef0123456789ABCDEF01234567": true,
		"0123456789abcdef0123456789abcdef0123456":  false,
		"https://example.org/a.torrent":            false,
		"":                                         false,
	} {
		if got := looksLikeLink(s); got != want {
			t.Errorf("looksLikeLink(%q) = %v", s, got)
		}
	}
}
