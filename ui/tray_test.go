package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/shoalp2p/shoal/engine"
)

func trayItem(t *testing.T, u *UI, label string) *fyne.MenuItem {
	t.Helper()
	for _, it := range u.tray.menu.Items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("tray menu has no %q", label)
	return nil
}

// TestTrayPauseAndResumeAll: the tray's Pause all pauses what runs, and
// Resume all resumes what is paused, nothing else.
func TestTrayPauseAndResumeAll(t *testing.T) {
	u, f := newTestUI(t)
	running, paused := engine.InfoHash{1}, engine.InfoHash{2}
	f.lock(func() {
		f.snap.Transfers = []engine.TransferSnapshot{
			{InfoHash: running, Name: "a", State: engine.StateDownloading},
			{InfoHash: paused, Name: "b", State: engine.StatePaused}}
	})
	trayItem(t, u, "Pause all").Action()
	settle(u)
	trayItem(t, u, "Resume all").Action()
	settle(u)
	f.lock(func() {
		if !slices.Equal(f.paused, []engine.InfoHash{running}) || !slices.Equal(f.resumed, []engine.InfoHash{paused}) {
			t.Fatalf("paused %v, resumed %v; want only the running one paused and the paused one resumed", f.paused, f.resumed)
		}
	})
	if q := u.tray.menu.Items[len(u.tray.menu.Items)-1]; !q.IsQuit {
		t.Error("the tray menu does not end with Quit")
	}
}

// TestTrayNotifiesFinishedAndFailed: a download seen unfinished and then
// finished gives one notification; one already finished at the first
// snapshot gives none; a new error gives one.
func TestTrayNotifiesFinishedAndFailed(t *testing.T) {
	u, _ := newTestUI(t)
	dl := engine.TransferSnapshot{InfoHash: engine.InfoHash{7}, Name: "Big Buck Bunny", Wanted: 100, WantedHave: 40}
	old := engine.TransferSnapshot{InfoHash: engine.InfoHash{8}, Name: "old", Wanted: 10, WantedHave: 10}
	test.AssertNotificationSent(t, nil, func() { u.Refresh(engine.Snapshot{Transfers: []engine.TransferSnapshot{dl, old}}) })
	dl.WantedHave = 100
	test.AssertNotificationSent(t, fyne.NewNotification("Download finished", "Big Buck Bunny"), func() {
		u.Refresh(engine.Snapshot{Transfers: []engine.TransferSnapshot{dl, old}})
	})
	test.AssertNotificationSent(t, nil, func() { u.Refresh(engine.Snapshot{Transfers: []engine.TransferSnapshot{dl, old}}) })
	old.Err = "write piece 3: write /data/old: no space left on device"
	test.AssertNotificationSent(t, fyne.NewNotification("Download failed", "old: the disk is full; free some space, then resume"), func() {
		u.Refresh(engine.Snapshot{Transfers: []engine.TransferSnapshot{dl, old}})
	})
}

// TestCloseHidesToTray: with a tray, closing the window hides it and
// says so once; the setting turns that off.
func TestCloseHidesToTray(t *testing.T) {
	u, _ := newTestUI(t)
	u.tray.installed = true
	u.win.Show()
	test.AssertNotificationSent(t, fyne.NewNotification("Shoal is still running",
		"Shoal keeps seeding in the tray. Open it again from the tray icon, or choose Quit there to stop sharing."),
		u.tray.closeWindow)
	test.AssertNotificationSent(t, nil, func() {
		u.tray.show()
		u.tray.closeWindow()
	})
	if u.settings.closeToTray.SetChecked(false); u.app.Preferences().Bool(prefCloseToTray) {
		t.Fatal("unticking the setting did not save it")
	}
}

// TestFailedMoveIsShown: a finished download that could not move to the
// folder chosen in Settings gives one notification saying what happened
// and what to do; its State says "not moved", and the line under the
// peers spells it out while no peer is selected. A later move that works
// clears both.
func TestFailedMoveIsShown(t *testing.T) {
	u, _ := newTestUI(t)
	tr := engine.TransferSnapshot{InfoHash: engine.InfoHash{9}, Name: "Sintel", Dir: "/home/me/Downloads",
		Size: 100, Have: 100, Wanted: 100, WantedHave: 100, State: engine.StateSeeding, SwarmPeers: -1, SwarmSeeds: -1}
	snap := func() engine.Snapshot { return engine.Snapshot{Transfers: []engine.TransferSnapshot{tr}} }
	test.AssertNotificationSent(t, nil, func() { u.Refresh(snap()) })
	u.transfers.grid.selectRow(0)
	tr.MoveErr = "engine: move: mkdir /media/usb/Finished: not a directory"
	tr.MoveTo = "/media/usb/Finished"
	want := "Sintel stays in /home/me/Downloads and keeps seeding from there: Shoal could not move it to " +
		"/media/usb/Finished, because a file of that name is in the way. " +
		"Choose another folder in Settings > Downloads, or use Move to… on it."
	test.AssertNotificationSent(t, fyne.NewNotification("Could not move a finished download", want), func() { u.Refresh(snap()) })
	test.AssertNotificationSent(t, nil, func() { u.Refresh(snap()) })
	if got := u.transfers.grid.rows[0][trColState]; got != "Seeding, not moved" {
		t.Errorf("State %q, want it to say the download was not moved", got)
	}
	if got := u.transfers.peers.detail.Text; got != want {
		t.Errorf("line under the peers %q\n want %q", got, want)
	}
	tr.MoveErr, tr.MoveTo, tr.Dir = "", "", "/media/usb/Finished"
	test.AssertNotificationSent(t, nil, func() { u.Refresh(snap()) })
	if got := u.transfers.grid.rows[0][trColState]; got != "Seeding" {
		t.Errorf("State %q after a move that worked", got)
	}
	if got := u.transfers.peers.detail.Text; !strings.HasPrefix(got, "Select a peer") {
		t.Errorf("line under the peers %q after a move that worked", got)
	}
}
