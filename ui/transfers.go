package ui

import (
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/words"
)

// Transfers table columns.
const (
	trColName = iota
	trColProgress
	trColSize
	trColState
	trColDown
	trColUp
	trColETA
	trColSeeds
	trColPeers
	trColRatio
	trCols
)

// transferKey holds everything a transfer row shows: equal keys mean equal
// cells, so unchanged transfers cost one comparison per tick.
type transferKey struct {
	name                   string
	size, have             int64
	state                  engine.TransferState
	queued                 int // place in the queue
	err, moveErr           string
	down, up               float64
	eta                    time.Duration
	peers, seeds           int
	swarmPeers, swarmSeeds int
	uploaded, downloaded   int64
}

func keyOf(t engine.TransferSnapshot) transferKey {
	return transferKey{
		name: t.Name, size: t.Size, have: t.Have, state: t.State, queued: t.Queued, err: t.Err, moveErr: t.MoveErr,
		down: t.DownRate, up: t.UpRate, eta: t.ETA, peers: t.Peers, seeds: t.Seeds,
		swarmPeers: t.SwarmPeers, swarmSeeds: t.SwarmSeeds,
		uploaded: t.Uploaded, downloaded: t.Downloaded,
	}
}

// transferRow is one transfer's cached cells.
type transferRow struct {
	hash     engine.InfoHash
	key      transferKey
	cells    []string
	progress float64
}

func newTransferRow(t engine.TransferSnapshot) *transferRow {
	name := displayName(t)
	size := "?"
	if t.Size > 0 {
		size = humanBytes(t.Size)
	}
	cells := make([]string, trCols)
	cells[trColName] = name
	cells[trColSize] = size
	cells[trColState] = stateText(t)
	cells[trColDown] = humanRate(t.DownRate)
	cells[trColUp] = humanRate(t.UpRate)
	cells[trColETA] = transferETA(t)
	cells[trColSeeds] = swarmText(t.Seeds, t.SwarmSeeds)
	cells[trColPeers] = swarmText(t.Peers, t.SwarmPeers)
	cells[trColRatio] = formatRatio(engine.Ratio{Uploaded: t.Uploaded, Downloaded: t.Downloaded}.Value())
	// Whole tenths of a percent: finer steps would redraw on every block.
	p := math.Floor(t.Progress()*1000) / 1000
	return &transferRow{hash: t.InfoHash, key: keyOf(t), cells: cells, progress: p}
}

// transfersHint is what the Transfers tab says while it is empty.
const transfersHint = "No transfers yet.\n\nFind something on the Search tab, paste a magnet link with Ctrl+V, " +
	"open a .torrent file with Ctrl+O, or drop one on the window."

// transfersTab is the Transfers tab: a table of transfers and actions on
// the selected one.
type transfersTab struct {
	u       *UI
	grid    *gridTable
	peers   *peersPane
	content fyne.CanvasObject

	pause, resume, remove, open, optionsBtn, filesBtn *tipButton
	queueBtn                                          *tipButton
	queueMenu                                         *widget.PopUpMenu // the Queue button's menu, once shown
	hint                                              *widget.Label     // shown while there are no transfers

	raw     []engine.TransferSnapshot // the last snapshot's transfers, the engine's order
	list    []engine.TransferSnapshot // the same, row order (sorted by the chosen column)
	rows    []*transferRow            // cached rows, same order
	present map[engine.InfoHash]bool
	version int // bumps whenever the set of transfers changes

	removing *removeDialog      // the open remove confirmation; tests drive it
	moving   *dialog.FileDialog // the open "Move to…" folder picker, if any
	options  *optionsDialog
	files    *filesDialog
}

func newTransfersTab(u *UI) *transfersTab {
	t := &transfersTab{u: u, present: map[engine.InfoHash]bool{}}
	t.grid = newGridTable([]column{
		// The name keeps at least its room, 35 % of an 800 px window
		// (TestNameRoomAt800): in a narrower window Ratio, then Seeds,
		// then Peers give way, and the line above the peers of the
		// selected transfer spells out the name and what they would show.
		// The columns shown fit an 800 px window (TestColumnsFitAt800).
		{title: "Name", width: 190, min: 96, room: 280, kind: cellText, stretch: true, sortable: true},
		{title: "Done", width: 62, kind: cellProgress, sortable: true},
		{title: "Size", width: 70, kind: cellNumber, sortable: true},
		{title: "State", width: 96, kind: cellText, sortable: true},
		{title: "Down", width: 78, kind: cellNumber, sortable: true},
		{title: "Up", width: 78, kind: cellNumber, sortable: true},
		{title: "ETA", width: 64, kind: cellNumber, sortable: true},
		{title: "Seeds", width: 64, kind: cellNumber, sortable: true, hide: 2},
		{title: "Peers", width: 64, kind: cellNumber, sortable: true, hide: 3},
		{title: "Ratio", width: 61, kind: cellNumber, sortable: true, hide: 1},
	})
	t.grid.onSort = func() { t.apply(t.raw) }
	t.grid.onShown = t.showPeers
	t.grid.menuFor = t.rowMenu
	t.grid.onSelect = func(int) {
		t.updateButtons()
		t.showPeers()
	}
	t.grid.onDouble = func(int) { t.openSelected() }
	tips := u.tips
	t.pause = newTipButton(tips, "Pause", theme.MediaPauseIcon(), t.pauseSelected, "Pause the selected transfer (Space)")
	t.resume = newTipButton(tips, "Resume", theme.MediaPlayIcon(), t.resumeSelected, "Resume the selected transfer (Space)")
	t.remove = newTipButton(tips, "Remove", theme.DeleteIcon(), t.removeSelected,
		"Remove the selected transfer, and its data if you choose (Delete)")
	t.open = newTipButton(tips, "Open folder", theme.FolderOpenIcon(), t.openSelected,
		"Open the folder of the selected transfer in the file manager (double-click a row)")
	t.optionsBtn = newTipButton(tips, "Options…", theme.SettingsIcon(), t.optionsSelected,
		"Speed limits, share ratio target and download order of the selected transfer")
	t.filesBtn = newTipButton(tips, "Files…", theme.ListIcon(), t.filesSelected, "Choose which files of the selected transfer to download")
	t.queueBtn = t.newQueueButton()
	addMagnet := newTipButton(tips, "Add magnet…", theme.ContentAddIcon(), t.askMagnet,
		"Download from a magnet link (or press Ctrl+V with one on the clipboard)")
	addTorrent := newTipButton(tips, "Open .torrent…", theme.FileIcon(), t.askTorrent, "Download from a .torrent file (Ctrl+O, or drop it on the window)")
	bar := newFoldBar(u.win, addMagnet, addTorrent, widget.NewSeparator(), t.pause, t.resume, t.remove,
		t.queueBtn, widget.NewSeparator(), t.optionsBtn, t.filesBtn, t.open)
	t.peers = newPeersPane(u.tips)
	t.hint = widget.NewLabel(transfersHint)
	t.hint.Wrapping, t.hint.Alignment = fyne.TextWrapWord, fyne.TextAlignCenter
	t.hint.Importance = widget.LowImportance
	split := container.NewVSplit(container.NewStack(t.grid.content, container.NewPadded(container.NewVBox(layout.NewSpacer(), t.hint, layout.NewSpacer()))),
		t.peers.content)
	split.Offset = 0.52 // five transfers, and three peers with the line that spells one out
	t.content = container.NewBorder(bar.content, nil, nil, nil, split)
	t.updateButtons()
	return t
}

// has reports whether the last snapshot had a transfer for h.
func (t *transfersTab) has(h engine.InfoHash) bool { return t.present[h] }

// apply shows the snapshot's transfers, doing nothing when every row is as
// before.
func (t *transfersTab) apply(ts []engine.TransferSnapshot) {
	t.raw = ts
	ts = t.sorted(ts)
	t.list = ts
	if t.unchanged(ts) {
		t.showPeers() // peer lists change without the row changing
		return
	}
	cache := make(map[engine.InfoHash]*transferRow, len(t.rows))
	for _, r := range t.rows {
		cache[r.hash] = r
	}
	t.rows = make([]*transferRow, len(ts))
	keys := make([]string, len(ts))
	cells := make([][]string, len(ts))
	prog := make([]float64, len(ts))
	for i, tr := range ts {
		r := cache[tr.InfoHash]
		if r == nil || r.key != keyOf(tr) {
			r = newTransferRow(tr)
		}
		t.rows[i], keys[i], cells[i], prog[i] = r, r.hash.String(), r.cells, r.progress
	}
	t.trackSet(ts)
	setVisible(t.hint, len(ts) == 0)
	t.grid.update(keys, cells, prog)
	t.updateButtons()
	t.showPeers()
}

// sorted orders ts by the sort column, or returns it as is.
func (t *transfersTab) sorted(ts []engine.TransferSnapshot) []engine.TransferSnapshot {
	return sortedRows(t.grid, ts, compareTransfers)
}

// showPeers lists the selected transfer's peers, with what the columns a
// narrow window hides would show for it.
func (t *transfersTab) showPeers() {
	tr, ok := t.selected()
	t.peers.show(tr, ok, t.hiddenText())
}

// hiddenText spells out the selected row's cells in the hidden columns:
// "Seeds 3 (30), Ratio 1.20" ("" when none is hidden or nothing is
// selected).
func (t *transfersTab) hiddenText() string {
	row := t.grid.selectedRow()
	if row < 0 || row >= len(t.grid.rows) {
		return ""
	}
	var parts []string
	for _, col := range t.grid.hiddenCols() {
		if v := t.grid.rows[row][col]; v != "" {
			parts = append(parts, t.grid.cols[col].title+" "+v)
		}
	}
	return strings.Join(parts, ", ")
}

func (t *transfersTab) unchanged(ts []engine.TransferSnapshot) bool {
	if len(ts) != len(t.rows) {
		return false
	}
	for i := range ts {
		if r := t.rows[i]; r.hash != ts[i].InfoHash || r.key != keyOf(ts[i]) {
			return false
		}
	}
	return true
}

// trackSet bumps version when transfers appeared or disappeared.
func (t *transfersTab) trackSet(ts []engine.TransferSnapshot) {
	same := len(ts) == len(t.present)
	for i := 0; same && i < len(ts); i++ {
		same = t.present[ts[i].InfoHash]
	}
	if same {
		return
	}
	t.present = make(map[engine.InfoHash]bool, len(ts))
	for _, tr := range ts {
		t.present[tr.InfoHash] = true
	}
	t.version++
}

// selected returns the selected transfer as of the last snapshot.
func (t *transfersTab) selected() (engine.TransferSnapshot, bool) {
	row := t.grid.selectedRow()
	if row < 0 || row >= len(t.list) {
		return engine.TransferSnapshot{}, false
	}
	return t.list[row], true
}

func (t *transfersTab) updateButtons() {
	tr, ok := t.selected()
	paused := stopped(tr.State)
	setEnabled(t.pause, ok && !paused)
	setEnabled(t.resume, ok && paused)
	setEnabled(t.remove, ok)
	setEnabled(t.open, ok && tr.Dir != "")
	setEnabled(t.optionsBtn, ok)
	setEnabled(t.filesBtn, ok && tr.Size > 0)
	setEnabled(t.queueBtn, ok)
}

func (t *transfersTab) pauseSelected() {
	if tr, ok := t.selected(); ok {
		t.pauseTransfer(tr)
	}
}

func (t *transfersTab) pauseTransfer(tr engine.TransferSnapshot) {
	t.u.act("pause "+tr.Name, func() error { return t.u.eng.Pause(tr.InfoHash) }, nil)
}

func (t *transfersTab) resumeSelected() {
	if tr, ok := t.selected(); ok {
		t.resumeTransfer(tr)
	}
}

func (t *transfersTab) resumeTransfer(tr engine.TransferSnapshot) {
	t.u.act("resume "+tr.Name, func() error { return t.u.eng.Resume(tr.InfoHash) }, nil)
}

// openSelected opens the selected transfer's folder in the file manager.
func (t *transfersTab) openSelected() {
	if tr, ok := t.selected(); ok {
		t.openTransferFolder(tr)
	}
}

func (t *transfersTab) openTransferFolder(tr engine.TransferSnapshot) {
	if err := t.openFolder(tr.Dir); err != nil {
		t.u.showError(&opError{op: "open the folder of " + tr.Name, err: err})
	}
}

// askMove asks for a folder to move a finished download to, starting in
// its folder, and has the engine move it there.
func (t *transfersTab) askMove(tr engine.TransferSnapshot) {
	d := dialog.NewFolderOpen(func(uri fyne.ListableURI, err error) {
		t.moving = nil
		if err != nil {
			t.u.showError(&opError{op: "choose where to move " + tr.Name, err: err})
			return
		}
		if uri != nil {
			t.move(tr, uri.Path())
		}
	}, t.u.win)
	if start, err := storageListable(tr.Dir); err == nil {
		d.SetLocation(start)
	}
	t.moving = d
	d.Show()
}

// move has the engine move a finished download's files into dir.
func (t *transfersTab) move(tr engine.TransferSnapshot, dir string) {
	t.u.act("move "+tr.Name, func() error { return t.u.eng.Move(tr.InfoHash, dir) }, nil)
}

func (t *transfersTab) openFolder(dir string) error {
	if dir == "" {
		return sayf("this transfer has no folder yet: it gets one when its metadata arrives")
	}
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	return t.u.openURL(&url.URL{Scheme: "file", Path: dir})
}

// askMagnet asks for a magnet link or infohash and downloads it.
func (t *transfersTab) askMagnet() {
	var d *dialog.FormDialog
	e := newDialogEntry(func() { d.Submit() }, func() { d.Hide() })
	e.SetPlaceHolder("magnet:?xt=urn:btih:… or 40 hex digits")
	items := []*widget.FormItem{widget.NewFormItem("Link", e)}
	d = dialog.NewForm("Add magnet link", "Add", "Cancel", items, func(ok bool) {
		if src := strings.TrimSpace(e.Text); ok && src != "" {
			t.add(engine.DownloadRequest{Source: src})
		}
	}, t.u.win)
	d.Resize(fyne.NewSize(560, 160))
	t.u.keyed(d, d.Submit, d.Hide)
	d.Show()
	t.u.win.Canvas().Focus(e)
}

// askTorrent picks a .torrent file and downloads it.
func (t *transfersTab) askTorrent() {
	d := t.u.fileOpen("open the .torrent file", func(uri fyne.URI) {
		t.add(engine.DownloadRequest{Source: uri.Path()})
	})
	d.SetFilter(storage.NewExtensionFileFilter([]string{".torrent"}))
	t.u.keyed(d, nil, d.Hide)
	d.Show()
}

// add starts a download and selects it when the engine accepted it.
func (t *transfersTab) add(req engine.DownloadRequest) {
	var got engine.InfoHash
	t.u.act("add "+words.Clip(req.Source, 50), func() error {
		var err error
		got, err = t.u.eng.Download(t.u.ctx, req)
		return err
	}, func() { t.grid.selectKey(got.String()) })
}
