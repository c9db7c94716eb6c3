package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Fyne 2.7 has no tooltips. Shoal draws its own: a label on a layer above
// the window content that takes no input (neither tappable nor hoverable,
// so the pointer keeps talking to the widget under it), shown when the
// pointer rests on a widget for tipDelay and hidden when it leaves.

// tipDelay is how long the pointer rests before a tooltip shows.
const tipDelay = 600 * time.Millisecond

// tipLayer is the window's tooltip layer. It is owned by the Fyne
// goroutine; the timer hops back there through UI.do.
type tipLayer struct {
	layer *fyne.Container // without layout: the tip is placed by hand
	box   *fyne.Container
	text  *widget.Label
	owner fyne.CanvasObject // the widget whose tip shows or is pending
	timer *time.Timer
	do    func(func()) // hands the due tip to the Fyne goroutine (UI.do)

	// manual holds a pending tip in pending instead of starting a timer:
	// under Fyne's test driver fyne.Do runs on the timer's goroutine, so
	// tests fire the tip themselves, on their own goroutine (waitTip).
	manual  bool
	pending func()
}

func newTipLayer() *tipLayer {
	t := &tipLayer{text: widget.NewLabel(""), do: fyne.Do}
	t.text.Wrapping = fyne.TextWrapWord
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	bg.StrokeColor = theme.Color(theme.ColorNameSeparator)
	bg.StrokeWidth = 1
	bg.CornerRadius = theme.SelectionRadiusSize()
	t.box = container.NewStack(bg, t.text)
	t.box.Hide()
	t.layer = container.NewWithoutLayout(t.box)
	return t
}

// wrap puts the tooltip layer over content.
func (t *tipLayer) wrap(content fyne.CanvasObject) fyne.CanvasObject {
	return container.NewStack(content, t.layer)
}

// hover schedules owner's tip.
func (t *tipLayer) hover(owner fyne.CanvasObject, text func() string) {
	t.owner = owner
	if t.timer != nil {
		t.timer.Stop()
	}
	due := func() {
		if t.owner == owner {
			t.show(owner, text())
		}
	}
	if t.manual {
		t.pending = due
		return
	}
	t.timer = time.AfterFunc(tipDelay, func() { t.do(due) })
}

// leave hides owner's tip, shown or pending.
func (t *tipLayer) leave(owner fyne.CanvasObject) {
	if t.owner != owner {
		return
	}
	t.owner, t.pending = nil, nil
	if t.timer != nil {
		t.timer.Stop()
	}
	t.box.Hide()
}

// show places the tip under owner, kept inside the window.
func (t *tipLayer) show(owner fyne.CanvasObject, text string) {
	if text == "" {
		return
	}
	t.text.SetText(text)
	d := fyne.CurrentApp().Driver()
	at := d.AbsolutePositionForObject(owner).Subtract(d.AbsolutePositionForObject(t.layer))
	area := t.layer.Size()
	w := min(t.text.MinSize().Width, 360)
	t.text.Resize(fyne.NewSize(w, 0))
	size := fyne.NewSize(w, t.text.MinSize().Height)
	pos := fyne.NewPos(at.X, at.Y+owner.Size().Height+2)
	if pos.Y+size.Height > area.Height { // no room below: above
		pos.Y = at.Y - size.Height - 2
	}
	pos.X = max(0, min(pos.X, area.Width-size.Width))
	pos.Y = max(0, pos.Y)
	t.box.Resize(size)
	t.box.Move(pos)
	t.box.Show()
	t.layer.Refresh()
}

// shown is the text of the tip on screen, or "" (tests).
func (t *tipLayer) shown() string {
	if !t.box.Visible() {
		return ""
	}
	return t.text.Text
}

// tipButton is a button with a tooltip.
type tipButton struct {
	widget.Button
	tips *tipLayer
	tip  string
}

// newTipButton makes a button with an icon, a label and a tooltip.
func newTipButton(tips *tipLayer, label string, icon fyne.Resource, tapped func(), tip string) *tipButton {
	b := &tipButton{tips: tips, tip: tip}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// MouseIn highlights the button and schedules its tip.
func (b *tipButton) MouseIn(e *desktop.MouseEvent) {
	b.Button.MouseIn(e)
	b.tips.hover(b, func() string { return b.tip })
}

// MouseOut hides the tip.
func (b *tipButton) MouseOut() {
	b.Button.MouseOut()
	b.tips.leave(b)
}

// Tapped hides the tip and presses the button.
func (b *tipButton) Tapped(e *fyne.PointEvent) {
	b.tips.leave(b)
	b.Button.Tapped(e)
}

// tipped shows a tooltip over a widget that has none of its own hover
// handling, such as a label. Its text is asked for when the tip shows.
type tipped struct {
	widget.BaseWidget
	content fyne.CanvasObject
	tips    *tipLayer
	text    func() string
}

func newTipped(tips *tipLayer, content fyne.CanvasObject, text func() string) *tipped {
	t := &tipped{content: content, tips: tips, text: text}
	t.ExtendBaseWidget(t)
	return t
}

// CreateRenderer shows the wrapped content.
func (t *tipped) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(t.content)
}

// MouseIn schedules the tip.
func (t *tipped) MouseIn(*desktop.MouseEvent) { t.tips.hover(t, t.text) }

// MouseMoved does nothing: the tip stays where it was placed.
func (t *tipped) MouseMoved(*desktop.MouseEvent) {}

// MouseOut hides the tip.
func (t *tipped) MouseOut() { t.tips.leave(t) }

var _ desktop.Hoverable = (*tipped)(nil)
