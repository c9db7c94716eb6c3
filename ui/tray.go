package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/shoalp2p/shoal/engine"
)

// prefCloseToTray is the app preference behind "keep running in the tray
// when the window is closed"; prefToldTray remembers that the user was
// told once where the window went.
const (
	prefCloseToTray = "close-to-tray"
	prefToldTray    = "told-about-tray"
)

// tray is the system-tray icon and its menu, closing the window to the
// tray, and notifications about finished and failed downloads. It is
// owned by the Fyne goroutine.
type tray struct {
	u         *UI
	menu      *fyne.Menu
	rates     *fyne.MenuItem
	installed bool // the menu is in a tray that a host shows
	lastRates [2]float64

	done   map[engine.InfoHash]bool   // finished, as last seen
	failed map[engine.InfoHash]string // error, as last seen
	moves  map[engine.InfoHash]string // failed automatic move, as last seen
	primed bool                       // the first snapshot only records the states
}

func newTray(u *UI) *tray {
	tr := &tray{u: u, done: map[engine.InfoHash]bool{}, failed: map[engine.InfoHash]string{},
		moves: map[engine.InfoHash]string{}}
	tr.rates = fyne.NewMenuItem("↓ 0 B/s   ↑ 0 B/s", nil)
	tr.rates.Disabled = true
	quit := fyne.NewMenuItem("Quit Shoal", tr.quit)
	quit.IsQuit = true
	tr.menu = fyne.NewMenu("Shoal", tr.rates, fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Show Shoal", tr.show),
		fyne.NewMenuItem("Pause all", func() { tr.setAllPaused(true) }),
		fyne.NewMenuItem("Resume all", func() { tr.setAllPaused(false) }),
		fyne.NewMenuItemSeparator(), quit)
	u.win.SetCloseIntercept(tr.closeWindow)
	return tr
}

// EnableTray puts Shoal's icon and menu in the system tray. The app calls
// it only when a tray host runs (see internal/trayhost): closing the
// window then hides it there, unless the user turned that off.
func (u *UI) EnableTray(icon fyne.Resource) {
	desk, ok := u.app.(desktop.App)
	if !ok {
		return
	}
	desk.SetSystemTrayMenu(u.tray.menu)
	desk.SetSystemTrayIcon(icon)
	u.tray.installed = true
}

// closeWindow hides the window to the tray (saying so the first time) or,
// without a tray or with the setting off, quits.
func (tr *tray) closeWindow() {
	prefs := tr.u.app.Preferences()
	if !tr.installed || !prefs.BoolWithFallback(prefCloseToTray, true) {
		tr.quit()
		return
	}
	tr.u.win.Hide()
	if !prefs.Bool(prefToldTray) {
		prefs.SetBool(prefToldTray, true)
		tr.u.app.SendNotification(fyne.NewNotification("Shoal is still running",
			"Shoal keeps seeding in the tray. Open it again from the tray icon, or choose Quit there to stop sharing."))
	}
}

func (tr *tray) show() {
	tr.u.win.Show()
	tr.u.win.RequestFocus()
}

func (tr *tray) quit() { tr.u.Quit() }

// setAllPaused pauses or resumes every transfer.
func (tr *tray) setAllPaused(pause bool) {
	s := tr.u.eng.Snapshot()
	tr.u.act("", func() error {
		for _, t := range s.Transfers {
			var err error
			switch {
			case pause && t.State != engine.StatePaused:
				err = tr.u.eng.Pause(t.InfoHash)
			case !pause && t.State == engine.StatePaused:
				err = tr.u.eng.Resume(t.InfoHash)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
		}
		return nil
	}, nil)
}

// apply updates the rates line and sends notifications for downloads that
// finished or failed since the previous snapshot.
func (tr *tray) apply(s engine.Snapshot) {
	if r := [2]float64{s.Net.DownRate, s.Net.UpRate}; r != tr.lastRates {
		tr.lastRates = r // an unchanged snapshot costs nothing
		tr.rates.Label = fmt.Sprintf("↓ %s   ↑ %s", humanRate(r[0]), humanRate(r[1]))
		if tr.installed {
			tr.menu.Refresh()
		}
	}
	for _, t := range s.Transfers {
		tr.notice(t)
	}
	tr.primed = true
}

// notice sends at most one notification per change of t's fate: a
// download seen unfinished that is now finished, or a new error.
func (tr *tray) notice(t engine.TransferSnapshot) {
	done := t.Wanted > 0 && t.WantedHave >= t.Wanted
	wasDone, seen := tr.done[t.InfoHash]
	tr.done[t.InfoHash] = done
	if tr.primed && seen && done && !wasDone {
		tr.u.app.SendNotification(fyne.NewNotification("Download finished", t.Name))
	}
	if t.Err != "" && tr.failed[t.InfoHash] != t.Err {
		tr.failed[t.InfoHash] = t.Err
		if tr.primed {
			tr.u.app.SendNotification(fyne.NewNotification("Download failed",
				fmt.Sprintf("%s: %s", t.Name, troubleText(t.Err))))
		}
	}
	if t.MoveErr != tr.moves[t.InfoHash] {
		tr.moves[t.InfoHash] = t.MoveErr
		if tr.primed && t.MoveErr != "" {
			tr.u.app.SendNotification(fyne.NewNotification("Could not move a finished download", moveTrouble(t)))
		}
	}
}
