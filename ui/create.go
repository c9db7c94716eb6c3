package ui

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/words"
)

// Choices of the New torrent dialog.
var (
	pieceChoices  = []string{"Automatic", "16 KiB", "32 KiB", "64 KiB", "128 KiB", "256 KiB", "512 KiB", "1 MiB", "2 MiB", "4 MiB", "8 MiB", "16 MiB"}
	formatChoices = []string{"Hybrid v1 + v2 (recommended)", "v1 only (for old clients)", "v2 only"}
)

// createDialog is "New torrent…": what to make a torrent of, its
// trackers, piece size, private flag and comment, whether to seed it, and
// the hashing progress.
type createDialog struct {
	u        *UI
	path     *widget.Entry
	trackers *widget.Entry
	piece    *widget.Select
	format   *widget.Select
	private  *widget.Check
	comment  *widget.Entry
	seed     *widget.Check
	bar      *widget.ProgressBar
	status   *widget.Label
	create   *widget.Button
	closeBtn *widget.Button
	dlg      *dialog.CustomDialog

	cancel  context.CancelFunc // ends the hashing; nil when none runs
	created engine.Created     // the last torrent made
	running bool
}

// newTorrent opens the New torrent dialog.
func (u *UI) newTorrent() {
	d := &createDialog{u: u}
	d.path = widget.NewEntry()
	d.path.SetPlaceHolder("A file or a folder")
	d.path.OnChanged = func(string) { d.updateButtons() }
	pickFile := widget.NewButtonWithIcon("File…", theme.FileIcon(), d.pickFile)
	pickFolder := widget.NewButtonWithIcon("Folder…", theme.FolderOpenIcon(), d.pickFolder)
	d.trackers = widget.NewMultiLineEntry()
	d.trackers.SetPlaceHolder("One tracker address a line (optional)")
	d.trackers.SetMinRowsVisible(3)
	d.piece = widget.NewSelect(pieceChoices, nil)
	d.piece.SetSelectedIndex(0)
	d.format = widget.NewSelect(formatChoices, nil)
	d.format.SetSelectedIndex(0)
	d.private = widget.NewCheck("Private (peers from its trackers only: no DHT, no peer exchange)", nil)
	d.comment = widget.NewEntry()
	d.seed = widget.NewCheck("Start seeding it now", nil)
	d.seed.SetChecked(true)
	d.bar = widget.NewProgressBar()
	d.bar.Hide()
	d.status = widget.NewLabel("")
	d.status.Wrapping = fyne.TextWrapWord
	d.create = widget.NewButtonWithIcon("Create and save…", theme.DocumentSaveIcon(), d.askSave)
	d.create.Importance = widget.HighImportance
	d.closeBtn = widget.NewButton("Close", d.close)
	form := widget.NewForm(
		widget.NewFormItem("Make it of", container.NewBorder(nil, nil, nil, container.NewHBox(pickFile, pickFolder), d.path)),
		widget.NewFormItem("Trackers", d.trackers),
		widget.NewFormItem("Piece size", d.piece),
		widget.NewFormItem("Format", d.format),
		widget.NewFormItem("Comment", d.comment),
		widget.NewFormItem("", d.private),
		widget.NewFormItem("", d.seed))
	body := container.NewVBox(form, d.bar, d.status)
	d.dlg = dialog.NewCustomWithoutButtons("New torrent", body, u.win)
	d.dlg.SetButtons([]fyne.CanvasObject{d.closeBtn, d.create})
	d.dlg.Resize(fyne.NewSize(640, 0))
	d.updateButtons()
	u.creating = d
	d.dlg.Show()
}

func (d *createDialog) updateButtons() {
	setEnabled(d.create, !d.running && strings.TrimSpace(d.path.Text) != "")
	if d.running {
		d.closeBtn.SetText("Cancel")
	} else {
		d.closeBtn.SetText("Close")
	}
}

func (d *createDialog) pickFile() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err == nil && r != nil {
			r.Close()
			d.path.SetText(r.URI().Path())
		}
	}, d.u.win)
}

func (d *createDialog) pickFolder() {
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err == nil && dir != nil {
			d.path.SetText(dir.Path())
		}
	}, d.u.win)
}

// askSave checks the form, then asks where to save the .torrent file.
func (d *createDialog) askSave() {
	if _, err := d.request(""); err != nil {
		d.status.SetText(err.Error())
		return
	}
	src := filepath.Clean(strings.TrimSpace(d.path.Text))
	save := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		w.Close() // the engine writes the file itself, through a temporary one
		d.start(w.URI().Path())
	}, d.u.win)
	save.SetFileName(filepath.Base(src) + ".torrent")
	if dir, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(src))); err == nil {
		save.SetLocation(dir)
	}
	save.Show()
}

// request reads the form into a request saving to save.
func (d *createDialog) request(save string) (engine.CreateRequest, error) {
	req := engine.CreateRequest{Path: strings.TrimSpace(d.path.Text), Save: save, Private: d.private.Checked,
		Comment: strings.TrimSpace(d.comment.Text), Seed: d.seed.Checked,
		Format: engine.TorrentFormat(max(0, d.format.SelectedIndex()))}
	if req.Path == "" {
		return req, sayf("Choose a file or a folder to make the torrent of.")
	}
	if i := d.piece.SelectedIndex(); i > 0 {
		req.PieceLength = 16 << 10 << (i - 1)
	}
	for n, line := range strings.Split(d.trackers.Text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if u, err := url.Parse(line); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "udp") || u.Host == "" {
			return req, sayf("Tracker line %d, %q, is not a tracker address: it should start with http://, https:// or udp://.", n+1, words.Clip(line, 60))
		}
		req.Trackers = append(req.Trackers, line)
	}
	return req, nil
}

// start hashes and saves the torrent off the Fyne goroutine, showing the
// progress; Cancel stops it.
func (d *createDialog) start(save string) {
	req, err := d.request(save)
	if err != nil {
		d.status.SetText(err.Error())
		return
	}
	ctx, cancel := context.WithCancel(d.u.ctx)
	d.cancel, d.running = cancel, true
	d.bar.SetValue(0)
	d.bar.Show()
	d.status.SetText(fmt.Sprintf("Hashing %s…", filepath.Base(req.Path)))
	d.updateButtons()
	d.u.bg.Add(1)
	go func() {
		defer d.u.bg.Done()
		defer cancel()
		c, err := d.u.eng.CreateTorrent(ctx, req, func(done, total int64) {
			if total > 0 {
				v := float64(done) / float64(total)
				d.u.do(func() { d.bar.SetValue(v) })
			}
		})
		// Whether it was cancelled is read here: the deferred cancel runs
		// before the Fyne goroutine gets to the result.
		cancelled := ctx.Err() != nil
		d.u.do(func() { d.finished(req, c, err, cancelled) })
	}()
}

// finished shows how the hashing ended.
func (d *createDialog) finished(req engine.CreateRequest, c engine.Created, err error, cancelled bool) {
	d.cancel, d.running = nil, false
	d.updateButtons()
	switch {
	case cancelled:
		d.bar.Hide()
		d.status.SetText("Cancelled; nothing was saved.")
	case err != nil:
		d.bar.Hide()
		x := explain(&opError{op: "make the torrent", err: err}, engine.NetStatus{})
		text := x.title + ". " + x.text
		if x.details != "" {
			text += " (" + words.Clip(x.details, 200) + ")"
		}
		d.status.SetText(text)
	default:
		d.created = c
		d.bar.SetValue(1)
		text := fmt.Sprintf("Saved %s (infohash %s).", c.Torrent, c.InfoHash)
		if req.Seed {
			text += " Shoal seeds it now: see Transfers."
		}
		d.status.SetText(text)
	}
}

// close cancels a running hashing, or closes the dialog.
func (d *createDialog) close() {
	if d.cancel != nil {
		d.cancel()
		return
	}
	d.dlg.Hide()
	if d.u.creating == d {
		d.u.creating = nil
	}
}
