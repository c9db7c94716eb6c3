package ui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// someSettings is a configured node: limits, a weeknight schedule, targets.
func someSettings() engine.Settings {
	s := engine.Settings{
		UploadLimit: 512 << 10, DownloadLimit: 2 << 20, AltUploadLimit: 64 << 10, AltDownloadLimit: 256 << 10,
		RatioTarget: 1.5, SeedTimeLimit: 90 * time.Minute, OnTarget: "stop", KeepSeedingIfOnlySeed: true, UploadSlots: 6,
		Encryption: "off",
	}
	s.AltSchedule = engine.Schedule{Enabled: true, From: 18*60 + 30, To: 23 * 60}
	s.AltSchedule.Days[time.Monday], s.AltSchedule.Days[time.Friday] = true, true
	return s
}

func newSettingsUI(t *testing.T, s engine.Settings) (*UI, *fakeEngine) {
	t.Helper()
	f := newFake()
	f.settings = s
	a := test.NewTempApp(t)
	u := New(a, f)
	queueHops(u)
	t.Cleanup(func() {
		u.cancel()
		settle(u)
		u.win.Close()
	})
	u.tabs.Select(u.settingsItem)
	return u, f
}

func TestSettingsFormShowsTheEngineSettings(t *testing.T) {
	u, _ := newSettingsUI(t, someSettings())
	st := u.settings
	got := []string{st.down.Text, st.up.Text, st.altDown.Text, st.altUp.Text, st.from.Text, st.to.Text,
		st.ratio.Text, st.seedTime.Text, st.onTarget.Selected, st.slots.Text, st.encryption.Selected}
	want := []string{"2048", "512", "256", "64", "18:30", "23:00", "1.5", "90", onTargetStop, "6", "Off (unencrypted only)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("form shows %q\n want %q", got, want)
	}
	if !st.scheduled.Checked || !st.days[time.Monday].Checked || !st.days[time.Friday].Checked ||
		st.days[time.Sunday].Checked || st.altNow.Checked || !st.onlySeed.Checked {
		t.Error("checkboxes do not match the settings")
	}
}

func TestSettingsApply(t *testing.T) {
	u, f := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4})
	st := u.settings
	for _, c := range []struct {
		e    interface{ SetText(string) }
		text string
	}{{st.down, "1000"}, {st.up, "250,5"}, {st.altDown, "100"}, {st.altUp, ""}, {st.from, "22:00"},
		{st.to, "6:30"}, {st.ratio, "2"}, {st.seedTime, "1440"}, {st.slots, "8"}} {
		c.e.SetText(c.text)
	}
	test.Tap(st.scheduled)
	test.Tap(st.days[time.Saturday])
	test.Tap(st.days[time.Sunday])
	test.Tap(st.onlySeed)
	st.onTarget.SetSelected(onTargetStop)
	st.encryption.SetSelected("Require (encrypted peers only)")
	test.Tap(st.utp)
	test.Tap(st.apply)
	settle(u)
	want := engine.Settings{DownloadLimit: 1000 << 10, UploadLimit: 250*1024 + 512, AltDownloadLimit: 100 << 10,
		RatioTarget: 2, SeedTimeLimit: 24 * time.Hour, OnTarget: "stop", KeepSeedingIfOnlySeed: true, UploadSlots: 8,
		Encryption: "require", UTP: true, AltSchedule: engine.Schedule{Enabled: true, From: 22 * 60, To: 6*60 + 30}}
	want.AltSchedule.Days[time.Saturday], want.AltSchedule.Days[time.Sunday] = true, true
	f.lock(func() {
		if len(f.settingsSet) != 1 || !reflect.DeepEqual(f.settingsSet[0], want) {
			t.Fatalf("SetSettings calls %+v\n want %+v", f.settingsSet, want)
		}
	})
	if !strings.HasSuffix(st.info.Text, "Settings saved.") || st.saved != want {
		t.Errorf("after apply: info %q, saved %+v", st.info.Text, st.saved)
	}
	// A Wednesday noon is outside the Saturday/Sunday night schedule; a
	// Saturday 23:00 is inside it, where the alternative limits apply.
	wednesdayNoon := time.Date(2026, 11, 18, 12, 0, 0, 0, time.Local)
	u.Refresh(engine.Snapshot{Taken: wednesdayNoon, Net: engine.NetStatus{DownRate: 2048}})
	if got := u.status.rates.Text; got != "↓ 2.00 KiB/s [1000 KiB/s]   ↑ 0 B/s [250 KiB/s]" {
		t.Errorf("status rates on Wednesday noon %q", got)
	}
	saturdayNight := time.Date(2026, 11, 21, 23, 0, 0, 0, time.Local)
	u.Refresh(engine.Snapshot{Taken: saturdayNight, Net: engine.NetStatus{DownRate: 2048}})
	if got := u.status.rates.Text; got != "↓ 2.00 KiB/s [100 KiB/s]   ↑ 0 B/s" {
		t.Errorf("status rates on Saturday 23:00 %q", got)
	}
}

func TestSettingsValidation(t *testing.T) {
	cases := []struct {
		name string
		edit func(st *settingsTab)
		want []string
	}{
		{"not numbers", func(st *settingsTab) { st.down.SetText("fast"); st.ratio.SetText("-1"); st.slots.SetText("0") },
			[]string{`Download limit: "fast" is not a number`, "Share ratio target: -1 is negative", "Upload slots: 0 is outside 1–500"}},
		{"bad times", func(st *settingsTab) { st.scheduled.SetChecked(true); st.from.SetText("25:00"); st.to.SetText("7h") },
			[]string{`Schedule start: "25:00" is not a time of day`, `Schedule end: "7h" is not a time of day`}},
		{"no day", func(st *settingsTab) { st.scheduled.SetChecked(true); st.from.SetText("8:00"); st.to.SetText("9:00") },
			[]string{"schedule: choose at least one day"}},
		{"empty window", func(st *settingsTab) {
			st.scheduled.SetChecked(true)
			st.days[time.Tuesday].SetChecked(true)
			st.from.SetText("9:00")
			st.to.SetText("09:00")
		}, []string{"schedule: it starts and ends at 09:00"}},
		{"minutes", func(st *settingsTab) { st.seedTime.SetText("1.5") }, []string{`Seed time limit: "1.5" is not a whole number`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, f := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4})
			c.edit(u.settings)
			test.Tap(u.settings.apply)
			settle(u)
			for _, w := range c.want {
				assertDialogKeep(t, u, w)
			}
			f.lock(func() {
				if len(f.settingsSet) != 0 {
					t.Errorf("invalid settings were saved: %+v", f.settingsSet)
				}
			})
		})
	}
}

// assertDialogKeep checks that the top overlay shows text and leaves it.
func assertDialogKeep(t *testing.T, u *UI, text string) {
	t.Helper()
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog; want one saying %q", text)
	}
	if m := test.RenderObjectToMarkup(top); !strings.Contains(m, text) {
		t.Errorf("dialog does not say %q:\n%s", text, m)
	}
}

func TestAlternativeLimitsToggleAtOnce(t *testing.T) {
	saved := someSettings()
	saved.AltSchedule.Enabled = false
	u, f := newSettingsUI(t, saved)
	st := u.settings
	st.down.SetText("1") // an edit not applied: the toggle must not save it
	test.Tap(st.altNow)
	settle(u)
	want := saved
	want.AltEnabled = true
	f.lock(func() {
		if len(f.settingsSet) != 1 || f.settingsSet[0] != want {
			t.Fatalf("toggle saved %+v\n want %+v", f.settingsSet, want)
		}
	})
	u.Refresh(engine.Snapshot{})
	if !u.status.alt.Visible() || u.status.rates.Text != "↓ 0 B/s [256 KiB/s]   ↑ 0 B/s [64.0 KiB/s]" {
		t.Errorf("status: alt mark visible=%v, rates %q", u.status.alt.Visible(), u.status.rates.Text)
	}

	f.lock(func() { f.settingsErr = errBoom })
	test.Tap(st.altNow)
	settle(u)
	assertDialog(t, u, "Could not switch alternative limits")
	u.Refresh(engine.Snapshot{})
	if !st.altNow.Checked || !st.saved.AltEnabled {
		t.Error("a failed switch left the box unticked")
	}
	test.Tap(st.revert)
	settle(u)
	if st.down.Text != "2048" {
		t.Errorf("revert left %q in the download limit", st.down.Text)
	}
}

func TestScheduleTurnsTheAltMarkOn(t *testing.T) {
	s := someSettings() // Monday and Friday, 18:30–23:00
	u, _ := newSettingsUI(t, s)
	monday := time.Date(2026, 11, 23, 19, 0, 0, 0, time.Local)
	u.Refresh(engine.Snapshot{Taken: monday})
	if !u.status.alt.Visible() {
		t.Error("alternative limits not marked on Monday 19:00")
	}
	u.Refresh(engine.Snapshot{Taken: monday.Add(24 * time.Hour)})
	if u.status.alt.Visible() {
		t.Error("alternative limits marked on Tuesday 19:00")
	}
}

// TestSettingsFolders: each folder of the Downloads card (where downloads
// go; where finished ones move) names its default in words, a folder chosen
// (as the picker's callback does) is saved by Apply and shown, and the
// button back ("Use my Downloads folder", "Leave them there") clears it.
func TestSettingsFolders(t *testing.T) {
	for _, c := range []struct {
		name               string
		set                func(*settingsTab, string)
		label              func(*settingsTab) *widget.Label
		saved              func(engine.Settings) string
		unset, chosen, dir string
	}{
		{"download folder", (*settingsTab).setDownloadDir,
			func(st *settingsTab) *widget.Label { return st.downloadLabel },
			func(s engine.Settings) string { return s.DownloadDir },
			"Your Downloads folder: /home/user/Downloads", "/media/big/incoming", "/media/big/incoming"},
		{"move finished", (*settingsTab).setMoveDir,
			func(st *settingsTab) *widget.Label { return st.moveLabel },
			func(s engine.Settings) string { return s.MoveCompletedTo },
			"Finished downloads stay where they were saved",
			"Finished downloads move to /media/big/finished and keep seeding from there", "/media/big/finished"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, f := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4})
			st := u.settings
			if got := c.label(st).Text; got != c.unset {
				t.Errorf("no folder shows as %q, want %q", got, c.unset)
			}
			c.set(st, c.dir)
			test.Tap(st.apply)
			settle(u)
			f.lock(func() {
				if n := len(f.settingsSet); n != 1 || c.saved(f.settingsSet[0]) != c.dir {
					t.Fatalf("SetSettings calls %+v; want %s", f.settingsSet, c.dir)
				}
			})
			if got := c.label(st).Text; got != c.chosen {
				t.Errorf("chosen folder shows as %q, want %q", got, c.chosen)
			}
			c.set(st, "")
			test.Tap(st.apply)
			settle(u)
			f.lock(func() {
				if got := c.saved(f.settings); got != "" {
					t.Fatalf("after going back: %q, want the default", got)
				}
			})
		})
	}
}
