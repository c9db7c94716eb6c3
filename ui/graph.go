package ui

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// graphSamples is two minutes of one-per-second samples.
const graphSamples = 120

// minGraphScale keeps an idle graph from magnifying noise.
const minGraphScale = 16 * 1024

// rateGraph draws the last two minutes of download and upload rates as
// line segments. It shows the engine's per-second history when the
// snapshot carries one, else it samples the current rates once a second;
// it redraws only when a sample is added, and while hidden (another tab
// shown) not even then: it redraws once when shown again (setShown).
type rateGraph struct {
	widget.BaseWidget
	down, up []float64 // oldest first, at most graphSamples
	last     time.Time

	hidden  bool // its tab is not shown: samples are kept, not drawn
	stale   bool // samples arrived while hidden
	redrawn int  // redraws asked for, for tests
}

// redraw refreshes the graph if it is shown, or marks it stale.
func (g *rateGraph) redraw() {
	if g.hidden {
		g.stale = true
		return
	}
	g.stale = false
	g.redrawn++
	g.Refresh()
}

// setShown says whether the graph's tab is shown; showing a graph that
// missed samples redraws it.
func (g *rateGraph) setShown(shown bool) {
	g.hidden = !shown
	if shown && g.stale {
		g.redraw()
	}
}

func newRateGraph() *rateGraph {
	g := &rateGraph{}
	g.ExtendBaseWidget(g)
	return g
}

// add records the rates at time at, at most once per second; it reports
// whether a sample was taken.
func (g *rateGraph) add(at time.Time, down, up float64) bool {
	if !g.last.IsZero() && at.After(g.last) && at.Sub(g.last) < time.Second {
		return false
	}
	if at.Equal(g.last) {
		return false
	}
	g.last = at
	g.down = pushSample(g.down, down)
	g.up = pushSample(g.up, up)
	g.redraw()
	return true
}

// setHistory shows the engine's per-second byte counts (the newest
// graphSamples of them); it redraws only when a new second arrived.
func (g *rateGraph) setHistory(h []engine.RateSample) {
	if len(h) == 0 || h[len(h)-1].At.Equal(g.last) {
		return
	}
	h = h[max(0, len(h)-graphSamples):]
	g.down, g.up = g.down[:0], g.up[:0]
	for _, s := range h {
		g.down = append(g.down, float64(max(s.Down, 0)))
		g.up = append(g.up, float64(max(s.Up, 0)))
	}
	g.last = h[len(h)-1].At
	g.redraw()
}

func pushSample(s []float64, v float64) []float64 {
	if !(v >= 0) {
		v = 0
	}
	if len(s) == graphSamples {
		copy(s, s[1:])
		s[len(s)-1] = v
		return s
	}
	return append(s, v)
}

// scale is the rate at the top of the graph.
func (g *rateGraph) scale() float64 {
	top := float64(minGraphScale)
	for i := range g.down {
		top = max(top, g.down[i]*1.15, g.up[i]*1.15)
	}
	return top
}

// CreateRenderer builds the fixed set of canvas objects once.
func (g *rateGraph) CreateRenderer() fyne.WidgetRenderer {
	r := &graphRenderer{g: g,
		bg:    canvas.NewRectangle(color.Transparent),
		top:   canvas.NewText("", color.Black),
		left:  canvas.NewText("2 min ago", color.Black),
		right: canvas.NewText("now", color.Black),
		downL: canvas.NewText("", color.Black),
		upL:   canvas.NewText("", color.Black),
	}
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.objects = append(r.objects, r.bg)
	for i := range r.grid {
		r.grid[i] = canvas.NewLine(color.Black)
		r.objects = append(r.objects, r.grid[i])
	}
	for i := range r.downLines {
		r.downLines[i] = canvas.NewLine(color.Black)
		r.upLines[i] = canvas.NewLine(color.Black)
		r.downLines[i].StrokeWidth, r.upLines[i].StrokeWidth = 2, 2
	}
	r.objects = append(r.objects, lineObjects(r.downLines[:])...)
	r.objects = append(r.objects, lineObjects(r.upLines[:])...)
	r.downL.Alignment, r.upL.Alignment = fyne.TextAlignTrailing, fyne.TextAlignTrailing
	r.right.Alignment = fyne.TextAlignTrailing
	r.objects = append(r.objects, r.top, r.left, r.right, r.downL, r.upL)
	r.applyTheme()
	return r
}

func lineObjects(ls []*canvas.Line) []fyne.CanvasObject {
	out := make([]fyne.CanvasObject, len(ls))
	for i, l := range ls {
		out[i] = l
	}
	return out
}

type graphRenderer struct {
	g                            *rateGraph
	bg                           *canvas.Rectangle
	grid                         [3]*canvas.Line
	downLines, upLines           [graphSamples - 1]*canvas.Line
	top, left, right, downL, upL *canvas.Text
	objects                      []fyne.CanvasObject
	size                         fyne.Size
}

func (r *graphRenderer) Destroy()                     {}
func (r *graphRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *graphRenderer) MinSize() fyne.Size           { return fyne.NewSize(360, 70) }

func (r *graphRenderer) Layout(size fyne.Size) {
	r.size = size
	r.bg.Resize(size)
	small := theme.CaptionTextSize()
	pad := theme.Padding()
	for i, t := range []*canvas.Text{r.top, r.left, r.right, r.downL, r.upL} {
		t.TextSize = small
		ts := t.MinSize()
		switch i {
		case 0:
			t.Move(fyne.NewPos(pad, pad/2))
		case 1:
			t.Move(fyne.NewPos(pad, size.Height-ts.Height-pad/2))
		case 2:
			t.Move(fyne.NewPos(size.Width-ts.Width-pad, size.Height-ts.Height-pad/2))
		case 3:
			t.Move(fyne.NewPos(size.Width-ts.Width-pad, pad/2))
		case 4:
			t.Move(fyne.NewPos(size.Width-ts.Width-pad, pad/2+ts.Height))
		}
		t.Resize(ts)
	}
	r.place()
}

// plot is the area the lines use, inside the labels.
func (r *graphRenderer) plot() (x0, y0, w, h float32) {
	th := theme.CaptionTextSize() * 1.6
	pad := theme.Padding()
	return pad, th + pad, r.size.Width - 2*pad, r.size.Height - 2*th - 2*pad
}

// place moves every line to the current samples; the newest sample sits at
// the right edge.
func (r *graphRenderer) place() {
	x0, y0, w, h := r.plot()
	for i, l := range r.grid {
		y := y0 + h*float32(i+1)/4
		l.Position1, l.Position2 = fyne.NewPos(x0, y), fyne.NewPos(x0+w, y)
	}
	scale := r.g.scale()
	step := w / (graphSamples - 1)
	at := func(i, n int, v float64) fyne.Position {
		x := x0 + w - float32(n-1-i)*step
		return fyne.NewPos(x, y0+h-float32(v/scale)*h)
	}
	placeSeries(r.downLines[:], r.g.down, at)
	placeSeries(r.upLines[:], r.g.up, at)
	r.top.Text = humanRate(scale)
	r.downL.Text = "↓ download " + statusRate(last(r.g.down))
	r.upL.Text = "↑ upload " + statusRate(last(r.g.up))
}

func placeSeries(lines []*canvas.Line, s []float64, at func(i, n int, v float64) fyne.Position) {
	n := len(s)
	for i, l := range lines {
		if i+1 >= n {
			l.Hide()
			continue
		}
		l.Position1, l.Position2 = at(i, n, s[i]), at(i+1, n, s[i+1])
		l.Show()
	}
}

func last(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

func (r *graphRenderer) applyTheme() {
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	fg := theme.Color(theme.ColorNameDisabled)
	for _, l := range r.grid {
		l.StrokeColor = theme.Color(theme.ColorNameSeparator)
	}
	down, up := theme.Color(theme.ColorNamePrimary), theme.Color(theme.ColorNameSuccess)
	for i := range r.downLines {
		r.downLines[i].StrokeColor, r.upLines[i].StrokeColor = down, up
	}
	r.top.Color, r.left.Color, r.right.Color = fg, fg, fg
	r.downL.Color, r.upL.Color = down, up
}

// Refresh re-places the lines and asks the canvas to redraw them.
func (r *graphRenderer) Refresh() {
	r.applyTheme()
	r.Layout(r.size)
	for _, o := range r.objects {
		canvas.Refresh(o)
	}
}
