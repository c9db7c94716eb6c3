package ui

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// threeFiles is a folder torrent whose second file is skipped.
func threeFiles() []engine.FileSnapshot {
	return []engine.FileSnapshot{
		{Index: 0, Path: "album/01 intro.flac", Size: 30 << 20, Have: 30 << 20, Wanted: true},
		{Index: 1, Path: "album/02 long track.flac", Size: 60 << 20, Wanted: false},
		{Index: 3, Path: "album/cover.jpg", Size: 2 << 20, Have: 1 << 20, Wanted: true}, // index 2 is padding
	}
}

func newOptionsUI(t *testing.T) (*UI, *fakeEngine) {
	t.Helper()
	u, f := newTestUI(t)
	u.tabs.Select(u.transferItem)
	u.Refresh(twoTransfers(t.TempDir()))
	f.lock(func() { f.files[hash(1)] = threeFiles() })
	u.transfers.grid.selectRow(0)
	return u, f
}

// openOptions taps Options… and returns the dialog it opened.
func openOptions(t *testing.T, u *UI) *optionsDialog {
	t.Helper()
	u.transfers.options = nil
	test.Tap(u.transfers.optionsBtn)
	settle(u)
	if u.transfers.options == nil {
		t.Fatal("no options dialog")
	}
	return u.transfers.options
}

// optionFields is what an options dialog shows, in one comparable string.
func optionFields(d *optionsDialog) string {
	return fmt.Sprintf("down=%s up=%s ratio=%s sequential=%v", d.down.Text, d.up.Text, d.ratio.Text, d.sequential.Checked)
}

func TestTransferOptions(t *testing.T) {
	u, f := newOptionsUI(t)
	u.settings.saved.RatioTarget = 1.5
	half := 0.5
	f.lock(func() {
		f.current[hash(1)] = engine.TransferOptions{UploadLimit: 64 << 10, RatioTarget: &half, Sequential: true, SkipFiles: []int{1}}
	})
	d := openOptions(t, u)
	if got, want := optionFields(d), "down=0 up=64 ratio=0.5 sequential=true"; got != want {
		t.Errorf("options dialog shows %s, want the engine's %s", got, want)
	}
	if d.ratio.PlaceHolder != "global: 1.5" {
		t.Errorf("ratio placeholder %q", d.ratio.PlaceHolder)
	}
	if m := test.RenderObjectToMarkup(u.win.Canvas().Overlays().Top()); strings.Contains(m, "not shown here") {
		t.Errorf("the dialog still says options cannot be read:\n%s", m)
	}
	d.ratio.SetText("0.5x")
	test.Tap(d.save)
	assertDialog(t, u, `Share ratio target: "0.5x" is not a number`)

	d.down.SetText("500")
	d.up.SetText("")
	d.ratio.SetText("3")
	test.Tap(d.sequential)
	test.Tap(d.save)
	settle(u)
	three := 3.0
	want := engine.TransferOptions{DownloadLimit: 500 << 10, RatioTarget: &three, SkipFiles: []int{1}}
	f.lock(func() {
		got := f.options[hash(1)]
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("SetTransferOptions calls %+v, want %+v (skipped files kept)", got, want)
		}
	})

	d = openOptions(t, u)
	if got, want := optionFields(d), "down=500 up=0 ratio=3 sequential=false"; got != want {
		t.Errorf("reopened options show %s, want %s", got, want)
	}
	d.ratio.SetText("") // back to the global target
	test.Tap(d.save)
	settle(u)
	f.lock(func() {
		if got := f.options[hash(1)]; len(got) != 2 || got[1].RatioTarget != nil || !reflect.DeepEqual(got[1].SkipFiles, []int{1}) {
			t.Errorf("clearing the target sent %+v", got)
		}
	})
	if got, want := optionFields(openOptions(t, u)), "down=500 up=0 ratio= sequential=false"; got != want {
		t.Errorf("options after clearing the target show %s, want %s", got, want)
	}
}

// fileBoxes finds the list's check boxes by row.
func fileBoxes(d *filesDialog) []*widget.Check {
	var out []*widget.Check
	for _, o := range walk(nil, d.list) {
		if c, ok := o.(*widget.Check); ok {
			out = append(out, c)
		}
	}
	return out
}

func TestFilesDialogSkipsFiles(t *testing.T) {
	u, f := newOptionsUI(t)
	tt := u.transfers
	f.lock(func() {
		f.current[hash(1)] = engine.TransferOptions{UploadLimit: 100 << 10, Sequential: true, SkipFiles: []int{1}}
	})
	test.Tap(tt.filesBtn)
	settle(u)
	d := tt.files
	if d == nil {
		t.Fatal("no files dialog")
	}
	if got := d.summary.Text; got != "2 of 3 files chosen: 32.0 MiB of 92.0 MiB" {
		t.Errorf("summary %q", got)
	}
	boxes := fileBoxes(d)
	if len(boxes) != 3 || !boxes[0].Checked || boxes[1].Checked || !boxes[2].Checked {
		t.Fatalf("%d boxes, want 3 with the second unticked", len(boxes))
	}
	test.Tap(boxes[1]) // download the long track after all
	test.Tap(boxes[2]) // but not the cover
	if got := d.summary.Text; got != "2 of 3 files chosen: 90.0 MiB of 92.0 MiB" {
		t.Errorf("summary after clicks %q", got)
	}
	test.Tap(d.save)
	settle(u)
	want := engine.TransferOptions{UploadLimit: 100 << 10, Sequential: true, SkipFiles: []int{3}}
	f.lock(func() {
		if got := f.options[hash(1)]; len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("SetTransferOptions calls %+v, want %+v (limits kept)", got, want)
		}
	})
	// The Options dialog now starts from what Files saved, and keeps it.
	d2 := openOptions(t, u)
	if got, want := optionFields(d2), "down=0 up=100 ratio= sequential=true"; got != want {
		t.Errorf("options after saving files show %s, want %s", got, want)
	}
	d2.down.SetText("20")
	test.Tap(d2.save)
	settle(u)
	want.DownloadLimit = 20 << 10
	f.lock(func() {
		if got := f.options[hash(1)]; len(got) != 2 || !reflect.DeepEqual(got[1], want) {
			t.Errorf("options saved after files %+v, want %+v (skipped files kept)", got, want)
		}
	})
}

func TestFilesDialogRefusals(t *testing.T) {
	u, f := newOptionsUI(t)
	tt := u.transfers
	test.Tap(tt.filesBtn)
	settle(u)
	d := tt.files
	test.Tap(d.none)
	if got := d.summary.Text; got != "0 of 3 files chosen: 0 B of 92.0 MiB" {
		t.Errorf("summary %q", got)
	}
	test.Tap(d.save)
	assertDialog(t, u, "choose at least one file")
	test.Tap(d.all)
	if boxes := fileBoxes(d); !boxes[0].Checked || !boxes[1].Checked || !boxes[2].Checked {
		t.Error("Select all left a box unticked")
	}
	test.Tap(d.cancel)
	f.lock(func() {
		if len(f.options) != 0 {
			t.Errorf("options saved: %+v", f.options)
		}
	})

	u.transfers.grid.selectRow(1) // the engine lists no files for sintel
	tt.filesSelected()
	settle(u)
	assertDialog(t, u, "arrives with its metadata")
	f.setFail(errBoom)
	tt.optionsSelected()
	settle(u)
	assertDialog(t, u, "Could not read the options of sintel.webm")
}
