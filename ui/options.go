package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// optionsDialog edits one transfer's limits, ratio target and order.
type optionsDialog struct {
	dlg               *dialog.CustomDialog
	down, up, ratio   *widget.Entry
	sequential        *widget.Check
	save, cancel      *widget.Button
	hash              engine.InfoHash
	skip              []int // the transfer's skipped files, kept as they are
	globalRatioTarget float64
}

// optionsSelected opens the options of the selected transfer, filled in
// from the engine's current options.
func (t *transfersTab) optionsSelected() {
	tr, ok := t.selected()
	if !ok {
		return
	}
	var o engine.TransferOptions
	t.u.act("read the options of "+displayName(tr), func() error {
		var err error
		o, err = t.u.eng.TransferOptions(tr.InfoHash)
		return err
	}, func() {
		t.options = t.newOptionsDialog(tr, o)
		t.u.keyed(t.options.dlg, t.options.save.OnTapped, nil)
		t.options.dlg.Show()
	})
}

// newOptionsDialog shows o, the transfer's current options; saving keeps
// its skipped files.
func (t *transfersTab) newOptionsDialog(tr engine.TransferSnapshot, o engine.TransferOptions) *optionsDialog {
	d := &optionsDialog{hash: tr.InfoHash, skip: slices.Clone(o.SkipFiles), globalRatioTarget: t.u.settings.saved.RatioTarget,
		down: widget.NewEntry(), up: widget.NewEntry(), ratio: widget.NewEntry(),
		sequential: widget.NewCheck("Download in order (for watching while it loads)", nil)}
	d.down.SetText(kibText(o.DownloadLimit))
	d.up.SetText(kibText(o.UploadLimit))
	if o.RatioTarget != nil {
		d.ratio.SetText(ratioTargetText(*o.RatioTarget))
	}
	d.ratio.SetPlaceHolder("global: " + targetText(d.globalRatioTarget))
	d.sequential.SetChecked(o.Sequential)
	form := widget.NewForm(
		hinted("Download limit", withUnit(d.down, "KiB/s"), "0 = unlimited"),
		hinted("Upload limit", withUnit(d.up, "KiB/s"), "0 = unlimited"),
		hinted("Share ratio target", d.ratio, "empty = the global target; 0 = seed forever"),
	)
	d.dlg = dialog.NewCustomWithoutButtons("Options of "+displayName(tr), container.NewVBox(form, d.sequential), t.u.win)
	d.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), d.dlg.Hide)
	d.save = widget.NewButtonWithIcon("Save", theme.ConfirmIcon(), func() { t.saveOptions(d) })
	d.save.Importance = widget.HighImportance
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.save})
	d.dlg.Resize(fyne.NewSize(560, 300))
	return d
}

// hinted is a form item with a hint under its field.
func hinted(label string, o fyne.CanvasObject, hint string) *widget.FormItem {
	it := widget.NewFormItem(label, o)
	it.HintText = hint
	return it
}

// targetText names a ratio target for a hint.
func targetText(v float64) string {
	if v <= 0 {
		return "none"
	}
	return ratioTargetText(v)
}

// read validates the dialog into options.
func (d *optionsDialog) read() (engine.TransferOptions, error) {
	var o engine.TransferOptions
	var errDown, errUp, errRatio error
	o.DownloadLimit, errDown = parseKiB("Download limit", d.down.Text)
	o.UploadLimit, errUp = parseKiB("Upload limit", d.up.Text)
	if strings.TrimSpace(d.ratio.Text) != "" {
		var v float64
		v, errRatio = parseNumber("Share ratio target", d.ratio.Text)
		o.RatioTarget = &v
	}
	o.Sequential = d.sequential.Checked
	o.SkipFiles = d.skip
	return o, errors.Join(errDown, errUp, errRatio)
}

func (t *transfersTab) saveOptions(d *optionsDialog) {
	o, err := d.read()
	if err != nil {
		dialog.ShowError(fmt.Errorf("options not saved:\n%w", err), t.u.win)
		return
	}
	d.dlg.Hide()
	t.options = nil
	t.setOptions(d.hash, o)
}

// setOptions hands a transfer's options to the engine.
func (t *transfersTab) setOptions(h engine.InfoHash, o engine.TransferOptions) {
	t.u.act("save the options", func() error { return t.u.eng.SetTransferOptions(h, o) }, nil)
}
