package ui

import (
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
)

// idleSnapshot is what an idle engine hands out second after second: the
// same library and network, a later Taken, one more zero in History.
func idleSnapshot(sec int) engine.Snapshot {
	s := bigSnapshot(0)
	start := time.Unix(1700000000, 0)
	s.Taken = start.Add(time.Duration(sec) * time.Second)
	for i := 0; i <= sec; i++ {
		s.History = append(s.History, engine.RateSample{At: start.Add(time.Duration(i) * time.Second)})
	}
	return s
}

// TestIdleHiddenTabsDoNotRedraw: with the Transfers tab shown, an idle
// engine's snapshots (a new History second each) redraw nothing on the
// Ratio tab's graph, whose redraw would repaint the whole window; the
// graph redraws once when its tab is shown, then with each new second.
func TestIdleHiddenTabsDoNotRedraw(t *testing.T) {
	u, _ := newTestUI(t)
	u.ShowTab("transfers")
	for sec := range 10 {
		u.Refresh(idleSnapshot(sec))
	}
	if n := u.ratio.graph.redrawn; n != 0 {
		t.Fatalf("the hidden rate graph redrew %d times in 10 idle seconds, want 0", n)
	}
	u.ShowTab("ratio")
	if n := u.ratio.graph.redrawn; n != 1 {
		t.Fatalf("showing the Ratio tab redrew its graph %d times, want 1", n)
	}
	if got := len(u.ratio.graph.down); got != 10 {
		t.Fatalf("the graph holds %d samples after 10 seconds hidden, want 10", got)
	}
	u.Refresh(idleSnapshot(10))
	u.Refresh(idleSnapshot(10)) // the same second again: nothing new
	if n := u.ratio.graph.redrawn; n != 2 {
		t.Fatalf("one new second on the shown graph: %d redraws in all, want 2", n)
	}
	u.ShowTab("transfers")
	u.Refresh(idleSnapshot(11))
	if n := u.ratio.graph.redrawn; n != 2 {
		t.Fatalf("hidden again, the graph redrew (%d redraws, want 2)", n)
	}
}

// TestBackgroundPollsSlowly: out of the foreground the UI pulls a
// snapshot every backgroundPoll instead of every pollInterval, and coming
// back pulls one at once (the poller's wake channel).
func TestBackgroundPollsSlowly(t *testing.T) {
	u, _ := newTestUI(t)
	if got := u.pollEvery(); got != pollInterval {
		t.Fatalf("a new window polls every %v, want %v", got, pollInterval)
	}
	u.SetForeground(false)
	if got := u.pollEvery(); got != backgroundPoll {
		t.Fatalf("in the background the UI polls every %v, want %v", got, backgroundPoll)
	}
	if len(u.wake) != 0 {
		t.Fatal("going to the background woke the poller")
	}
	u.SetForeground(true)
	if got := u.pollEvery(); got != pollInterval || len(u.wake) != 1 {
		t.Fatalf("back in the foreground: polls every %v with %d wake-ups queued, want %v and 1", got, len(u.wake), pollInterval)
	}
	u.SetForeground(true) // already there: no second wake-up
	if len(u.wake) != 1 {
		t.Fatalf("%d wake-ups queued, want 1", len(u.wake))
	}
}

func TestShowTab(t *testing.T) {
	u, _ := newTestUI(t)
	for name, item := range map[string]any{"transfers": u.transferItem, "Library": u.libraryItem, "ratio": u.ratioItem} {
		if !u.ShowTab(name) || u.tabs.Selected() != item {
			t.Errorf("ShowTab(%q) did not select its tab", name)
		}
	}
	if u.ShowTab("nope") {
		t.Error(`ShowTab("nope") = true`)
	}
}

// TestIdleLibraryNotRedrawn: the engine hands out one library slice until
// the library changes; polling it redraws nothing, and a changed library
// (a new slice) redraws the table once.
func TestIdleLibraryNotRedrawn(t *testing.T) {
	u, _ := newTestUI(t)
	u.ShowTab("library")
	s := bigSnapshot(0)
	u.Refresh(s)
	before := u.library.grid.refreshes
	for range 5 {
		u.Refresh(s) // the same Library slice, as the engine shares it
	}
	if got := u.library.grid.refreshes - before; got != 0 {
		t.Fatalf("an unchanged library redrew its table %d times, want 0", got)
	}
	grown := s
	grown.Library = append(append([]engine.LibraryItem(nil), s.Library...), engine.LibraryItem{Name: "new", Size: 1})
	u.Refresh(grown)
	if got := u.library.grid.refreshes - before; got != 1 {
		t.Fatalf("one new library item: %d table redraws, want 1", got)
	}
}

// TestIdleWindowPollsSlowly: once idleAfter snapshots in a row change
// nothing shown, the poller waits idlePoll; a changed rate, another tab or
// an engine call brings back pollInterval (the tab and the call at once,
// through the wake channel); the Ratio tab's moving graph never idles.
func TestIdleWindowPollsSlowly(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.transferItem)
	s := bigSnapshot(100)
	quiet := func() {
		for range idleAfter + 1 {
			u.Refresh(clone(s))
		}
	}
	quiet()
	if got := u.pollEvery(); got != idlePoll {
		t.Fatalf("after %d unchanged snapshots the UI polls every %v, want %v", idleAfter+1, got, idlePoll)
	}
	moved := clone(s)
	moved.Transfers[42].DownRate++
	u.Refresh(moved)
	if got := u.pollEvery(); got != pollInterval {
		t.Fatalf("after a changed rate the UI polls every %v, want %v", got, pollInterval)
	}
	s = moved
	quiet()
	u.tabs.Select(u.libraryItem)
	if got := u.pollEvery(); got != pollInterval || len(u.wake) != 1 {
		t.Fatalf("after a tab change: every %v with %d wake-ups, want %v and 1", got, len(u.wake), pollInterval)
	}
	<-u.wake
	quiet()
	u.act("", func() error { return nil }, nil)
	settle(u)
	if got := u.pollEvery(); got != pollInterval || len(u.wake) != 1 {
		t.Fatalf("after an engine call: every %v with %d wake-ups, want %v and 1", got, len(u.wake), pollInterval)
	}
	u.tabs.Select(u.ratioItem)
	quiet()
	if got := u.pollEvery(); got != pollInterval {
		t.Fatalf("with the Ratio tab shown the UI polls every %v, want %v", got, pollInterval)
	}
}

// TestIdleFocus: a focused text field keeps blinking its cursor, which
// makes Fyne redraw the whole window many times a second, even on a hidden
// tab. A new window has nothing focused, a tab change takes the focus from
// the field it hides, and a search started leaves its field; Ctrl+F puts
// the cursor back.
func TestIdleFocus(t *testing.T) {
	u, _ := newTestUI(t)
	c := u.win.Canvas()
	if f := c.Focused(); f != nil {
		t.Fatalf("a new window focuses %T, want nothing", f)
	}
	u.focusSearch()
	if c.Focused() != u.search.entry {
		t.Fatalf("Ctrl+F focuses %v, want the search field", c.Focused())
	}
	u.ShowTab("transfers")
	if f := c.Focused(); f != nil {
		t.Fatalf("on the Transfers tab %T still has the focus, want none", f)
	}
	u.ShowTab("settings")
	c.Focus(u.settings.down)
	u.ShowTab("library")
	if f := c.Focused(); f != nil {
		t.Fatalf("leaving Settings with a field focused left %T focused, want none", f)
	}
	u.focusSearch()
	u.search.entry.SetText("linux iso")
	u.search.start()
	if f := c.Focused(); f != nil {
		t.Fatalf("a search started left %T focused, want none", f)
	}
}
