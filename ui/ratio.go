package ui

import (
	"fmt"
	"image/color"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// ratioTab is the Ratio tab: the all-time ratio in big digits, the byte
// counts behind it, the session ratio and a two-minute rate graph.
type ratioTab struct {
	big     *canvas.Text
	allTime *widget.Label
	session *widget.Label
	graph   *rateGraph
	content fyne.CanvasObject

	last  engine.Ratio
	valid bool // last holds what the labels show
}

func newRatioTab() *ratioTab {
	r := &ratioTab{
		big:     canvas.NewText("", color.Black),
		allTime: widget.NewLabel(""),
		session: widget.NewLabel(""),
		graph:   newRateGraph(),
	}
	r.big.TextSize = 72
	r.big.TextStyle = fyne.TextStyle{Bold: true}
	r.big.Alignment = fyne.TextAlignCenter
	r.allTime.Alignment = fyne.TextAlignCenter
	r.session.Alignment = fyne.TextAlignCenter
	title := widget.NewLabelWithStyle("Share ratio, all time", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	graphTitle := widget.NewLabelWithStyle("Network rates, last 2 minutes", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	top := container.NewVBox(title, r.big, r.allTime, r.session, widget.NewSeparator(), graphTitle)
	r.content = container.NewBorder(top, nil, nil, nil, container.NewPadded(r.graph))
	r.show(engine.Ratio{})
	return r
}

// apply shows the snapshot's ratio and feeds the rate graph.
func (r *ratioTab) apply(s engine.Snapshot) {
	at := s.Taken
	if at.IsZero() {
		at = time.Now()
	}
	if len(s.History) > 0 {
		r.graph.setHistory(s.History)
	} else {
		r.graph.add(at, s.Net.DownRate, s.Net.UpRate)
	}
	if r.valid && r.last == s.Ratio {
		return
	}
	r.last, r.valid = s.Ratio, true
	r.show(s.Ratio)
}

func (r *ratioTab) show(q engine.Ratio) {
	text, col := ratioText(q.Uploaded, q.Downloaded, q.Value())
	if r.big.Text != text || r.big.Color != col {
		r.big.Text, r.big.Color = text, col
		r.big.Refresh()
	}
	setText(r.allTime, fmt.Sprintf("Uploaded %s · Downloaded %s",
		humanBytes(q.Uploaded), humanBytes(q.Downloaded)))
	stext, _ := ratioText(q.SessionUploaded, q.SessionDownloaded, q.SessionValue())
	setText(r.session, fmt.Sprintf("This session: %s (uploaded %s, downloaded %s)",
		stext, humanBytes(q.SessionUploaded), humanBytes(q.SessionDownloaded)))
}

// ratioText is the ratio's digits and colour: "—" before any traffic,
// green from 1.00 up, amber below.
func ratioText(up, down int64, v float64) (string, color.Color) {
	switch {
	case up == 0 && down == 0:
		return "—", theme.Color(theme.ColorNameDisabled)
	case v >= 1 || math.IsInf(v, 1):
		return formatRatio(v), theme.Color(theme.ColorNameSuccess)
	default:
		return formatRatio(v), theme.Color(theme.ColorNameWarning)
	}
}
