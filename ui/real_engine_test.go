package ui

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// realSwarm is four engines on 127.0.0.1 with a private DHT: a bootstrap
// node, a supernode, a sharer, and the node the window drives.
type realSwarm struct {
	sharer, me *enginetest.Node
}

func startRealSwarm(t *testing.T) realSwarm {
	t.Helper()
	if !haveFTS5 {
		t.Fatal("the supernode's index needs SQLite FTS5: run go test -tags sqlite_fts5 (make test does)")
	}
	boot := enginetest.Start(t, enginetest.Config(t))
	sCfg := enginetest.Config(t, boot.DHTAddr())
	sCfg.Supernode = true
	enginetest.Start(t, sCfg)
	return realSwarm{
		sharer: enginetest.Start(t, enginetest.Config(t, boot.DHTAddr())),
		me:     enginetest.Start(t, enginetest.Config(t, boot.DHTAddr())),
	}
}

// newRealUI builds the window on a real engine with Fyne's test driver.
func newRealUI(t *testing.T, eng Engine) *UI {
	t.Helper()
	u := New(test.NewTempApp(t), eng)
	queueHops(u)
	u.win.Resize(fyne.NewSize(1000, 650))
	t.Cleanup(func() {
		u.cancel()
		settle(u)
		settleSearch(u)
		u.win.Close()
	})
	return u
}

// pullUntil takes snapshots the way the ticker does (pull: Snapshot, then
// Refresh handed to the Fyne goroutine, here the test's: settle) until
// cond holds on the UI, or fails the test.
func pullUntil(t *testing.T, u *UI, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		u.pull()
		settle(u)
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for the window to show %s", timeout, what)
		}
		time.Sleep(pollInterval / 2)
	}
}

// TestRealSwarmSearchDownloadDropRatio drives the window on a real engine:
// a search followed by a click creates a transfer row that completes, a
// drop shares a file, and the ratio label changes as bytes move, to the
// text the engine's own counters give.
func TestRealSwarmSearchDownloadDropRatio(t *testing.T) {
	const size, size2 = 4 << 20, 2 << 20
	sw := startRealSwarm(t)
	name := "Glacier Calving Documentary.mkv"
	src := enginetest.RandomFile(t, t.TempDir(), name, size)
	ih, err := sw.sharer.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := newRealUI(t, sw.me.Engine)
	u.pull()
	settle(u)
	if got := u.ratio.big.Text; got != "—" {
		t.Fatalf("ratio before any traffic shows %q, want —", got)
	}

	row := searchUntilHit(t, u, sw, "glacier documentary", ih)
	test.Tap(rowButton(t, u.search.grid, row, searchColButton))
	settle(u)
	if u.tabs.Selected() != u.transferItem {
		t.Errorf("tab %q selected after Download, want Transfers", u.tabs.Selected().Text)
	}
	pullUntil(t, u, "the new transfer row", 30*time.Second, func() bool {
		rows := u.transfers.grid.rows
		return len(rows) == 1 && rows[0][trColName] == name && u.transfers.grid.selectedRow() == 0
	})
	pullUntil(t, u, "the transfer complete", 90*time.Second, func() bool {
		rows := u.transfers.grid.rows
		return rows[0][trColState] == "Seeding" && u.transfers.grid.progress[0] == 1
	})
	tr, _ := u.transfers.selected()
	if !sameFile(t, filepath.Join(tr.Dir, name), src) {
		t.Fatal("the downloaded file differs from the shared one")
	}
	checkRealFiles(t, u, size)

	// The download moved size bytes in: the ratio label says so.
	assertRatioLabel(t, u, sw.me, engine.Ratio{Downloaded: size, SessionDownloaded: size}, "0.00")

	// A drop shares a real file; the sharer then fetches it from us.
	dropped := enginetest.RandomFile(t, t.TempDir(), "Aurora Timelapse Raw.mov", size2)
	u.onDropped(fyne.NewPos(500, 300), []fyne.URI{storage.NewFileURI(dropped)})
	settle(u)
	if u.tabs.Selected() != u.libraryItem {
		t.Errorf("tab %q selected after a drop, want Library", u.tabs.Selected().Text)
	}
	// The Library lists it first, then the finished download.
	pullUntil(t, u, "the dropped file and the finished download in the Library", 30*time.Second, func() bool {
		rows := u.library.grid.rows
		return len(rows) == 2 && rows[0][libColName] == filepath.Base(dropped) &&
			rows[0][libColPath] == dropped && rows[0][libColButton] == labelCopyMagnet &&
			rows[1][libColName] == name && rows[1][libColPath] == filepath.Join(tr.Dir, name) &&
			rows[0][libColFiles] == "1" && rows[1][libColFiles] == "1"
	})
	shared := u.library.items[0]
	if _, err := sw.sharer.Download(context.Background(), engine.DownloadRequest{
		Source: shared.Magnet, Peers: []string{sw.me.PeerAddr()},
	}); err != nil {
		t.Fatal(err)
	}
	assertRatioLabel(t, u, sw.me, engine.Ratio{Uploaded: size2, Downloaded: size,
		SessionUploaded: size2, SessionDownloaded: size}, "0.50")
}

// searchUntilHit types words and taps Search until the hit for ih shows
// with the sharer as a source (the sharer's registration with the
// supernode takes a moment); it returns the hit's row.
func searchUntilHit(t *testing.T, u *UI, sw realSwarm, words string, ih engine.InfoHash) int {
	t.Helper()
	enginetest.WaitFor(t, "a supernode link", 60*time.Second, func() bool {
		return len(sw.me.Snapshot().Net.Supernodes) > 0
	})
	batches := make(chan []engine.Hit, 64)
	u.search.afterBatch = func() { batches <- slices.Clone(u.search.hits) }
	test.Type(u.search.entry, words)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		test.Tap(u.search.button)
		row := waitHit(u, batches, ih, sw.sharer.PeerAddr(), 3*time.Second)
		// Stop the stream before touching the table from this goroutine.
		u.search.cancel()
		settleSearch(u)
		if row >= 0 {
			if got := u.search.grid.rows[row][searchColName]; got != u.search.hits[row].Name {
				t.Fatalf("row %d shows %q", row, got)
			}
			return row
		}
		for u.win.Canvas().Overlays().Top() != nil { // a search that failed meanwhile
			u.win.Canvas().Overlays().Remove(u.win.Canvas().Overlays().Top())
		}
	}
	t.Fatalf("no hit for %q from %s within 90s", words, sw.sharer.PeerAddr())
	return -1
}

// waitHit runs u's hand-offs and reads batches until one holds ih with source as a source.
func waitHit(u *UI, batches <-chan []engine.Hit, ih engine.InfoHash, source string, wait time.Duration) int {
	timeout := time.After(wait)
	for {
		runHops(u)
		select {
		case <-time.After(5 * time.Millisecond):
		case hits := <-batches:
			for i, h := range hits {
				if h.InfoHash == ih && slices.Contains(h.Sources, source) {
					return i
				}
			}
		case <-timeout:
			return -1
		}
	}
}

// assertRatioLabel waits for the engine's counters to reach want, then
// checks that the Ratio tab shows exactly what they give.
func assertRatioLabel(t *testing.T, u *UI, n *enginetest.Node, want engine.Ratio, digits string) {
	t.Helper()
	enginetest.WaitFor(t, fmt.Sprintf("ratio counters %+v", want), 90*time.Second, func() bool {
		return n.Snapshot().Ratio == want
	})
	u.pull()
	settle(u)
	q := n.Snapshot().Ratio
	if got := u.ratio.big.Text; got != digits || got != formatRatio(q.Value()) {
		t.Errorf("ratio label %q, want %q (engine ratio %+v)", got, digits, q)
	}
	total := fmt.Sprintf("Uploaded %s · Downloaded %s", humanBytes(q.Uploaded), humanBytes(q.Downloaded))
	if got := u.ratio.allTime.Text; got != total {
		t.Errorf("all-time label %q, want %q", got, total)
	}
	session := fmt.Sprintf("Uploaded %s · Downloaded %s", humanBytes(q.SessionUploaded), humanBytes(q.SessionDownloaded))
	if got, want := u.ratio.sessionGauge.text.Text, ratioText(q.SessionUploaded, q.SessionDownloaded, q.SessionValue()); got != want {
		t.Errorf("session gauge %q, want %q", got, want)
	}
	if got := u.ratio.session.Text; got != session {
		t.Errorf("session label %q, want %q", got, session)
	}
}

// checkRealFiles opens the Files and Options dialogs on the real
// transfer and saves through them: the engine ends with both choices.
func checkRealFiles(t *testing.T, u *UI, size int64) {
	t.Helper()
	tt := u.transfers
	d := openFiles(t, u)
	want := fmt.Sprintf("1 of 1 file chosen: %s of %s", humanBytes(size), humanBytes(size))
	if got := d.summary.Text; got != want {
		t.Errorf("files summary %q, want %q", got, want)
	}
	test.Tap(d.save)
	settle(u)
	o := openOptions(t, u)
	o.up.SetText("100")
	test.Tap(o.save)
	settle(u)
	assertNoDialog(t, u)
	got, err := u.eng.TransferOptions(tt.list[0].InfoHash)
	if err != nil || got.UploadLimit != 100<<10 || len(got.SkipFiles) != 0 {
		t.Errorf("engine options %+v, %v; want an upload limit of 100 KiB/s and no skipped file", got, err)
	}
}

// openFiles taps Files… and returns the dialog it opened.
func openFiles(t *testing.T, u *UI) *filesDialog {
	t.Helper()
	u.transfers.files = nil
	test.Tap(u.transfers.filesBtn)
	settle(u)
	if u.transfers.files == nil {
		t.Fatalf("no Files dialog:\n%s", test.RenderObjectToMarkup(u.win.Canvas().Overlays().Top()))
	}
	return u.transfers.files
}

func assertNoDialog(t *testing.T, u *UI) {
	t.Helper()
	if top := u.win.Canvas().Overlays().Top(); top != nil {
		t.Fatalf("a dialog is open after saving:\n%s", test.RenderObjectToMarkup(top))
	}
}

// TestRealTransferOptionsDialogs drives the Options and Files dialogs on a
// real engine's transfer: both start from the engine's current options
// (set here straight on the engine), and saving either keeps what the
// other chose.
func TestRealTransferOptionsDialogs(t *testing.T) {
	sharer := enginetest.Start(t, enginetest.Config(t))
	me := enginetest.Start(t, enginetest.Config(t))
	dir := filepath.Join(t.TempDir(), "Field Recordings")
	enginetest.RandomFile(t, dir, "dawn chorus.wav", 1<<20)
	enginetest.RandomFile(t, dir, "thunder.wav", 1<<20)
	ih, err := sharer.ShareSync(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := me.Download(context.Background(), engine.DownloadRequest{
		Source: ih.String(), Peers: []string{sharer.PeerAddr()},
	}); err != nil {
		t.Fatal(err)
	}
	u := newRealUI(t, me.Engine)
	pullUntil(t, u, "the transfer with its metadata", 30*time.Second, func() bool {
		u.transfers.grid.selectRow(0)
		files, err := me.Files(ih)
		// The window's own snapshot must have the metadata too, or the
		// Files button is still disabled.
		return len(u.transfers.list) == 1 && u.transfers.list[0].Size > 0 && err == nil && len(files) == 2
	})
	target := 1.5
	set := engine.TransferOptions{DownloadLimit: 300 << 10, UploadLimit: 40 << 10, RatioTarget: &target, Sequential: true}
	if err := me.SetTransferOptions(ih, set); err != nil {
		t.Fatal(err)
	}
	o := openOptions(t, u)
	if got, want := optionFields(o), "down=300 up=40 ratio=1.5 sequential=true"; got != want {
		t.Fatalf("options dialog shows %s, want the engine's %s", got, want)
	}
	o.up.SetText("60")
	test.Tap(o.save)
	settle(u)
	assertNoDialog(t, u)
	set.UploadLimit = 60 << 10
	assertRealOptions(t, me, ih, set)

	thunder := untickFile(t, u, "thunder.wav")
	set.SkipFiles = []int{thunder}
	assertRealOptions(t, me, ih, set)

	o = openOptions(t, u)
	if got, want := optionFields(o), "down=300 up=60 ratio=1.5 sequential=true"; got != want {
		t.Errorf("options after saving files show %s, want %s", got, want)
	}
	o.ratio.SetText("")
	test.Tap(o.sequential)
	test.Tap(o.save)
	settle(u)
	assertNoDialog(t, u)
	set.RatioTarget, set.Sequential = nil, false
	assertRealOptions(t, me, ih, set)
	if d := openFiles(t, u); d.wanted[fileRow(t, d, "thunder.wav")] {
		t.Error("the skipped file is ticked again after saving options")
	}
}

// untickFile unticks name in the Files dialog, saves, and returns the
// file's index.
func untickFile(t *testing.T, u *UI, name string) int {
	t.Helper()
	d := openFiles(t, u)
	row := fileRow(t, d, name)
	test.Tap(fileBoxes(d)[row])
	if d.wanted[row] {
		t.Fatalf("tapping row %d's box did not untick %s", row, name)
	}
	if got := d.summary.Text; got != "1 of 2 files chosen: 1.00 MiB of 2.00 MiB" {
		t.Errorf("summary %q", got)
	}
	test.Tap(d.save)
	settle(u)
	assertNoDialog(t, u)
	return d.files[row].Index
}

// fileRow is the Files dialog's row for the file called name.
func fileRow(t *testing.T, d *filesDialog, name string) int {
	t.Helper()
	for i, f := range d.files {
		if filepath.Base(f.Path) == name {
			return i
		}
	}
	t.Fatalf("no %s among %+v", name, d.files)
	return -1
}

// assertRealOptions checks the engine's options for ih.
func assertRealOptions(t *testing.T, n *enginetest.Node, ih engine.InfoHash, want engine.TransferOptions) {
	t.Helper()
	got, err := n.TransferOptions(ih)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("engine options %+v (ratio %v), want %+v (ratio %v)", got, deref(got.RatioTarget), want, deref(want.RatioTarget))
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

// TestRealSettingsRoundTrip applies the Settings tab to a real engine and
// reads back what it saved.
func TestRealSettingsRoundTrip(t *testing.T) {
	n := enginetest.Start(t, enginetest.Config(t))
	u := newRealUI(t, n.Engine)
	st := u.settings
	st.up.SetText("300")
	st.altDown.SetText("50")
	st.ratio.SetText("2.5")
	st.seedTime.SetText("120")
	st.scheduled.SetChecked(true)
	st.days[time.Wednesday].SetChecked(true)
	st.from.SetText("08:00")
	st.to.SetText("17:30")
	st.onTarget.SetSelected(onTargetStop)
	test.Tap(st.apply)
	settle(u)
	got := n.Settings()
	want := got
	want.UploadLimit, want.AltDownloadLimit, want.RatioTarget = 300<<10, 50<<10, 2.5
	want.SeedTimeLimit, want.OnTarget = 2*time.Hour, "stop"
	want.AltSchedule = engine.Schedule{Enabled: true, From: 8 * 60, To: 17*60 + 30}
	want.AltSchedule.Days[time.Wednesday] = true
	if got != want || got.UploadSlots < 1 {
		t.Fatalf("engine settings %+v\n want %+v", got, want)
	}
	test.Tap(st.altNow)
	settle(u)
	if !n.Settings().AltEnabled {
		t.Error("the alternative-limits switch did not reach the engine")
	}
	u.pull()
	settle(u)
	if !u.status.alt.Visible() {
		t.Error("the status bar does not mark the alternative limits")
	}
}
