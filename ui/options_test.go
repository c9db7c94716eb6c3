package ui

import (
	"reflect"
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

func TestTransferOptions(t *testing.T) {
	u, f := newOptionsUI(t)
	u.settings.saved.RatioTarget = 1.5
	tt := u.transfers
	test.Tap(tt.optionsBtn)
	u.bg.Wait()
	d := tt.options
	if d == nil || d.ratio.PlaceHolder != "global: 1.5" || d.down.Text != "0" {
		t.Fatalf("options dialog %+v", d)
	}
	test.Type(d.ratio, "x")
	test.Tap(d.save)
	assertDialog(t, u, `Share ratio target: "x" is not a number`)

	d.down.SetText("500")
	d.up.SetText("")
	d.ratio.SetText("3")
	test.Tap(d.sequential)
	test.Tap(d.save)
	u.bg.Wait()
	three := 3.0
	want := engine.TransferOptions{DownloadLimit: 500 << 10, RatioTarget: &three, Sequential: true, SkipFiles: []int{1}}
	f.lock(func() {
		got := f.options[hash(1)]
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("SetTransferOptions calls %+v, want %+v (skipped files kept)", got, want)
		}
	})

	test.Tap(tt.optionsBtn)
	u.bg.Wait()
	d = tt.options
	if d.down.Text != "500" || d.up.Text != "0" || d.ratio.Text != "3" || !d.sequential.Checked {
		t.Errorf("reopened options show %q %q %q %v", d.down.Text, d.up.Text, d.ratio.Text, d.sequential.Checked)
	}
	d.ratio.SetText("") // back to the global target
	test.Tap(d.save)
	u.bg.Wait()
	f.lock(func() {
		if got := f.options[hash(1)]; len(got) != 2 || got[1].RatioTarget != nil {
			t.Errorf("clearing the target sent %+v", got)
		}
	})
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
	tt.opts[hash(1)] = engine.TransferOptions{UploadLimit: 100 << 10, Sequential: true}
	test.Tap(tt.filesBtn)
	u.bg.Wait()
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
	u.bg.Wait()
	want := engine.TransferOptions{UploadLimit: 100 << 10, Sequential: true, SkipFiles: []int{3}}
	f.lock(func() {
		if got := f.options[hash(1)]; len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("SetTransferOptions calls %+v, want %+v (limits kept)", got, want)
		}
	})
}

func TestFilesDialogRefusals(t *testing.T) {
	u, f := newOptionsUI(t)
	tt := u.transfers
	test.Tap(tt.filesBtn)
	u.bg.Wait()
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
	u.bg.Wait()
	assertDialog(t, u, "the file list arrives with the metadata")
	f.setFail(errBoom)
	tt.optionsSelected()
	u.bg.Wait()
	assertDialog(t, u, "Options of sintel.webm: disk on fire")
}
