package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Gauge geometry: the ring is the outer 22% of the radius; marks reach a
// little past it.
const (
	gaugeCutout   = 0.78
	gaugeMarkIn   = 0.70
	gaugeMarkOut  = 1.06
	gaugeLabelOut = 1.14
)

// ratioGauge is a half-ring meter of a share ratio: the ring fills from 0
// on the left to the top of the scale on the right, with marks at 1.0 and
// at the ratio target when one is set, and the ratio's digits inside.
type ratioGauge struct {
	widget.BaseWidget

	value  float64 // the ratio; +Inf when only uploaded
	known  bool    // some bytes moved; without them there is no ratio
	target float64 // 0 = none
	text   *canvas.Text
	size   float32 // text size of the digits
}

func newRatioGauge(textSize float32) *ratioGauge {
	g := &ratioGauge{text: canvas.NewText("—", color.Black), size: textSize}
	g.text.TextSize = textSize
	g.text.TextStyle = fyne.TextStyle{Bold: true}
	g.text.Alignment = fyne.TextAlignCenter
	g.ExtendBaseWidget(g)
	return g
}

// set shows a ratio and its digits against a target; it redraws only when
// something changed.
func (g *ratioGauge) set(value float64, known bool, target float64, text string) {
	if g.value == value && g.known == known && g.target == target && g.text.Text == text {
		return
	}
	g.value, g.known, g.target = value, known, target
	g.text.Text = text
	g.Refresh()
}

// scale is the ratio at the right end of the ring: 2, or twice the target.
func (g *ratioGauge) scale() float64 { return max(2, math.Ceil(2*g.target)) }

// fraction is how much of the ring the ratio fills, in [0,1].
func (g *ratioGauge) fraction() float64 {
	if !g.known || !(g.value > 0) {
		return 0
	}
	return math.Min(g.value/g.scale(), 1)
}

// angle turns a ratio into degrees: -90 (left) to 90 (right) over the top.
func (g *ratioGauge) angle(v float64) float32 {
	return float32(-90 + 180*math.Min(v/g.scale(), 1))
}

// goalColor is the ring's colour: green at the target (or at 1.0 without
// one), blue from 1.0 up to a higher target, amber below 1.0.
func (g *ratioGauge) goalColor() color.Color {
	goal := 1.0
	if g.target > 0 {
		goal = g.target
	}
	switch {
	case g.value >= goal:
		return theme.Color(theme.ColorNameSuccess)
	case g.value >= 1:
		return theme.Color(theme.ColorNamePrimary)
	}
	return theme.Color(theme.ColorNameWarning)
}

// CreateRenderer builds the fixed set of canvas objects once.
func (g *ratioGauge) CreateRenderer() fyne.WidgetRenderer {
	r := &gaugeRenderer{g: g,
		track:   canvas.NewArc(-90, 90, gaugeCutout, color.Black),
		fill:    canvas.NewArc(-90, -90, gaugeCutout, color.Black),
		oneMark: canvas.NewLine(color.Black), targetMark: canvas.NewLine(color.Black),
		oneLabel: canvas.NewText("1.0", color.Black), targetLabel: canvas.NewText("", color.Black),
		zero: canvas.NewText("0", color.Black), top: canvas.NewText("", color.Black),
	}
	r.oneMark.StrokeWidth, r.targetMark.StrokeWidth = 2, 3
	r.objects = []fyne.CanvasObject{r.track, r.fill, r.oneMark, r.targetMark,
		r.oneLabel, r.targetLabel, r.zero, r.top, g.text}
	return r
}

type gaugeRenderer struct {
	g                     *ratioGauge
	track, fill           *canvas.Arc
	oneMark, targetMark   *canvas.Line
	oneLabel, targetLabel *canvas.Text
	zero, top             *canvas.Text
	objects               []fyne.CanvasObject
	size                  fyne.Size
	center                fyne.Position
	radius                float32
}

func (r *gaugeRenderer) Destroy()                     {}
func (r *gaugeRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *gaugeRenderer) MinSize() fyne.Size {
	h := r.g.size * 2.6
	return fyne.NewSize(2*h+2*theme.CaptionTextSize()*3, h+theme.CaptionTextSize()*3.4)
}

// Layout fits the half ring into size, leaving room for the mark labels
// around it and the scale's end labels under it.
func (r *gaugeRenderer) Layout(size fyne.Size) {
	r.size = size
	small := theme.CaptionTextSize()
	margin := small * 3
	r.radius = max(1, min((size.Width-2*margin)/2, size.Height-small*3.4))
	r.center = fyne.NewPos(size.Width/2, small*2.2+r.radius)
	box := fyne.NewPos(r.center.X-r.radius, r.center.Y-r.radius)
	for _, a := range []*canvas.Arc{r.track, r.fill} {
		a.Move(box)
		a.Resize(fyne.NewSquareSize(2 * r.radius))
	}
	r.place()
}

// place moves the marks, labels and the filled part to the current values.
func (r *gaugeRenderer) place() {
	g, small := r.g, theme.CaptionTextSize()
	r.fill.EndAngle = -90 + float32(180*g.fraction())
	r.mark(r.oneMark, r.oneLabel, 1)
	showTarget := g.target > 0
	setVisible(r.targetMark, showTarget)
	setVisible(r.targetLabel, showTarget)
	if showTarget {
		r.targetLabel.Text = "target " + ratioTargetText(g.target)
		r.mark(r.targetMark, r.targetLabel, g.target)
	}
	r.top.Text = ratioTargetText(g.scale())
	for _, t := range []*canvas.Text{r.oneLabel, r.targetLabel, r.zero, r.top} {
		t.TextSize = small
		t.Resize(t.MinSize())
	}
	r.zero.Move(fyne.NewPos(r.center.X-r.radius*(1+gaugeCutout)/2-r.zero.MinSize().Width/2, r.center.Y+2))
	r.top.Move(fyne.NewPos(r.center.X+r.radius*(1+gaugeCutout)/2-r.top.MinSize().Width/2, r.center.Y+2))
	ts := g.text.MinSize()
	g.text.Resize(ts)
	g.text.Move(fyne.NewPos(r.center.X-ts.Width/2, r.center.Y-ts.Height*0.95))
}

// mark draws a radial tick at ratio v with its label just outside.
func (r *gaugeRenderer) mark(l *canvas.Line, t *canvas.Text, v float64) {
	a := float64(r.g.angle(v)) * math.Pi / 180
	dx, dy := float32(math.Sin(a)), float32(-math.Cos(a))
	at := func(k float32) fyne.Position {
		return fyne.NewPos(r.center.X+dx*r.radius*k, r.center.Y+dy*r.radius*k)
	}
	l.Position1, l.Position2 = at(gaugeMarkIn), at(gaugeMarkOut)
	t.TextSize = theme.CaptionTextSize()
	ts := t.MinSize()
	p := at(gaugeLabelOut)
	// Anchor the label by the side facing the ring.
	x := p.X - ts.Width/2 + dx*ts.Width/2
	y := p.Y - ts.Height/2 + dy*ts.Height/2
	t.Move(fyne.NewPos(x, y))
}

func (r *gaugeRenderer) applyTheme() {
	g := r.g
	r.track.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.fill.FillColor = g.goalColor()
	fg, dim := theme.Color(theme.ColorNameForeground), theme.Color(theme.ColorNameDisabled)
	r.oneMark.StrokeColor, r.oneLabel.Color = fg, fg
	r.targetMark.StrokeColor = theme.Color(theme.ColorNamePrimary)
	r.targetLabel.Color = theme.Color(theme.ColorNamePrimary)
	r.zero.Color, r.top.Color = dim, dim
	g.text.Color = dim
	if g.known {
		g.text.Color = g.goalColor()
	}
}

// Refresh re-places everything and asks the canvas to redraw it.
func (r *gaugeRenderer) Refresh() {
	r.applyTheme()
	r.Layout(r.size)
	for _, o := range r.objects {
		canvas.Refresh(o)
	}
}
