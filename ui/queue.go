package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// The queue's actions on one transfer, for the Transfers tab's Queue
// button and for right-click menus: move up, move down, force start.

// moveInQueue moves tr one place earlier (up) or later in the queue.
func (u *UI) moveInQueue(tr engine.TransferSnapshot, up bool) {
	op := "move " + tr.Name + " down the queue"
	if up {
		op = "move " + tr.Name + " up the queue"
	}
	u.act(op, func() error { return u.eng.MoveInQueue(tr.InfoHash, up) }, nil)
}

// forceStart starts tr now, whatever the active limits.
func (u *UI) forceStart(tr engine.TransferSnapshot) {
	u.act("force start "+tr.Name, func() error { return u.eng.ForceStart(tr.InfoHash) }, nil)
}

// queueMenuItems are the queue actions for tr, ready for a menu.
func (u *UI) queueMenuItems(tr engine.TransferSnapshot) []*fyne.MenuItem {
	upItem := fyne.NewMenuItem("Move up in queue", func() { u.moveInQueue(tr, true) })
	upItem.Icon = theme.MoveUpIcon()
	downItem := fyne.NewMenuItem("Move down in queue", func() { u.moveInQueue(tr, false) })
	downItem.Icon = theme.MoveDownIcon()
	force := fyne.NewMenuItem("Force start", func() { u.forceStart(tr) })
	force.Icon = theme.MediaFastForwardIcon()
	force.Disabled = tr.State != engine.StateQueued && tr.State != engine.StatePaused
	return []*fyne.MenuItem{upItem, downItem, force}
}

// newQueueButton is the Transfers tab's "Queue" button: a menu of the
// queue actions for the selected transfer, under the button (or, when the
// toolbar folded it away, near the window's top right).
func (t *transfersTab) newQueueButton() *tipButton {
	var b *tipButton
	b = newTipButton(t.u.tips, "Queue", theme.MenuIcon(), func() {
		tr, ok := t.selected()
		if !ok {
			return
		}
		c := t.u.win.Canvas()
		pos := fyne.NewPos(c.Size().Width-260, 2*theme.Padding()+b.MinSize().Height)
		if b.Visible() && fyne.CurrentApp().Driver().CanvasForObject(b) != nil {
			pos = fyne.CurrentApp().Driver().AbsolutePositionForObject(b).Add(fyne.NewPos(0, b.Size().Height))
		}
		t.queueMenu = widget.NewPopUpMenu(fyne.NewMenu("", t.u.queueMenuItems(tr)...), c)
		t.queueMenu.ShowAtPosition(pos)
	}, "Move the selected transfer up or down the queue, or start it now whatever the limits")
	return b
}

// queuedText is the State cell of a queued transfer: its place in line.
func queuedText(tr engine.TransferSnapshot) string {
	if tr.Size > 0 && tr.Have == tr.Size {
		return fmt.Sprintf("Queued %d to seed", tr.Queued)
	}
	return fmt.Sprintf("Queued %d", tr.Queued)
}

// queueSettings is the Settings tab's Queue card.
type queueSettings struct {
	downloads, seeds *widget.Entry
}

func newQueueSettings() queueSettings {
	return queueSettings{downloads: widget.NewEntry(), seeds: widget.NewEntry()}
}

func (q queueSettings) card() fyne.CanvasObject {
	return widget.NewCard("Queue", "How many run at once; the others wait in line. 0 = no limit", widget.NewForm(
		widget.NewFormItem("Active downloads", withUnit(q.downloads, "at most")),
		widget.NewFormItem("Active seeds", withUnit(q.seeds, "at most"))))
}

func (q queueSettings) fill(s engine.Settings) {
	q.downloads.SetText(fmt.Sprint(s.MaxActiveDownloads))
	q.seeds.SetText(fmt.Sprint(s.MaxActiveSeeds))
}

// read puts the card's values in s, handing problems to keep.
func (q queueSettings) read(s *engine.Settings, keep func(error)) {
	var err error
	s.MaxActiveDownloads, err = parseCount("Active downloads", q.downloads.Text, 0, 10_000)
	keep(err)
	s.MaxActiveSeeds, err = parseCount("Active seeds", q.seeds.Text, 0, 10_000)
	keep(err)
}
