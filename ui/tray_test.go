package ui

import (
	"slices"
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
