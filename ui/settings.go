package ui

import (
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// Choices of the "when a target is reached" radio group.
const (
	onTargetPause = "Pause seeding"
	onTargetStop  = "Stop (mark complete)"
)

// Choices of the encryption select, by Settings.Encryption value.
var encryptionChoices = []struct {
	value engine.Encryption
	label string
}{
	{engine.EncryptionPrefer, "Prefer (accept unencrypted peers)"},
	{engine.EncryptionRequire, "Require (encrypted peers only)"},
	{engine.EncryptionOff, "Off (unencrypted only)"},
}

// weekOrder lists the schedule's day boxes Monday first.
var weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday,
	time.Thursday, time.Friday, time.Saturday, time.Sunday}

// settingsTab is the Settings tab: global and alternative speed limits
// with their weekly schedule, seeding targets and upload slots. Edits take
// effect on Apply; "use alternative limits now" takes effect at once.
type settingsTab struct {
	u     *UI
	saved engine.Settings // what the engine holds, as last read or applied

	down, up, altDown, altUp *widget.Entry
	altNow, scheduled        *widget.Check
	days                     [7]*widget.Check // indexed by time.Weekday
	from, to                 *widget.Entry
	ratio, seedTime, slots   *widget.Entry
	onTarget                 *widget.RadioGroup
	onlySeed                 *widget.Check
	encryption               *widget.Select
	downloadDir              string // chosen folder, pending Apply; "" = default
	downloadLabel            *widget.Label
	moveDir                  string // finished downloads move here, pending Apply; "" = stay
	moveLabel                *widget.Label
	closeToTray              *widget.Check
	indexDHT                 *widget.Check
	crawlRate, dhtCap        *widget.Entry
	utp                      *widget.Check
	listenPort               *widget.Entry
	portMapping              *widget.Check
	queue                    queueSettings
	share                    shareSettings
	reach                    *widget.Label
	testAgain                *widget.Button
	reachShown               reachKey // what reach shows, so an unchanged snapshot costs nothing
	apply, revert            *widget.Button
	info                     *widget.Label
	content                  fyne.CanvasObject

	filling  bool // fill is setting the widgets: their callbacks stay quiet
	toggling int  // alternative-limit switches on their way to the engine
}

func newSettingsTab(u *UI) *settingsTab {
	st := &settingsTab{u: u, info: widget.NewLabel("")}
	for _, e := range []**widget.Entry{&st.down, &st.up, &st.altDown, &st.altUp,
		&st.from, &st.to, &st.ratio, &st.seedTime, &st.slots, &st.crawlRate, &st.dhtCap} {
		*e = widget.NewEntry()
	}
	st.from.SetPlaceHolder("HH:MM")
	st.to.SetPlaceHolder("HH:MM")
	st.altNow = widget.NewCheck("Use the alternative limits now", st.toggleAlt)
	st.scheduled = widget.NewCheck("Use them on a schedule", nil)
	for _, d := range weekOrder {
		st.days[d] = widget.NewCheck(d.String()[:3], nil)
	}
	st.onTarget = widget.NewRadioGroup([]string{onTargetPause, onTargetStop}, nil)
	st.onTarget.Required = true
	st.onlySeed = widget.NewCheck("Keep seeding while I am the only seed", nil)
	var labels []string
	for _, c := range encryptionChoices {
		labels = append(labels, c.label)
	}
	st.encryption = widget.NewSelect(labels, nil)
	st.downloadLabel = widget.NewLabel("")
	st.downloadLabel.Wrapping = fyne.TextWrapBreak
	st.moveLabel = widget.NewLabel("")
	st.moveLabel.Wrapping = fyne.TextWrapBreak
	st.indexDHT = widget.NewCheck("Index the BitTorrent DHT when I am a supernode", nil)
	st.utp = widget.NewCheck("Use uTP beside TCP (kinder to other traffic)", nil)
	st.listenPort = widget.NewEntry()
	st.queue = newQueueSettings()
	st.share = newShareSettings()
	st.portMapping = widget.NewCheck("Open the port on my router (UPnP / NAT-PMP)", nil)
	st.reach = widget.NewLabel(reachWords(engine.NetStatus{}, 0, true))
	st.reach.Wrapping = fyne.TextWrapWord
	st.testAgain = widget.NewButtonWithIcon("Test again", theme.ViewRefreshIcon(), st.retest)
	st.apply = widget.NewButtonWithIcon("Apply", theme.ConfirmIcon(), st.applyForm)
	st.apply.Importance = widget.HighImportance
	st.revert = widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), st.reload)
	st.content = st.layout()
	st.saved = u.eng.Settings()
	st.fill(st.saved)
	return st
}

// layout arranges the cards in two columns above the buttons.
func (st *settingsTab) layout() fyne.CanvasObject {
	kib := func(e *widget.Entry) fyne.CanvasObject { return withUnit(e, "KiB/s") }
	speed := widget.NewCard("Speed limits", "All transfers together; 0 = unlimited", widget.NewForm(
		widget.NewFormItem("Download", kib(st.down)), widget.NewFormItem("Upload", kib(st.up)),
		widget.NewFormItem("Upload slots", withUnit(st.slots, "per transfer"))))
	alt := widget.NewCard("Alternative speed limits", "For busy hours; 0 = unlimited", container.NewVBox(
		st.altNow,
		widget.NewForm(widget.NewFormItem("Download", kib(st.altDown)), widget.NewFormItem("Upload", kib(st.altUp))),
	))
	var dayBoxes []fyne.CanvasObject
	for _, d := range weekOrder {
		dayBoxes = append(dayBoxes, st.days[d])
	}
	schedule := widget.NewCard("Schedule", "When the alternative limits apply by themselves", container.NewVBox(
		st.scheduled,
		container.NewGridWithColumns(4, dayBoxes...),
		container.NewGridWithColumns(2, labelled("From", st.from), labelled("to", st.to)),
	))
	seeding := widget.NewCard("Seeding", "When a finished download stops uploading", container.NewVBox(
		widget.NewForm(
			widget.NewFormItem("Ratio target", withUnit(st.ratio, "0 = none")),
			widget.NewFormItem("Seed time", withUnit(st.seedTime, "minutes, 0 = none")),
			widget.NewFormItem("Then", st.onTarget)),
		st.onlySeed,
	))
	conns := widget.NewCard("Connection", "How other peers reach you and how Shoal talks to them", container.NewVBox(
		widget.NewForm(
			widget.NewFormItem("Listen port", withUnit(st.listenPort, "TCP and UDP")),
			widget.NewFormItem("Router", st.portMapping),
			widget.NewFormItem("Encryption", st.encryption),
			widget.NewFormItem("Transport", st.utp)),
		container.NewBorder(nil, nil, nil, st.testAgain, st.reach)))
	prefs := st.u.app.Preferences()
	st.closeToTray = widget.NewCheck("Keep seeding in the tray when I close the window", func(on bool) {
		prefs.SetBool(prefCloseToTray, on) // a desktop preference: at once, no Apply
	})
	st.closeToTray.SetChecked(prefs.BoolWithFallback(prefCloseToTray, true))
	downloads := widget.NewCard("Downloads", "Where new downloads are saved", container.NewVBox(
		st.downloadLabel,
		container.NewHBox(widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), st.chooseFolder),
			widget.NewButton("Use my Downloads folder", func() { st.setDownloadDir("") })),
		st.moveLabel,
		container.NewHBox(widget.NewButtonWithIcon("Move them to…", theme.FolderOpenIcon(), st.chooseMoveFolder),
			widget.NewButton("Leave them there", func() { st.setMoveDir("") })),
		st.closeToTray,
	))
	search := widget.NewCard("Search", "What this computer indexes for everyone's searches while it is a supernode", container.NewVBox(
		st.indexDHT,
		widget.NewForm(
			widget.NewFormItem("Crawl rate", withUnit(st.crawlRate, "queries/s")),
			widget.NewFormItem("Index size", withUnit(st.dhtCap, "torrents at most"))),
	))
	cols := newColumns(container.NewVBox(downloads, speed, alt, conns), container.NewVBox(schedule, seeding, st.queue.card(), st.share.card(), search))
	buttons := container.NewBorder(nil, nil, nil, container.NewHBox(st.revert, st.apply), st.info)
	return container.NewBorder(nil, buttons, nil, nil, container.NewVScroll(cols))
}

// labelled puts a label before an object.
func labelled(label string, o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(nil, nil, widget.NewLabel(label), nil, o)
}

// withUnit puts a unit or hint after an entry.
func withUnit(e *widget.Entry, unit string) fyne.CanvasObject {
	l := widget.NewLabel(unit)
	l.Importance = widget.LowImportance
	return container.NewBorder(nil, nil, nil, l, e)
}

// fill shows s in the widgets.
func (st *settingsTab) fill(s engine.Settings) {
	st.filling = true
	defer func() { st.filling = false }()
	st.down.SetText(kibText(s.DownloadLimit))
	st.up.SetText(kibText(s.UploadLimit))
	st.altDown.SetText(kibText(s.AltDownloadLimit))
	st.altUp.SetText(kibText(s.AltUploadLimit))
	st.altNow.SetChecked(s.AltEnabled)
	st.scheduled.SetChecked(s.AltSchedule.Enabled)
	for d, c := range st.days {
		c.SetChecked(s.AltSchedule.Days[d])
	}
	st.from.SetText(clockText(s.AltSchedule.From))
	st.to.SetText(clockText(s.AltSchedule.To))
	st.ratio.SetText(ratioTargetText(s.RatioTarget))
	st.seedTime.SetText(minutesText(s.SeedTimeLimit))
	if s.OnTarget == engine.TargetStop {
		st.onTarget.SetSelected(onTargetStop)
	} else {
		st.onTarget.SetSelected(onTargetPause)
	}
	st.onlySeed.SetChecked(s.KeepSeedingIfOnlySeed)
	st.slots.SetText(fmt.Sprint(s.UploadSlots))
	st.setDownloadDir(s.DownloadDir)
	st.setMoveDir(s.MoveCompletedTo)
	st.utp.SetChecked(s.UTP)
	st.listenPort.SetText("")
	if s.ListenPort > 0 {
		st.listenPort.SetText(fmt.Sprint(s.ListenPort))
	}
	st.portMapping.SetChecked(s.PortMapping)
	st.encryption.SetSelectedIndex(0)
	for i, c := range encryptionChoices {
		if c.value == s.Encryption {
			st.encryption.SetSelectedIndex(i)
		}
	}
	st.indexDHT.SetChecked(s.IndexDHT)
	st.crawlRate.SetText(fmt.Sprint(s.CrawlRate))
	st.dhtCap.SetText(fmt.Sprint(s.DHTIndexCap))
	st.queue.fill(s)
	st.share.fill(s)
}

// read validates the widgets into settings, starting from the saved ones
// so that fields the form does not show are kept. It reports every
// problem at once.
func (st *settingsTab) read() (engine.Settings, error) {
	s := st.saved
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	s.DownloadLimit, err = parseKiB("Download limit", st.down.Text)
	keep(err)
	s.UploadLimit, err = parseKiB("Upload limit", st.up.Text)
	keep(err)
	s.AltDownloadLimit, err = parseKiB("Alternative download limit", st.altDown.Text)
	keep(err)
	s.AltUploadLimit, err = parseKiB("Alternative upload limit", st.altUp.Text)
	keep(err)
	s.AltEnabled = st.altNow.Checked
	s.AltSchedule, err = st.readSchedule()
	keep(err)
	s.RatioTarget, err = parseNumber("Share ratio target", st.ratio.Text)
	keep(err)
	s.SeedTimeLimit, err = parseMinutes("Seed time limit", st.seedTime.Text)
	keep(err)
	s.OnTarget = engine.TargetPause
	if st.onTarget.Selected == onTargetStop {
		s.OnTarget = engine.TargetStop
	}
	s.KeepSeedingIfOnlySeed = st.onlySeed.Checked
	s.UploadSlots, err = parseCount("Upload slots", st.slots.Text, 1, 500)
	keep(err)
	s.Encryption = encryptionChoices[max(0, st.encryption.SelectedIndex())].value
	s.DownloadDir = st.downloadDir
	s.MoveCompletedTo = st.moveDir
	s.IndexDHT = st.indexDHT.Checked
	s.CrawlRate, err = parseCount("Crawl rate", st.crawlRate.Text, 0, 1000)
	keep(err)
	s.DHTIndexCap, err = parseCount("Index size", st.dhtCap.Text, 0, 10_000_000)
	keep(err)
	s.UTP = st.utp.Checked
	if st.listenPort.Text != "" || st.saved.ListenPort > 0 {
		s.ListenPort, err = parseCount("Listen port", st.listenPort.Text, 1024, 65535)
		keep(err)
	}
	s.PortMapping = st.portMapping.Checked
	st.queue.read(&s, keep)
	st.share.read(&s)
	return s, errors.Join(errs...)
}

// readSchedule validates the weekly schedule; the times matter only when
// it is on.
func (st *settingsTab) readSchedule() (engine.Schedule, error) {
	sc := engine.Schedule{Enabled: st.scheduled.Checked}
	chosen := false
	for d, c := range st.days {
		sc.Days[d] = c.Checked
		chosen = chosen || c.Checked
	}
	from, errFrom := parseClock("Schedule start", st.from.Text, false)
	to, errTo := parseClock("Schedule end", st.to.Text, true)
	if !sc.Enabled {
		sc.From, sc.To = st.saved.AltSchedule.From, st.saved.AltSchedule.To
		if errFrom == nil && errTo == nil {
			sc.From, sc.To = from, to
		}
		return sc, nil
	}
	if err := errors.Join(errFrom, errTo); err != nil {
		return sc, err
	}
	sc.From, sc.To = from, to
	switch {
	case !chosen:
		return sc, errors.New("schedule: choose at least one day")
	case from == to:
		return sc, fmt.Errorf("schedule: it starts and ends at %s", clockText(from))
	}
	return sc, nil
}

// applyForm saves the form, or shows why it cannot.
func (st *settingsTab) applyForm() {
	s, err := st.read()
	if err != nil {
		dialog.ShowError(fmt.Errorf("settings not saved:\n%w", err), st.u.win)
		return
	}
	done := "Settings saved."
	if s.ListenPort != st.saved.ListenPort {
		done = fmt.Sprintf("Settings saved. Shoal listens on port %d from its next start.", s.ListenPort)
	}
	st.save(s, done)
}

// showReach shows the last reachability test in words, and keeps "Test
// again" off while a test runs.
func (st *settingsTab) showReach(n engine.NetStatus) {
	key := reachKeyOf(n, st.saved)
	if key == st.reachShown {
		return
	}
	st.reachShown = key
	port := portOfAddr(n.PeerAddr)
	if port == 0 {
		port = st.saved.ListenPort
	}
	setText(st.reach, reachWords(n, port, st.saved.PortMapping))
	if n.ReachTesting {
		st.testAgain.Disable()
	} else {
		st.testAgain.Enable()
	}
}

// retest asks the engine for a new dial-back test.
func (st *settingsTab) retest() {
	st.testAgain.Disable()
	st.reachShown = reachKey{}
	setText(st.reach, "Testing whether other peers can connect to you…")
	st.u.act("test reachability", func() error { st.u.eng.TestReachability(); return nil }, func() {})
}

// save hands s to the engine and shows what it kept.
func (st *settingsTab) save(s engine.Settings, done string) {
	st.u.actOr("save settings", func() error { return st.u.eng.SetSettings(s) }, func() {
		st.reloadWith(done)
	}, func() { st.setInfo("Settings not saved.") })
}

// reload shows the engine's settings again, dropping unsaved edits.
func (st *settingsTab) reload() { st.reloadWith("") }

func (st *settingsTab) reloadWith(info string) {
	var s engine.Settings
	st.u.act("", func() error { s = st.u.eng.Settings(); return nil }, func() {
		st.saved = s
		st.fill(s)
		st.setInfo(info)
	})
}

func (st *settingsTab) setInfo(s string) {
	if s != "" {
		s = time.Now().Format("15:04:05 ") + s
	}
	setText(st.info, s)
}

// toggleAlt switches the alternative limits at once, with the saved
// limits: edits not applied yet stay in the form. If the engine refuses,
// the next snapshot puts the box back (syncAlt).
func (st *settingsTab) toggleAlt(on bool) {
	if st.filling {
		return
	}
	s := st.saved
	s.AltEnabled = on
	msg := "Alternative limits off."
	if on {
		msg = "Alternative limits on."
	}
	st.toggling++
	st.u.actOr("switch alternative limits", func() error { return st.u.eng.SetSettings(s) }, func() {
		st.toggling--
		st.saved.AltEnabled = on
		st.setInfo(msg)
	}, func() { st.toggling-- })
}

// syncAlt makes the switch show the saved state again when no switch is
// on its way to the engine.
func (st *settingsTab) syncAlt() {
	if st.toggling > 0 || st.altNow.Checked == st.saved.AltEnabled {
		return
	}
	st.filling = true
	st.altNow.SetChecked(st.saved.AltEnabled)
	st.filling = false
}

// altActive reports whether the alternative limits apply at t.
func (st *settingsTab) altActive(t time.Time) bool {
	return st.saved.AltEnabled || st.saved.AltSchedule.Active(t)
}

// setDownloadDir shows a chosen download folder ("" = the default), to be
// saved by Apply.
func (st *settingsTab) setDownloadDir(dir string) {
	st.downloadDir = dir
	if dir == "" {
		st.downloadLabel.SetText("Your Downloads folder")
		if st.saved.DownloadDir == "" {
			st.downloadLabel.SetText("Your Downloads folder: " + st.u.eng.DownloadDir())
		}
		return
	}
	st.downloadLabel.SetText(dir)
}

// setMoveDir shows where finished downloads move ("" = they stay), to be
// saved by Apply.
func (st *settingsTab) setMoveDir(dir string) {
	st.moveDir = dir
	if dir == "" {
		st.moveLabel.SetText("Finished downloads stay where they were saved")
		return
	}
	st.moveLabel.SetText("Finished downloads move to " + dir + " and keep seeding from there")
}

// chooseMoveFolder opens a folder picker for where finished downloads move.
func (st *settingsTab) chooseMoveFolder() {
	st.pickFolder(func(dir string) {
		st.setMoveDir(dir)
		st.setInfo("Press Apply to move finished downloads to " + dir)
	})
}

// chooseFolder opens a folder picker for the download folder.
func (st *settingsTab) chooseFolder() {
	st.pickFolder(func(dir string) {
		st.setDownloadDir(dir)
		st.setInfo("Press Apply to save downloads to " + dir)
	})
}

// pickFolder opens a folder picker at the download folder and passes the
// chosen folder to chosen (nothing when cancelled).
func (st *settingsTab) pickFolder(chosen func(dir string)) {
	d := dialog.NewFolderOpen(func(uri fyne.ListableURI, err error) {
		if err != nil {
			st.u.showError(err)
			return
		}
		if uri == nil {
			return // cancelled
		}
		chosen(uri.Path())
	}, st.u.win)
	if start, err := storageListable(st.u.eng.DownloadDir()); err == nil {
		d.SetLocation(start)
	}
	d.Show()
}

// storageListable is a folder as a Fyne location for a picker.
func storageListable(dir string) (fyne.ListableURI, error) {
	return storage.ListerForURI(storage.NewFileURI(dir))
}
