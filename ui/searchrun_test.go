package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/shoalp2p/shoal/engine"
)

// waitInfo waits until the info line under the results says want.
func waitInfo(t *testing.T, u *UI, batches chan struct{}, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-batches: // the batch's text is set before afterBatch runs
		case <-time.After(5 * time.Millisecond):
			runHops(u)
		case <-deadline:
			t.Fatalf("info never said %q", want)
		}
		if u.search.info.Text == want {
			return
		}
	}
}

// TestSearchShowsSupernodeProgress: while the search runs the info line
// counts the supernodes that answered; when the engine ends the search
// (all answered) it says done at once, and Stop turns off.
func TestSearchShowsSupernodeProgress(t *testing.T) {
	u, f := newTestUI(t)
	stream, batches := startSearch(t, u, f, "ubuntu")
	if u.search.stop.Disabled() {
		t.Fatal("Stop is off while the search runs")
	}
	f.setProgress(engine.SearchProgress{Asked: 3, Answered: 1})
	stream <- hitUbuntu
	waitInfo(t, u, batches, "1 result so far, searching… 1 of 3 supernodes answered.")
	f.setProgress(engine.SearchProgress{Asked: 3, Answered: 3, Done: true})
	close(stream)
	settleSearch(u)
	waitInfo(t, u, batches, "1 result. Asked 3 supernodes.")
	if !u.search.stop.Disabled() {
		t.Error("Stop is still on after the search is done")
	}
}

// TestSearchSaysWhoDidNotAnswer: a search ended by the answer timeout says
// how many supernodes were missing; a refused one says what to do.
func TestSearchSaysWhoDidNotAnswer(t *testing.T) {
	for _, c := range []struct {
		p    engine.SearchProgress
		want string
	}{
		{engine.SearchProgress{Asked: 2, Answered: 1, Done: true, TimedOut: true},
			"No results. 1 of 2 supernodes did not answer in time; search again to ask them again."},
		{engine.SearchProgress{Done: true, Refused: true},
			"No results. A supernode turned the search down because too many searches came at once; wait a few seconds and search again."},
	} {
		u, f := newTestUI(t)
		stream, batches := startSearch(t, u, f, "nothing")
		f.setProgress(c.p)
		close(stream)
		settleSearch(u)
		waitInfo(t, u, batches, c.want)
	}
}

// TestSearchStop: Stop cancels the engine's search, keeps what arrived,
// says it stopped, and a batch still on its way does not overwrite that.
func TestSearchStop(t *testing.T) {
	u, f := newTestUI(t)
	stream, batches := startSearch(t, u, f, "ubuntu")
	stream <- hitUbuntu
	waitUI(t, u, batches, "first batch")
	test.Tap(u.search.stop)
	var ctx interface{ Err() error }
	f.lock(func() { ctx = f.searchCtx[0] })
	if ctx.Err() == nil {
		t.Fatal("Stop left the engine's search running")
	}
	settleSearch(u)
	fyne.DoAndWait(func() {})
	if got := u.search.info.Text; got != "Stopped with 1 result." {
		t.Errorf("info = %q", got)
	}
	if len(u.search.grid.rows) != 1 || !u.search.stop.Disabled() {
		t.Errorf("rows %d, Stop disabled %v", len(u.search.grid.rows), u.search.stop.Disabled())
	}
	test.Tap(u.search.stop) // a second tap does nothing
	if got := u.search.info.Text; got != "Stopped with 1 result." {
		t.Errorf("info after a second Stop = %q", got)
	}
}

// TestSearchHistoryInTheBox: the box's drop-down offers the engine's
// recent searches from the start, the new search first after it runs, and
// picking one puts its words in the box.
func TestSearchHistoryInTheBox(t *testing.T) {
	a := test.NewTempApp(t)
	f := newFake()
	f.history = []string{"debian netinst", "ubuntu"}
	u := New(a, f)
	queueHops(u)
	u.win.Resize(fyne.NewSize(1000, 650))
	t.Cleanup(func() { u.cancel(); settle(u); settleSearch(u); u.win.Close() })
	settle(u)
	fyne.DoAndWait(func() {})
	if got := historyShown(t, u); !slices.Equal(got, []string{"debian netinst", "ubuntu"}) {
		t.Fatalf("drop-down %q", got)
	}
	stream, _ := startSearch(t, u, f, "arch")
	close(stream)
	settleSearch(u)
	fyne.DoAndWait(func() {})
	if got := historyShown(t, u); !slices.Equal(got, []string{"arch", "debian netinst", "ubuntu"}) {
		t.Fatalf("drop-down after a search %q", got)
	}
	pickHistory(t, u, "debian netinst")
	if u.search.entry.Text != "debian netinst" {
		t.Fatalf("box says %q after picking", u.search.entry.Text)
	}
}

// historyShown opens the search box's drop-down and reads its items.
func historyShown(t *testing.T, u *UI) []string {
	t.Helper()
	test.Tap(u.search.entry.ActionItem.(fyne.Tappable))
	defer u.win.Canvas().Overlays().Remove(u.win.Canvas().Overlays().Top())
	var out []string
	for _, o := range walk(nil, u.win.Canvas().Overlays().Top()) {
		if tx, ok := o.(*canvas.Text); ok && strings.TrimSpace(tx.Text) != "" {
			out = append(out, tx.Text)
		}
	}
	return out
}

// pickHistory opens the drop-down and taps the item reading words.
func pickHistory(t *testing.T, u *UI, words string) {
	t.Helper()
	test.Tap(u.search.entry.ActionItem.(fyne.Tappable))
	for _, o := range walk(nil, u.win.Canvas().Overlays().Top()) {
		tp, ok := o.(fyne.Tappable)
		if !ok || fmt.Sprintf("%T", o) != "*widget.menuItem" {
			continue
		}
		if slices.ContainsFunc(walk(nil, o), func(c fyne.CanvasObject) bool {
			tx, ok := c.(*canvas.Text)
			return ok && tx.Text == words
		}) {
			test.Tap(tp)
			return
		}
	}
	t.Fatalf("no drop-down item %q", words)
}

// TestClearSearchHistory: Clear history forgets the searches in the
// engine and in the box's drop-down; when the engine fails, the list stays
// and the button stays on.
func TestClearSearchHistory(t *testing.T) {
	a := test.NewTempApp(t)
	f := newFake()
	f.history = []string{"debian netinst", "ubuntu"}
	u := New(a, f)
	queueHops(u)
	u.win.Resize(fyne.NewSize(1000, 650))
	t.Cleanup(func() { u.cancel(); settle(u); settleSearch(u); u.win.Close() })
	if u.search.clear.Disabled() {
		t.Fatal("Clear history is off with two past searches")
	}
	f.setFail(errors.New("database is locked"))
	test.Tap(u.search.clear)
	settle(u)
	fyne.DoAndWait(func() {})
	if got := historyShown(t, u); !slices.Equal(got, []string{"debian netinst", "ubuntu"}) || u.search.clear.Disabled() {
		t.Fatalf("after a failed clear: drop-down %q, button off %v", got, u.search.clear.Disabled())
	}
	f.setFail(nil)
	test.Tap(u.search.clear)
	settle(u)
	fyne.DoAndWait(func() {})
	f.lock(func() {
		if len(f.history) != 0 {
			t.Errorf("engine history %q after Clear history", f.history)
		}
	})
	test.Tap(u.search.entry.ActionItem.(fyne.Tappable))
	if top := u.win.Canvas().Overlays().Top(); top != nil && strings.Contains(test.RenderObjectToMarkup(top), "ubuntu") {
		t.Errorf("the drop-down still lists past searches:\n%s", test.RenderObjectToMarkup(top))
	}
	if !u.search.clear.Disabled() {
		t.Error("Clear history stays on with no history")
	}
	// A new search is remembered again and turns the button back on.
	stream, _ := startSearch(t, u, f, "arch")
	close(stream)
	settleSearch(u)
	if u.search.clear.Disabled() || !slices.Equal(u.search.history, []string{"arch"}) {
		t.Errorf("after a new search: history %q, button off %v", u.search.history, u.search.clear.Disabled())
	}
}
