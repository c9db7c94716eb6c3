package ui

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

const labelCopyMagnet = "Copy magnet"

// Library table columns: the shared torrent columns (see torrentColumns),
// then the Library's own (iota counts from the block's first line).
const (
	libColName  = colName
	libColSize  = colSize
	libColFiles = colFiles
	libColPath  = iota
	libColButton
)

// Share job table columns.
const (
	jobColPath = iota
	jobColProgress
	jobColBytes
	jobColStatus
)

// libraryTab is the Library tab: what this node shares, the shares still
// being hashed, and ways to add more.
type libraryTab struct {
	u       *UI
	grid    *gridTable // shared items
	jobs    *gridTable // share jobs
	jobsBox fyne.CanvasObject
	split   *container.Split
	info    *widget.Label
	content fyne.CanvasObject

	raw     []engine.LibraryItem // the engine's list as last applied
	items   []engine.LibraryItem // the same, row order (sorted by the chosen column)
	jobList []engine.ShareJob

	saving   *dialog.FileDialog // the open "Save .torrent file" dialog, if any
	stopping *stopShareDialog   // the open "Stop sharing" confirmation, if any
}

func newLibraryTab(u *UI) *libraryTab {
	l := &libraryTab{u: u}
	l.grid = newGridTable(append(torrentColumns(300, 140),
		column{title: "Location", width: 260, kind: cellText, sortable: true},
		column{title: "", width: 130, kind: cellButton, enabled: labelCopyMagnet},
	))
	l.grid.onButton = l.copyMagnet
	l.grid.menuFor = l.rowMenu
	l.grid.onSort = func() { l.showItems(l.raw) }
	l.jobs = newGridTable([]column{
		{title: "Hashing", width: 300, kind: cellText, stretch: true},
		{title: "Progress", width: 140, kind: cellProgress},
		{title: "Hashed", width: 170, kind: cellNumber},
		{title: "Status", width: 180, kind: cellText},
	})
	addFiles := widget.NewButtonWithIcon("Add files…", theme.ContentAddIcon(), l.askFile)
	addFiles.Importance = widget.HighImportance
	addFolder := widget.NewButtonWithIcon("Add folder…", theme.FolderNewIcon(), l.askFolder)
	hint := widget.NewLabel("or drop files and folders anywhere on the window")
	hint.Importance = widget.LowImportance
	newTorrent := widget.NewButtonWithIcon("New torrent…", theme.DocumentCreateIcon(), u.newTorrent)
	bar := container.NewHBox(addFiles, addFolder, newTorrent, hint)
	l.info = widget.NewLabel("Nothing shared yet.")
	l.jobsBox = l.jobs.content
	l.jobsBox.Hide()
	l.split = container.NewVSplit(l.jobsBox, l.grid.content)
	l.split.Offset = 0.3
	l.content = container.NewBorder(bar, l.info, nil, nil, l.split)
	return l
}

// apply shows the library and share jobs if they changed.
func (l *libraryTab) apply(items []engine.LibraryItem, jobs []engine.ShareJob) {
	if !sameSlice(items, l.raw) && !slices.Equal(items, l.raw) {
		l.showItems(items)
	}
	if !slices.Equal(jobs, l.jobList) {
		l.showJobs(jobs)
	}
}

// withDownloads is what the Library lists: everything Shoal seeds, the
// items the user shared (lib, as the engine lists them) and then the
// finished downloads (from transfers), so that a download, once done,
// can be opened, shown in its folder, saved as a .torrent or stopped from
// the Library too. lib itself is returned when no download is finished.
func withDownloads(lib []engine.LibraryItem, transfers []engine.TransferSnapshot) []engine.LibraryItem {
	var out []engine.LibraryItem
	for _, tr := range transfers {
		if !tr.Done() || tr.Dir == "" {
			continue
		}
		if out == nil {
			out = append(make([]engine.LibraryItem, 0, len(lib)+4), lib...)
		}
		out = append(out, engine.LibraryItem{InfoHash: tr.InfoHash, Name: tr.Name, Path: filepath.Join(tr.Dir, tr.Name),
			Size: tr.Size, Files: tr.Files, Magnet: cmp.Or(tr.Magnet, engine.Magnet(tr.InfoHash, tr.Name)), Added: tr.Added})
	}
	if out == nil {
		return lib
	}
	return out
}

// showItems shows the engine's list items, in the chosen column's order.
func (l *libraryTab) showItems(items []engine.LibraryItem) {
	l.raw = items
	items = l.sorted(items)
	l.items = items
	keys := make([]string, len(items))
	rows := make([][]string, len(items))
	var total int64
	for i, it := range items {
		keys[i] = it.InfoHash.String()
		button := labelCopyMagnet
		if it.Magnet == "" {
			button = ""
		}
		rows[i] = []string{
			libColName:   it.Name,
			libColSize:   humanBytes(it.Size),
			libColFiles:  countText(it.Files),
			libColPath:   it.Path,
			libColButton: button,
		}
		total += it.Size
	}
	l.grid.update(keys, rows, nil)
	if len(items) == 0 {
		l.info.SetText("Nothing shared yet.")
	} else {
		l.info.SetText(fmt.Sprintf("Sharing %s, %s.", plural(len(items), "item"), humanBytes(total)))
	}
}

func (l *libraryTab) showJobs(jobs []engine.ShareJob) {
	l.jobList = jobs
	keys := make([]string, len(jobs))
	rows := make([][]string, len(jobs))
	prog := make([]float64, len(jobs))
	for i, j := range jobs {
		keys[i] = j.Path
		rows[i] = []string{
			jobColPath:   filepath.Base(j.Path),
			jobColBytes:  humanBytes(j.Hashed) + " / " + humanBytes(j.Total),
			jobColStatus: jobStatus(j),
		}
		prog[i] = jobProgress(j)
	}
	l.jobs.update(keys, rows, prog)
	if show := len(jobs) > 0; show != l.jobsBox.Visible() {
		setVisible(l.jobsBox, show)
		l.split.Refresh() // lay the split out again around the shown or hidden table
	}
}

// sorted orders items by the sort column, or returns them as they are.
func (l *libraryTab) sorted(items []engine.LibraryItem) []engine.LibraryItem {
	return sortedRows(l.grid, items, compareLibrary)
}

func jobStatus(j engine.ShareJob) string {
	switch {
	case j.Err != "":
		return "Error: " + troubleText(j.Err)
	case j.Done:
		return "Shared"
	default:
		return "Hashing"
	}
}

func jobProgress(j engine.ShareJob) float64 {
	if j.Done && j.Err == "" {
		return 1
	}
	if j.Total <= 0 {
		return 0
	}
	return math.Floor(float64(j.Hashed)/float64(j.Total)*1000) / 1000
}

// copyMagnet puts a shared item's magnet link on the clipboard.
func (l *libraryTab) copyMagnet(row int) {
	if row < 0 || row >= len(l.items) {
		return
	}
	it := l.items[row]
	l.u.app.Clipboard().SetContent(it.Magnet)
	l.info.SetText(fmt.Sprintf("Copied the magnet link of %q.", it.Name))
}

func (l *libraryTab) askFile() {
	l.u.fileOpen("add the file", func(uri fyne.URI) { l.u.share(uri) }).Show()
}

func (l *libraryTab) askFolder() {
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil {
			l.u.showError(&opError{op: "add the folder", err: err})
			return
		}
		if dir != nil {
			l.u.share(dir)
		}
	}, l.u.win)
	d.Show()
}

// sameSlice reports whether a and b are the same slice (one backing array,
// one length): the engine hands out the same library slice until the
// library changes, so an idle library costs no comparison of its rows.
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
