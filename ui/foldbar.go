package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// foldBar is a toolbar row that folds the buttons it has no room for into
// a "More" menu at its end, so a narrow window (800 px) keeps every action.
type foldBar struct {
	objs    []fyne.CanvasObject // buttons and separators, in order
	more    *widget.Button
	content *fyne.Container
	hidden  []fyne.CanvasObject // folded by the last layout
	win     fyne.Window
}

func newFoldBar(win fyne.Window, objs ...fyne.CanvasObject) *foldBar {
	f := &foldBar{objs: objs, win: win}
	f.more = widget.NewButtonWithIcon("", theme.MoreHorizontalIcon(), f.showMore)
	all := append(append([]fyne.CanvasObject{}, objs...), f.more)
	f.content = container.New(&foldLayout{f: f}, all...)
	return f
}

// showMore pops up the folded buttons as a menu under the More button.
func (f *foldBar) showMore() {
	var items []*fyne.MenuItem
	for _, o := range f.hidden {
		b, ok := o.(*tipButton)
		if !ok {
			continue
		}
		it := fyne.NewMenuItem(b.Text, b.OnTapped)
		it.Icon, it.Disabled = b.Icon, b.Disabled()
		items = append(items, it)
	}
	if len(items) == 0 {
		return
	}
	d := fyne.CurrentApp().Driver()
	pos := d.AbsolutePositionForObject(f.more).Add(fyne.NewPos(0, f.more.Size().Height))
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), f.win.Canvas(), pos)
}

// foldLayout lays the bar out left to right and folds what does not fit.
type foldLayout struct{ f *foldBar }

func (l *foldLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	h := l.f.more.MinSize().Height
	for _, o := range l.f.objs {
		h = max(h, o.MinSize().Height)
	}
	// The first button and More: everything else may fold.
	w := l.f.more.MinSize().Width
	if len(l.f.objs) > 0 {
		w += l.f.objs[0].MinSize().Width + theme.Padding()
	}
	return fyne.NewSize(w, h)
}

func (l *foldLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	total := -pad
	for _, o := range l.f.objs {
		total += o.MinSize().Width + pad
	}
	fits := total <= size.Width
	room := size.Width
	if !fits {
		room -= l.f.more.MinSize().Width + pad
	}
	l.f.hidden = l.f.hidden[:0]
	x := float32(0)
	folding := false
	for _, o := range l.f.objs {
		w := o.MinSize().Width
		folding = folding || x+w > room
		if folding {
			o.Hide()
			l.f.hidden = append(l.f.hidden, o)
			continue
		}
		o.Show()
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos(x, 0))
		x += w + pad
	}
	setVisible(l.f.more, !fits)
	if !fits {
		l.f.more.Resize(fyne.NewSize(l.f.more.MinSize().Width, size.Height))
		l.f.more.Move(fyne.NewPos(x, 0))
	}
}
