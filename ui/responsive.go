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
	l.box = container.New(l, objs...)
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

// statusFlow lays the status items out left to right at their natural
// widths, with a separator between neighbours, and the last object (the
// rates) at the right end. When they do not all fit on one line (an
// 800 px window with a busy node), the items that do not fit start a
// second line instead of being cut short, so nothing is truncated; an item
// wider than the whole window is the only one an ellipsis shortens. Its
// minimum height follows the lines of the last layout; a change of line
// count refreshes the container so the window measures it again.
type statusFlow struct {
	lines int
	box   *fyne.Container
}

// newStatusFlow makes the status line: items, separators between them,
// and right at the end.
func newStatusFlow(right fyne.CanvasObject, items ...fyne.CanvasObject) *fyne.Container {
	l := &statusFlow{lines: 1}
	var objs []fyne.CanvasObject
	for i, it := range items {
		if i > 0 {
			objs = append(objs, widget.NewSeparator())
		}
		objs = append(objs, it)
	}
	l.box = container.New(l, append(objs, right)...)
	return l.box
}

// natural is the width o would like: a truncating label's whole text.
func natural(o fyne.CanvasObject) float32 {
	switch w := o.(type) {
	case *tipped:
		return natural(w.content)
	case *widget.Label:
		if w.Truncation == fyne.TextTruncateOff {
			return w.MinSize().Width
		}
		// A truncating label cuts its text short a little before its
		// measured width: give it the inner padding on both sides.
		return labelWidth(w) + 2*theme.InnerPadding()
	case *fyne.Container:
		if w.Layout == nil || len(w.Objects) == 0 {
			return o.MinSize().Width
		}
		// An HBox of labels: their natural widths and the gaps.
		total := float32(0)
		n := 0
		for _, c := range w.Objects {
			if c.Visible() {
				total += natural(c)
				n++
			}
		}
		return total + theme.Padding()*float32(max(n-1, 0))
	}
	return o.MinSize().Width
}

// labelWidth measures l's text as an untruncated label shows it: a fresh
// label, as measuring the text alone came out short under the GL driver.
func labelWidth(l *widget.Label) float32 {
	return widget.NewLabelWithStyle(l.Text, l.Alignment, l.TextStyle).MinSize().Width
}

// rowHeight is the height of one status line.
func rowHeight(objs []fyne.CanvasObject) float32 {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return h
}

func (l *statusFlow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	h := rowHeight(objs)
	line, x := 0, float32(0)
	var sep fyne.CanvasObject // the separator waiting for the next item
	items, right := objs[:len(objs)-1], objs[len(objs)-1]
	for _, o := range items {
		if _, ok := o.(*widget.Separator); ok {
			sep = o
			o.Resize(fyne.Size{}) // shown only between two items on a line
			continue
		}
		w := natural(o)
		sw := float32(0)
		if sep != nil {
			sw = sep.MinSize().Width + theme.Padding()
		}
		if x > 0 && x+sw+w > size.Width { // no room: a new line
			line, x, sw = line+1, 0, 0
		}
		if sw > 0 {
			sep.Resize(fyne.NewSize(sep.MinSize().Width, h-2*theme.Padding()))
			sep.Move(fyne.NewPos(x+theme.Padding()/2, float32(line)*h+theme.Padding()))
			x += sw
		}
		sep = nil
		w = min(w, size.Width-x)
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos(x, float32(line)*h))
		x += w
	}
	rw := natural(right)
	if x > 0 && x+theme.Padding()+rw > size.Width {
		line, x = line+1, 0
	}
	rw = min(rw, size.Width)
	right.Resize(fyne.NewSize(rw, h))
	right.Move(fyne.NewPos(size.Width-rw, float32(line)*h))
	if line+1 != l.lines {
		l.lines = line + 1
		if l.box != nil {
			defer l.box.Refresh()
		}
	}
}

func (l *statusFlow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	w := float32(0)
	for _, o := range objs {
		w = max(w, o.MinSize().Width)
	}
	return fyne.NewSize(w, rowHeight(objs)*float32(l.lines))
}
