package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// keyedDialog is an open dialog that Escape cancels and Enter confirms.
type keyedDialog struct {
	d               dialog.Dialog
	confirm, cancel func()
}

// keyed registers d, once shown, for Escape (cancel, or d.Hide when nil)
// and Enter (confirm; nil ignores Enter). The registration ends when d
// closes. Fyne's dialogs take neither key by themselves.
func (u *UI) keyed(d dialog.Dialog, confirm, cancel func()) {
	if cancel == nil {
		cancel = d.Hide
	}
	k := &keyedDialog{d: d, confirm: confirm, cancel: cancel}
	u.dialogs = append(u.dialogs, k)
	d.SetOnClosed(func() { u.unkey(k) })
}

func (u *UI) unkey(k *keyedDialog) {
	for i, o := range u.dialogs {
		if o == k {
			u.dialogs = append(u.dialogs[:i], u.dialogs[i+1:]...)
			return
		}
	}
}

// dialogKey applies Escape or Enter to the dialog opened last, and
// reports whether it took the key.
func (u *UI) dialogKey(ev *fyne.KeyEvent) bool {
	if len(u.dialogs) == 0 {
		return false
	}
	k := u.dialogs[len(u.dialogs)-1]
	switch ev.Name {
	case fyne.KeyEscape:
		k.cancel()
		return true
	case fyne.KeyReturn, fyne.KeyEnter:
		if k.confirm != nil {
			k.confirm()
		}
		return true
	}
	return false
}

// inform shows a message that Escape or Enter closes.
func (u *UI) inform(title, text string) {
	d := dialog.NewInformation(title, text, u.win)
	u.keyed(d, d.Hide, d.Hide)
	d.Show()
}

// dialogEntry is a text field for a dialog: Escape cancels the dialog
// (a focused field would otherwise swallow it), Enter submits.
type dialogEntry struct {
	widget.Entry
	onEscape func()
}

func newDialogEntry(onEnter, onEscape func()) *dialogEntry {
	e := &dialogEntry{onEscape: onEscape}
	e.ExtendBaseWidget(e)
	e.OnSubmitted = func(string) { onEnter() }
	return e
}

// TypedKey cancels the dialog on Escape and edits text otherwise.
func (e *dialogEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(ev)
}
