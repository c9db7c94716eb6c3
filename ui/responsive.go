package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// columnsLayout puts its objects side by side in equal columns when the
// width allows each its minimum, and one under the other when it does
// not, so a page of settings cards fits an 800 px window. Its minimum
// size follows the arrangement of the last layout; a change of
// arrangement refreshes the container so a scroller around it measures it
// again.
type columnsLayout struct {
	stacked bool
	box     *fyne.Container
}

// newColumns arranges objs in columns or a stack, whichever fits.
func newColumns(objs ...fyne.CanvasObject) *fyne.Container {
	l := &columnsLayout{}
	l.box = fyne.NewContainerWithLayout(l, objs...)
	return l.box
}

// sideBySide is the width the objects need in columns.
func sideBySide(objs []fyne.CanvasObject) float32 {
	w := float32(0)
	for _, o := range objs {
		w = max(w, o.MinSize().Width)
	}
	return w*float32(len(objs)) + theme.Padding()*float32(len(objs)-1)
}

func (l *columnsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	if stacked := size.Width < sideBySide(objs); stacked != l.stacked {
		l.stacked = stacked
		if l.box != nil {
			defer l.box.Refresh()
		}
	}
	pad := theme.Padding()
	if l.stacked {
		y := float32(0)
		for _, o := range objs {
			h := o.MinSize().Height
			o.Resize(fyne.NewSize(size.Width, h))
			o.Move(fyne.NewPos(0, y))
			y += h + pad
		}
		return
	}
	w := (size.Width - pad*float32(len(objs)-1)) / float32(len(objs))
	for i, o := range objs {
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos(float32(i)*(w+pad), 0))
	}
}

func (l *columnsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	pad := theme.Padding()
	for i, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		switch {
		case !l.stacked:
			s.Height = max(s.Height, m.Height)
		case i == 0:
			s.Height = m.Height
		default:
			s.Height += pad + m.Height
		}
	}
	return s
}

// statusRow lays a status line out left to right at each item's natural
// width; in a narrow window the items at the end are cut short (their
// labels truncate with an ellipsis) instead of widening the window.
type statusRow struct{}

// newStatusRow makes a row of status items.
func newStatusRow(objs ...fyne.CanvasObject) *fyne.Container {
	return container.New(statusRow{}, objs...)
}

// natural is the width o would like: a truncating label's whole text.
func natural(o fyne.CanvasObject) float32 {
	switch w := o.(type) {
	case *tipped:
		return natural(w.content)
	case *hintLabel:
		return labelWidth(&w.Label)
	case *widget.Label:
		return labelWidth(w)
	}
	return o.MinSize().Width
}

// labelWidth measures l's text as an untruncated label shows it: a fresh
// label, as measuring the text alone came out short under the GL driver.
func labelWidth(l *widget.Label) float32 {
	return widget.NewLabelWithStyle(l.Text, l.Alignment, l.TextStyle).MinSize().Width
}

func (statusRow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	x := float32(0)
	for _, o := range objs {
		w := min(natural(o), max(0, size.Width-x))
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos(x, 0))
		x += w
	}
}

func (statusRow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(objs[0].MinSize().Width, h)
}
