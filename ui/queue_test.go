package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/shoalp2p/shoal/engine"
)

// queuedSnapshot has one running download and two queued: a download
// second in line and a finished one waiting to seed.
func queuedSnapshot() engine.Snapshot {
	return engine.Snapshot{Transfers: []engine.TransferSnapshot{
		{InfoHash: hash(1), Name: "running.iso", Size: 100, Have: 10, State: engine.StateDownloading, Peers: 1},
		{InfoHash: hash(2), Name: "waiting.iso", Size: 100, State: engine.StateQueued, Queued: 2},
		{InfoHash: hash(3), Name: "done.iso", Size: 100, Have: 100, State: engine.StateQueued, Queued: 1},
	}}
}

// TestTransfersShowQueuePlaces: a queued transfer's State says its place
// in line, and a change of place redraws the row.
func TestTransfersShowQueuePlaces(t *testing.T) {
	u, _ := newTestUI(t)
	s := queuedSnapshot()
	u.Refresh(s)
	var states []string
	for _, r := range u.transfers.grid.rows {
		states = append(states, r[trColState])
	}
	if want := []string{"Downloading", "Queued 2", "Queued 1 to seed"}; !slices.Equal(states, want) {
		t.Fatalf("states %q, want %q", states, want)
	}
	s.Transfers[1].Queued = 1
	u.Refresh(s)
	if got := u.transfers.grid.rows[1][trColState]; got != "Queued 1" {
		t.Fatalf("after moving up: %q", got)
	}
}

// TestQueueButtonMenu: the Queue button opens a menu whose items move the
// selected transfer and force-start it, through the engine.
func TestQueueButtonMenu(t *testing.T) {
	u, f := newTestUI(t)
	u.tabs.Select(u.transferItem)
	u.Refresh(queuedSnapshot())
	if !u.transfers.queueBtn.Disabled() {
		t.Fatal("Queue is on with nothing selected")
	}
	u.transfers.grid.selectRow(1)
	for _, item := range []string{"Move up in queue", "Move down in queue", "Force start"} {
		test.Tap(u.transfers.queueBtn)
		tapMenuItem(t, u, item)
		settle(u)
	}
	f.lock(func() {
		want := []queueMove{{hash(2), true}, {hash(2), false}}
		if !slices.Equal(f.moves, want) || !slices.Equal(f.forced, []engine.InfoHash{hash(2)}) {
			t.Fatalf("moves %v, forced %v", f.moves, f.forced)
		}
	})
}

// TestQueueMenuItems: Force start is offered only to a transfer that does
// not run (queued or paused).
func TestQueueMenuItems(t *testing.T) {
	u, _ := newTestUI(t)
	for _, c := range []struct {
		state engine.TransferState
		force bool
	}{{engine.StateQueued, true}, {engine.StatePaused, true}, {engine.StateDownloading, false}, {engine.StateSeeding, false}} {
		items := u.queueMenuItems(engine.TransferSnapshot{State: c.state})
		if len(items) != 3 || items[2].Disabled == c.force {
			t.Errorf("%s: force start disabled %v", c.state, items[2].Disabled)
		}
	}
}

// tapMenuItem taps the item labelled text of the pop-up menu on top.
func tapMenuItem(t *testing.T, u *UI, text string) {
	t.Helper()
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no menu open for %q", text)
	}
	for _, o := range walk(nil, top) {
		tp, ok := o.(fyne.Tappable)
		if !ok || fmt.Sprintf("%T", o) != "*widget.menuItem" {
			continue
		}
		if slices.ContainsFunc(walk(nil, o), func(c fyne.CanvasObject) bool {
			tx, ok := c.(*canvas.Text)
			return ok && strings.TrimSpace(tx.Text) == text
		}) {
			test.Tap(tp)
			return
		}
	}
	t.Fatalf("no menu item %q", text)
}

// TestSettingsQueueCard: the Queue card shows the caps, applies new ones,
// and refuses a negative cap with the field's name.
func TestSettingsQueueCard(t *testing.T) {
	u, f := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4, MaxActiveDownloads: 3})
	q := u.settings.queue
	if q.downloads.Text != "3" || q.seeds.Text != "0" {
		t.Fatalf("card shows %q and %q", q.downloads.Text, q.seeds.Text)
	}
	q.downloads.SetText("2")
	q.seeds.SetText("5")
	test.Tap(u.settings.apply)
	settle(u)
	f.lock(func() {
		if n := len(f.settingsSet); n != 1 || f.settingsSet[0].MaxActiveDownloads != 2 || f.settingsSet[0].MaxActiveSeeds != 5 {
			t.Fatalf("applied %+v", f.settingsSet)
		}
	})
	q.seeds.SetText("-1")
	if _, err := u.settings.read(); err == nil || !strings.Contains(err.Error(), "Active seeds") {
		t.Errorf("a negative cap reads as %v", err)
	}
	test.Tap(u.settings.apply)
	settle(u)
	f.lock(func() {
		if len(f.settingsSet) != 1 {
			t.Errorf("a negative cap reached the engine: %+v", f.settingsSet)
		}
	})
}
