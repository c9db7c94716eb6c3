package ui

import (
	"image/color"
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/shoalp2p/shoal/engine"
)

func TestRatioLabel(t *testing.T) {
	u, _ := newTestUI(t)
	cases := []struct {
		ratio               engine.Ratio
		big, total, session string
	}{
		{engine.Ratio{}, "—", "Uploaded 0 B · Downloaded 0 B", "Uploaded 0 B · Downloaded 0 B"},
		{engine.Ratio{Uploaded: 150 << 20, Downloaded: 100 << 20, SessionUploaded: 3 << 20, SessionDownloaded: 4 << 20},
			"1.50", "Uploaded 150 MiB · Downloaded 100 MiB", "Uploaded 3.00 MiB · Downloaded 4.00 MiB"},
		{engine.Ratio{Uploaded: 300 << 20, Downloaded: 100 << 20}, "3.00", "Uploaded 300 MiB · Downloaded 100 MiB",
			"Uploaded 0 B · Downloaded 0 B"},
		{engine.Ratio{Uploaded: 1 << 30}, "∞", "Uploaded 1.00 GiB · Downloaded 0 B", "Uploaded 0 B · Downloaded 0 B"},
	}
	for _, c := range cases {
		u.Refresh(engine.Snapshot{Ratio: c.ratio})
		r := u.ratio
		if r.big.Text != c.big || r.allTime.Text != c.total || r.session.Text != c.session {
			t.Errorf("%+v shows %q / %q / %q\n want %q / %q / %q", c.ratio,
				r.big.Text, r.allTime.Text, r.session.Text, c.big, c.total, c.session)
		}
	}
}

func TestRateGraphSamplesOncePerSecond(t *testing.T) {
	u, _ := newTestUI(t)
	t0 := time.Unix(1700000000, 0)
	for i := range 4 * 130 { // 130 s at the ticker's 4 Hz
		at := t0.Add(time.Duration(i) * pollInterval)
		u.Refresh(engine.Snapshot{Taken: at, Net: engine.NetStatus{DownRate: float64(i), UpRate: 1}})
	}
	g := u.ratio.graph
	if len(g.down) != graphSamples || len(g.up) != graphSamples {
		t.Fatalf("graph holds %d/%d samples, want %d", len(g.down), len(g.up), graphSamples)
	}
	if got := g.down[len(g.down)-1]; got != 4*129 {
		t.Errorf("newest sample %v, want %v", got, 4*129)
	}
	if got := g.down[0]; got != 4*10 {
		t.Errorf("oldest sample %v, want %v (two minutes back)", got, 4*10)
	}
	r := newGraphRendererForTest(g)
	visible := 0
	for _, l := range r.downLines {
		if l.Visible() {
			visible++
		}
	}
	if visible != graphSamples-1 {
		t.Errorf("%d download segments drawn, want %d", visible, graphSamples-1)
	}
}

func TestRateGraphUsesEngineHistory(t *testing.T) {
	u, _ := newTestUI(t)
	t0 := time.Unix(1700000000, 0)
	var h []engine.RateSample
	for i := range 180 {
		h = append(h, engine.RateSample{At: t0.Add(time.Duration(i) * time.Second), Down: int64(i) * 1000, Up: 7})
	}
	u.Refresh(engine.Snapshot{History: h, Net: engine.NetStatus{DownRate: 1}})
	g := u.ratio.graph
	if len(g.down) != graphSamples || g.down[0] != 60*1000 || g.down[graphSamples-1] != 179*1000 || g.up[5] != 7 {
		t.Fatalf("graph holds %d samples from %v to %v", len(g.down), g.down[0], g.down[len(g.down)-1])
	}
	r := newGraphRendererForTest(g)
	if got := r.downL.Text; got != "↓ download 175 KiB/s" {
		t.Errorf("legend %q", got)
	}
}

func TestRatioGaugeAgainstOneAndTheTarget(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.ratioItem)
	g := u.ratio.gauge
	r := test.WidgetRenderer(g).(*gaugeRenderer)
	r.Layout(fyne.NewSize(400, 220))
	success, primary, warning := theme.Color(theme.ColorNameSuccess), theme.Color(theme.ColorNamePrimary),
		theme.Color(theme.ColorNameWarning)
	cases := []struct {
		name     string
		ratio    engine.Ratio
		target   float64
		end      float32 // the filled ring's end angle
		col      color.Color
		marked   bool
		targetAt float32 // angle of the target mark
	}{
		{"no target, below 1", engine.Ratio{Uploaded: 1, Downloaded: 2}, 0, -45, warning, false, 0},
		{"no target, above 1", engine.Ratio{Uploaded: 3, Downloaded: 2}, 0, 45, success, false, 0},
		{"short of the target", engine.Ratio{Uploaded: 12, Downloaded: 10}, 1.5, -18, primary, true, 0},
		{"target reached", engine.Ratio{Uploaded: 15, Downloaded: 10}, 1.5, 0, success, true, 0},
		{"only uploaded", engine.Ratio{Uploaded: 5}, 1.5, 90, success, true, 0},
		{"target 4", engine.Ratio{Uploaded: 2, Downloaded: 1}, 4, -45, primary, true, 0},
	}
	for _, c := range cases {
		u.settings.saved.RatioTarget = c.target
		u.Refresh(engine.Snapshot{Ratio: c.ratio})
		if r.fill.EndAngle != c.end || r.fill.FillColor != c.col || g.text.Color != c.col {
			t.Errorf("%s: ring ends at %v in %v (digits %v), want %v in %v", c.name, r.fill.EndAngle, r.fill.FillColor,
				g.text.Color, c.end, c.col)
		}
		if r.targetMark.Visible() != c.marked {
			t.Errorf("%s: target mark visible=%v", c.name, r.targetMark.Visible())
		}
		if c.marked {
			if got := g.angle(c.target); got != c.targetAt {
				t.Errorf("%s: target mark at %v°, want %v°", c.name, got, c.targetAt)
			}
			if want := "target " + ratioTargetText(c.target); r.targetLabel.Text != want {
				t.Errorf("%s: target label %q", c.name, r.targetLabel.Text)
			}
		}
	}
	// Without a target the 1.0 mark stands at the top of the ring.
	u.settings.saved.RatioTarget = 0
	u.Refresh(engine.Snapshot{Ratio: engine.Ratio{Uploaded: 1, Downloaded: 1}})
	if x := r.oneMark.Position2.X; math.Abs(float64(x-r.center.X)) > 0.01 {
		t.Errorf("1.0 mark at x=%v, centre %v", x, r.center.X)
	}
	if got := u.ratio.targetInfo.Text; !strings.HasPrefix(got, "No share ratio target") {
		t.Errorf("target info %q", got)
	}
}

// TestEmptyRatioHint: before any traffic the Ratio tab says what the ratio
// is and how to raise it; the first byte either way hides the hint.
func TestEmptyRatioHint(t *testing.T) {
	r := newRatioTab()
	r.apply(engine.Snapshot{}, 0)
	if !r.hint.Visible() || !strings.Contains(r.hint.Text, "share files") {
		t.Fatalf("empty Ratio tab: hint visible=%v %q", r.hint.Visible(), r.hint.Text)
	}
	r.apply(engine.Snapshot{Ratio: engine.Ratio{Downloaded: 16 << 10}}, 0)
	if r.hint.Visible() {
		t.Error("the hint stays after a download")
	}
}
