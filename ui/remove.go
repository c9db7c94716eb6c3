package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// removeDialog asks before a transfer is removed, and whether its data
// goes too.
type removeDialog struct {
	dlg        *dialog.CustomDialog
	deleteData *widget.Check
	confirm    *widget.Button
	cancel     *widget.Button
}

// removeSelected asks to confirm removing the selected transfer.
func (t *transfersTab) removeSelected() {
	if tr, ok := t.selected(); ok {
		t.askRemove(tr, false)
	}
}

// askRemove asks to confirm removing tr, with "also delete the data"
// ticked when withData (the right-click menu's "Remove with data…").
func (t *transfersTab) askRemove(tr engine.TransferSnapshot, withData bool) {
	t.removing = t.newRemoveDialog(tr)
	t.removing.deleteData.SetChecked(withData)
	t.u.keyed(t.removing.dlg, t.removing.confirm.OnTapped, nil)
	t.removing.dlg.Show()
}

func (t *transfersTab) newRemoveDialog(tr engine.TransferSnapshot) *removeDialog {
	name := displayName(tr)
	r := &removeDialog{deleteData: widget.NewCheck("Also delete the downloaded data", nil)}
	msg := widget.NewLabel(fmt.Sprintf("Remove %q from the transfers?", name))
	msg.Wrapping = fyne.TextWrapWord
	where := widget.NewLabel("Data: " + tr.Dir)
	where.Truncation = fyne.TextTruncateEllipsis
	content := container.NewVBox(msg, where, r.deleteData)
	r.dlg = dialog.NewCustomWithoutButtons("Remove transfer", content, t.u.win)
	r.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), r.dlg.Hide)
	r.confirm = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() {
		r.dlg.Hide()
		t.removing = nil
		del := r.deleteData.Checked
		t.u.act("remove "+name, func() error { return t.u.eng.Remove(tr.InfoHash, del) }, nil)
	})
	r.confirm.Importance = widget.DangerImportance
	r.dlg.SetButtons([]fyne.CanvasObject{r.cancel, r.confirm})
	r.dlg.Resize(fyne.NewSize(440, 200))
	return r
}
