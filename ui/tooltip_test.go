package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// waitTip lets the pointer rest (fires the pending tip, as the real
// window's timer would after tipDelay) and checks that the tooltip layer
// shows want ("" for none).
func waitTip(t *testing.T, u *UI, want string) {
	t.Helper()
	if due := u.tips.pending; due != nil {
		u.tips.pending = nil
		due()
	}
	got := u.tips.shown()
	if !strings.Contains(got, want) || (want == "" && got != "") {
		t.Fatalf("tooltip = %q, want %q", got, want)
	}
}

func TestToolbarAndStatusTooltips(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.transferItem)
	u.transfers.pause.MouseIn(&desktop.MouseEvent{})
	if got := u.tips.shown(); got != "" {
		t.Fatalf("tooltip %q shows before the pointer rested", got)
	}
	waitTip(t, u, "Pause the selected transfer (Space)")
	u.transfers.pause.MouseOut()
	waitTip(t, u, "")

	// The status bar explains itself, in words that follow the network.
	u.Refresh(engine.Snapshot{Net: engine.NetStatus{DHTNodes: 0}})
	super := findTipped(t, u, u.status.super)
	super.MouseIn(&desktop.MouseEvent{})
	waitTip(t, u, "Not linked to a supernode yet")
	super.MouseOut()
	u.Refresh(engine.Snapshot{Net: engine.NetStatus{DHTNodes: 40, Supernodes: []string{"198.18.0.7:7000"}}})
	super.MouseIn(&desktop.MouseEvent{})
	waitTip(t, u, "198.18.0.7:7000")
	super.MouseOut()
	waitTip(t, u, "")
}

// findTipped finds the tipped wrapper around o in the window.
func findTipped(t *testing.T, u *UI, o fyne.CanvasObject) *tipped {
	t.Helper()
	for _, c := range walk(nil, u.win.Content()) {
		if tp, ok := c.(*tipped); ok && tp.content == o {
			return tp
		}
	}
	t.Fatal("no tooltip wrapper found")
	return nil
}

// TestFitsIn800x600: every tab fits an 800×600 window (the menu bar takes
// about 30 px of it), and the Transfers toolbar folds what does not fit
// into its More menu.
func TestFitsIn800x600(t *testing.T) {
	u, _ := newTestUI(t)
	u.Refresh(demoSnapshot(time.Now())) // long texts, as a busy node shows them
	for _, item := range u.tabs.Items {
		u.tabs.Select(item)
		if m := u.win.Content().MinSize(); m.Width > 800 || m.Height > 565 {
			t.Errorf("tab %s needs %v, more than 800×565", item.Text, m)
		}
	}
	u.tabs.Select(u.transferItem)
	u.win.Resize(fyne.NewSize(800, 600))
	bar := u.transfers.open // the last button folds first
	if bar.Visible() {
		t.Fatal("at 800 px the toolbar shows every button; nothing should have folded")
	}
	var fb *foldBar
	for _, c := range walk(nil, u.win.Content()) {
		if cont, ok := c.(*fyne.Container); ok {
			if l, ok := cont.Layout.(*foldLayout); ok {
				fb = l.f
			}
		}
	}
	if fb == nil || !fb.more.Visible() {
		t.Fatal("no More button at 800 px")
	}
	test.Tap(fb.more)
	if m := topText(u); !strings.Contains(m, "Open folder") {
		t.Errorf("the More menu lacks the folded Open folder:\n%s", m)
	}
	u.win.Canvas().Overlays().Remove(u.win.Canvas().Overlays().Top())
	u.win.Resize(fyne.NewSize(1600, 1000))
	if !bar.Visible() || fb.more.Visible() {
		t.Error("at 1600 px the toolbar still folds")
	}
}

func TestEmptyTransfersHint(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.transferItem)
	u.Refresh(engine.Snapshot{})
	if !u.transfers.hint.Visible() || !strings.Contains(u.transfers.hint.Text, "Ctrl+V") {
		t.Fatalf("empty Transfers tab: hint visible=%v %q", u.transfers.hint.Visible(), u.transfers.hint.Text)
	}
	u.Refresh(twoTransfers(t.TempDir()))
	if u.transfers.hint.Visible() {
		t.Error("the hint stays over two transfers")
	}
}

// TestReachTooltip: the status bar's reachability says in full, in the
// tooltip layer like every other tip, whether peers can connect and what
// to do.
func TestReachTooltip(t *testing.T) {
	u, _ := newTestUI(t)
	u.Refresh(engine.Snapshot{Net: engine.NetStatus{Reachable: "no", PeerAddr: "198.18.0.1:51413"}})
	reach := findTipped(t, u, u.status.reach)
	reach.MouseIn(&desktop.MouseEvent{})
	waitTip(t, u, "Not reachable:")
	waitTip(t, u, "forward TCP+UDP port 51413")
	reach.MouseOut()
	waitTip(t, u, "")
	if n := len(u.win.Canvas().Overlays().List()); n != 0 {
		t.Errorf("%d pop-ups open after the hover; the tip belongs to the tooltip layer", n)
	}
}

// TestStatusBarWrapsInsteadOfCutting: with a busy node's long texts, the
// status items keep their whole text at 800 px by taking a second line,
// and share one line at 1600 px.
func TestStatusBarWrapsInsteadOfCutting(t *testing.T) {
	u, _ := newTestUI(t)
	s := demoSnapshot(time.Now())
	s.Net.Supernodes = []string{"198.18.0.7:7000", "198.18.0.8:7000"}
	u.Refresh(s)
	st := u.status
	for _, c := range []struct {
		width float32
		lines int
	}{{800, 2}, {1600, 1}} {
		u.win.Resize(fyne.NewSize(c.width, 600))
		fyne.DoAndWait(func() {})
		for _, l := range []*widget.Label{st.dht, st.peers, st.reach, st.super, st.rates} {
			w := findTipped(t, u, l)
			if got, need := w.Size().Width, labelWidth(l); got < need {
				t.Errorf("at %v px %q gets %.0f px, needs %.0f", c.width, l.Text, got, need)
			}
			if pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(w); pos.X+w.Size().Width > c.width+0.5 {
				t.Errorf("at %v px %q ends at %.0f, off the window", c.width, l.Text, pos.X+w.Size().Width)
			}
		}
		flow := st.row.Layout.(*statusFlow)
		if flow.lines != c.lines {
			t.Errorf("at %v px the status bar has %d lines, want %d", c.width, flow.lines, c.lines)
		}
	}
	if m := u.win.Content().MinSize(); m.Height > 565 {
		t.Errorf("with two status lines the window needs %v, more than 800×565", m)
	}
}

// TestColumnsFitAt800: in an 800×600 window every table shows every
// column without scrolling sideways (Transfers and its peers, Library,
// Search, their row buttons included): the stretch column gives up width
// down to its least, the others are narrow enough. Each title, with its
// sort arrow, fits its column, and so does the widest value a number column
// shows (numbers are never cut short).
func TestColumnsFitAt800(t *testing.T) {
	u, _ := newTestUI(t)
	u.Refresh(demoSnapshot(time.Now()))
	u.win.Resize(fyne.NewSize(800, 600))
	u.transfers.grid.selectRow(0)
	widest := map[string]string{"Size": "1023 MiB", "Down": "9.99 MiB/s", "Up": "9.99 MiB/s", "ETA": "59m 59s",
		"Seeds": "12 (120)", "Peers": "12 (120)", "Ratio": "10.00", "Gave us": "1023 MiB", "Took": "1023 MiB",
		"Files": "1234", "Sources": "123", "Seeds / peers": "9999 / 9999"}
	for _, tc := range []struct {
		name string
		item *container.TabItem
		g    *gridTable
	}{{"Transfers", u.transferItem, u.transfers.grid}, {"peers", u.transferItem, u.transfers.peers.grid},
		{"Library", u.libraryItem, u.library.grid}, {"Search", u.searchItem, u.search.grid}} {
		u.tabs.Select(tc.item)
		avail := tc.g.content.Size().Width
		if avail < 780 {
			t.Errorf("%s table is %.0f px wide in an 800 px window", tc.name, avail)
		}
		tc.g.fitWidth(avail) // as its layout does on the next frame
		used := theme.ScrollBarSize()
		for _, i := range tc.g.shown { // a narrow window hides some (TestNameRoomAt800)
			c := tc.g.cols[i]
			w := c.width
			if c.stretch {
				w = tc.g.stretchWidth
			}
			used += w + theme.Padding()
			if used > avail+1 {
				t.Errorf("%s table at 800 px: column %d (%q) ends at %.0f of %.0f px, cut off", tc.name, i, c.title, used, avail)
				break
			}
			title := c.title
			if c.sortable {
				title += " ↓"
			}
			if need := textWidth(title, true); need > w {
				t.Errorf("%s table at 800 px: title %q needs %.0f px, its column is %.0f", tc.name, title, need, w)
			}
			if v, ok := widest[c.title]; ok && c.kind == cellNumber {
				if need := textWidth(v, false); need > w {
					t.Errorf("%s table at 800 px: %q needs %.0f px, column %q is %.0f", tc.name, v, need, c.title, w)
				}
			}
		}
		t.Logf("%s at 800 px: %d columns in %.0f px, %q %.0f px wide", tc.name, len(tc.g.shown), avail,
			tc.g.cols[stretchCol(tc.g)].title, tc.g.stretchWidth)
	}
}

func stretchCol(g *gridTable) int {
	for i, c := range g.cols {
		if c.stretch {
			return i
		}
	}
	return 0
}
