package ui

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	u.win.Resize(fyne.NewSize(1000, 650))
	t.Cleanup(func() {
		u.cancel()
		u.bg.Wait()
		u.search.streams.Wait()
		u.win.Close()
	})
	return u
}

// pullUntil takes snapshots the way the ticker does (pull: Snapshot, then
// Refresh through fyne.Do) until cond holds on the UI, or fails the test.
func pullUntil(t *testing.T, u *UI, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		u.pull()
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
	if got := u.ratio.big.Text; got != "—" {
		t.Fatalf("ratio before any traffic shows %q, want —", got)
	}

	row := searchUntilHit(t, u, sw, "glacier documentary", ih)
	test.Tap(rowButton(t, u.search.grid, row, searchColButton))
	u.bg.Wait()
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
	u.bg.Wait()
	if u.tabs.Selected() != u.libraryItem {
		t.Errorf("tab %q selected after a drop, want Library", u.tabs.Selected().Text)
	}
	pullUntil(t, u, "the dropped file in the Library", 30*time.Second, func() bool {
		rows := u.library.grid.rows
		return len(rows) == 1 && rows[0][libColName] == filepath.Base(dropped) &&
			rows[0][libColPath] == dropped && rows[0][libColButton] == labelCopyMagnet
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
		row := waitHit(batches, ih, sw.sharer.PeerAddr(), 3*time.Second)
		// Stop the stream before touching the table from this goroutine.
		u.search.cancel()
		u.search.streams.Wait()
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

// waitHit reads batches until one holds ih with source as a source.
func waitHit(batches <-chan []engine.Hit, ih engine.InfoHash, source string, wait time.Duration) int {
	timeout := time.After(wait)
	for {
		select {
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
	q := n.Snapshot().Ratio
	if got := u.ratio.big.Text; got != digits || got != formatRatio(q.Value()) {
		t.Errorf("ratio label %q, want %q (engine ratio %+v)", got, digits, q)
	}
	total := fmt.Sprintf("Uploaded %s · Downloaded %s", humanBytes(q.Uploaded), humanBytes(q.Downloaded))
	if got := u.ratio.allTime.Text; got != total {
		t.Errorf("all-time label %q, want %q", got, total)
	}
	session := fmt.Sprintf("This session: %s (uploaded %s, downloaded %s)", ratioText(q.SessionUploaded,
		q.SessionDownloaded, q.SessionValue()), humanBytes(q.SessionUploaded), humanBytes(q.SessionDownloaded))
	if got := u.ratio.session.Text; got != session {
		t.Errorf("session label %q, want %q", got, session)
	}
}

// checkRealFiles opens the Files and Options dialogs on the real
// transfer and saves through them.
func checkRealFiles(t *testing.T, u *UI, size int64) {
	t.Helper()
	tt := u.transfers
	test.Tap(tt.filesBtn)
	u.bg.Wait()
	if tt.files == nil {
		t.Fatal("no Files dialog for the real transfer")
	}
	want := fmt.Sprintf("1 of 1 file chosen: %s of %s", humanBytes(size), humanBytes(size))
	if got := tt.files.summary.Text; got != want {
		t.Errorf("files summary %q, want %q", got, want)
	}
	test.Tap(tt.files.save)
	u.bg.Wait()
	test.Tap(tt.optionsBtn)
	u.bg.Wait()
	tt.options.up.SetText("100")
	test.Tap(tt.options.save)
	u.bg.Wait()
	if top := u.win.Canvas().Overlays().Top(); top != nil {
		t.Fatalf("a dialog is open after saving options:\n%s", test.RenderObjectToMarkup(top))
	}
	if got := tt.opts[tt.list[0].InfoHash].UploadLimit; got != 100<<10 {
		t.Errorf("upload limit remembered as %d", got)
	}
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
	u.bg.Wait()
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
	u.bg.Wait()
	if !n.Settings().AltEnabled {
		t.Error("the alternative-limits switch did not reach the engine")
	}
	u.pull()
	if !u.status.alt.Visible() {
		t.Error("the status bar does not mark the alternative limits")
	}
}
