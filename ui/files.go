package ui

import (
	"errors"
	"fmt"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// errNoFileChosen is the Files dialog's refusal to skip every file.
var errNoFileChosen = errors.New("choose at least one file, or pause the transfer instead")

// filesDialog lets the user pick which files of a transfer to download.
type filesDialog struct {
	dlg                     *dialog.CustomDialog
	list                    *widget.List
	summary                 *widget.Label
	all, none, save, cancel *widget.Button

	hash   engine.InfoHash
	opts   engine.TransferOptions // the transfer's other options, kept on save
	files  []engine.FileSnapshot
	wanted []bool // the boxes, by row
}

// filesSelected lists the selected transfer's files in a dialog, with the
// transfer's current options, which saving keeps.
func (t *transfersTab) filesSelected() {
	tr, ok := t.selected()
	if !ok {
		return
	}
	var files []engine.FileSnapshot
	var opts engine.TransferOptions
	t.u.act("list the files of "+displayName(tr), func() error {
		var err error
		if files, err = t.u.eng.Files(tr.InfoHash); err != nil {
			return err
		}
		opts, err = t.u.eng.TransferOptions(tr.InfoHash)
		return err
	}, func() {
		if len(files) == 0 {
			t.u.showError(sayf("the file list of %s arrives with its metadata; try again once it is downloading", displayName(tr)))
			return
		}
		t.files = t.newFilesDialog(tr, files, opts)
		t.u.keyed(t.files.dlg, t.files.save.OnTapped, nil)
		t.files.dlg.Show()
	})
}

func (t *transfersTab) newFilesDialog(tr engine.TransferSnapshot, files []engine.FileSnapshot, opts engine.TransferOptions) *filesDialog {
	d := &filesDialog{hash: tr.InfoHash, opts: opts, files: files, wanted: make([]bool, len(files)), summary: widget.NewLabel("")}
	for i, f := range files {
		d.wanted[i] = f.Wanted
	}
	d.list = widget.NewList(func() int { return len(d.files) }, newFileRow, d.updateRow)
	d.all = widget.NewButton("Select all", func() { d.setAll(true) })
	d.none = widget.NewButton("Select none", func() { d.setAll(false) })
	top := container.NewBorder(nil, nil, nil, container.NewHBox(d.all, d.none), d.summary)
	content := container.NewBorder(top, nil, nil, nil, d.list)
	d.dlg = dialog.NewCustomWithoutButtons("Files of "+displayName(tr), content, t.u.win)
	d.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), d.dlg.Hide)
	d.save = widget.NewButtonWithIcon("Save", theme.ConfirmIcon(), func() { t.saveFiles(d) })
	d.save.Importance = widget.HighImportance
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.save})
	d.dlg.Resize(fyne.NewSize(760, 480))
	d.summarise()
	return d
}

// newFileRow is one list row: a box, the path, the size and how much is
// already verified.
func newFileRow() fyne.CanvasObject {
	path := widget.NewLabel("")
	path.Truncation = fyne.TextTruncateEllipsis
	size := widget.NewLabel("")
	size.Alignment = fyne.TextAlignTrailing
	have := widget.NewLabel("")
	have.Alignment = fyne.TextAlignTrailing
	// Fixed-width cells: list rows are laid out once, before their text is set.
	h := size.MinSize().Height
	right := container.NewHBox(container.NewGridWrap(fyne.NewSize(90, h), size),
		container.NewGridWrap(fyne.NewSize(70, h), have))
	return container.NewBorder(nil, nil, widget.NewCheck("", nil), right, path)
}

func (d *filesDialog) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id < 0 || id >= len(d.files) {
		return
	}
	f := d.files[id]
	c := o.(*fyne.Container)
	path := c.Objects[0].(*widget.Label)
	box := c.Objects[1].(*widget.Check)
	right := c.Objects[2].(*fyne.Container)
	setText(path, f.Path)
	cell := func(i int) *widget.Label { return right.Objects[i].(*fyne.Container).Objects[0].(*widget.Label) }
	setText(cell(0), humanBytes(f.Size))
	setText(cell(1), fileHave(f))
	box.OnChanged = nil // setting the box must not count as a click
	box.SetChecked(d.wanted[id])
	box.OnChanged = func(on bool) {
		d.wanted[id] = on
		d.summarise()
	}
}

// fileHave is the verified share of a file, whole tenths of a percent.
func fileHave(f engine.FileSnapshot) string {
	if f.Size <= 0 {
		return "100%"
	}
	p := math.Floor(float64(f.Have)/float64(f.Size)*1000) / 10
	return fmt.Sprintf("%.1f%%", p)
}

func (d *filesDialog) setAll(on bool) {
	for i := range d.wanted {
		d.wanted[i] = on
	}
	d.list.Refresh()
	d.summarise()
}

// summarise says how much will be downloaded.
func (d *filesDialog) summarise() {
	n, bytes, total := 0, int64(0), int64(0)
	for i, f := range d.files {
		total += f.Size
		if d.wanted[i] {
			n++
			bytes += f.Size
		}
	}
	setText(d.summary, fmt.Sprintf("%d of %s chosen: %s of %s", n, plural(len(d.files), "file"),
		humanBytes(bytes), humanBytes(total)))
}

// skip lists the indices of the files not chosen.
func (d *filesDialog) skip() []int {
	var out []int
	for i, f := range d.files {
		if !d.wanted[i] {
			out = append(out, f.Index)
		}
	}
	return out
}

func (t *transfersTab) saveFiles(d *filesDialog) {
	skip := d.skip()
	if len(skip) == len(d.files) {
		dialog.ShowError(fmt.Errorf("files not saved: %w", errNoFileChosen), t.u.win)
		return
	}
	d.dlg.Hide()
	t.files = nil
	o := d.opts
	o.SkipFiles = skip
	t.setOptions(d.hash, o)
}
