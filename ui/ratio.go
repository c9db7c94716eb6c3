package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// ratioTab is the Ratio tab: two gauges (all time and this session) that
// show the ratio against 1.0 and the ratio target, the byte counts behind
// them, and a rate graph of the last two minutes.
type ratioTab struct {
	gauge, sessionGauge *ratioGauge
	big, sessionBig     *canvas.Text // the gauges' digits
	allTime, session    *widget.Label
	targetInfo          *widget.Label
	hint                *widget.Label // shown until anything was uploaded or downloaded
	graph               *rateGraph
	content             fyne.CanvasObject

	last   engine.Ratio
	target float64
	valid  bool // last and target hold what the gauges show
}

func newRatioTab() *ratioTab {
	r := &ratioTab{
		gauge:        newRatioGauge(56),
		sessionGauge: newRatioGauge(40),
		allTime:      widget.NewLabel(""),
		session:      widget.NewLabel(""),
		targetInfo:   widget.NewLabel(""),
		hint:         widget.NewLabel(ratioHint),
		graph:        newRateGraph(),
	}
	r.big, r.sessionBig = r.gauge.text, r.sessionGauge.text
	for _, l := range []*widget.Label{r.allTime, r.session, r.targetInfo} {
		l.Alignment = fyne.TextAlignCenter
	}
	r.targetInfo.Importance = widget.LowImportance
	r.hint.Wrapping, r.hint.Alignment = fyne.TextWrapWord, fyne.TextAlignCenter
	bold := fyne.TextStyle{Bold: true}
	left := container.NewBorder(widget.NewLabelWithStyle("Share ratio, all time", fyne.TextAlignCenter, bold),
		r.allTime, nil, nil, r.gauge)
	right := container.NewBorder(widget.NewLabelWithStyle("This session", fyne.TextAlignCenter, bold),
		r.session, nil, nil, r.sessionGauge)
	graphTitle := widget.NewLabelWithStyle("Network rates, last 2 minutes", fyne.TextAlignLeading, bold)
	top := container.NewVBox(container.NewGridWithColumns(2, left, right), r.targetInfo, r.hint,
		widget.NewSeparator(), graphTitle)
	r.content = container.NewBorder(top, nil, nil, nil, container.NewPadded(r.graph))
	r.show(engine.Ratio{}, 0)
	return r
}

// apply shows the snapshot's ratio against target and feeds the rate graph.
func (r *ratioTab) apply(s engine.Snapshot, target float64) {
	if len(s.History) > 0 {
		r.graph.setHistory(s.History)
	} else {
		r.graph.add(snapTime(s), s.Net.DownRate, s.Net.UpRate)
	}
	if r.valid && r.last == s.Ratio && r.target == target {
		return
	}
	r.last, r.target, r.valid = s.Ratio, target, true
	r.show(s.Ratio, target)
}

func (r *ratioTab) show(q engine.Ratio, target float64) {
	text := ratioText(q.Uploaded, q.Downloaded, q.Value())
	r.gauge.set(q.Value(), q.Uploaded > 0 || q.Downloaded > 0, target, text)
	setText(r.allTime, fmt.Sprintf("Uploaded %s · Downloaded %s",
		humanBytes(q.Uploaded), humanBytes(q.Downloaded)))
	stext := ratioText(q.SessionUploaded, q.SessionDownloaded, q.SessionValue())
	r.sessionGauge.set(q.SessionValue(), q.SessionUploaded > 0 || q.SessionDownloaded > 0, target, stext)
	// The ratio itself is in the gauge, under the "This session" title: the
	// line stays short enough for two gauges side by side in 800 px.
	setText(r.session, fmt.Sprintf("Uploaded %s · Downloaded %s",
		humanBytes(q.SessionUploaded), humanBytes(q.SessionDownloaded)))
	setText(r.targetInfo, targetInfo(target))
	setVisible(r.hint, q.Uploaded == 0 && q.Downloaded == 0)
}

// ratioHint explains the tab before any traffic.
const ratioHint = "Nothing uploaded or downloaded yet. Your share ratio is what you upload divided by what you download: " +
	"share files by dropping them on the window, and let finished downloads keep seeding, to raise it."

// targetInfo explains the target mark.
func targetInfo(target float64) string {
	if target <= 0 {
		return "No share ratio target: finished downloads seed until you stop them (Settings)."
	}
	return fmt.Sprintf("Finished downloads stop seeding at a ratio of %s (Settings; per transfer in Options).",
		ratioTargetText(target))
}

// ratioText is the ratio's digits: "—" before any traffic.
func ratioText(up, down int64, v float64) string {
	if up == 0 && down == 0 {
		return "—"
	}
	return formatRatio(v)
}
