package ui

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// rightClick right-clicks the Name cell of row, the way a mouse does.
func rightClick(t *testing.T, g *gridTable, row, col int) {
	t.Helper()
	c := cells(g)[widget.TableCellID{Row: row, Col: col}]
	if c == nil {
		t.Fatalf("cell %d,%d is not on screen", row, col)
	}
	l := c.Objects[1].(*cellLabel)
	if !l.Visible() {
		t.Fatalf("cell %d,%d takes no right-click: its label is hidden", row, col)
	}
	test.TapSecondary(l)
}

// menuLabels lists the labels of the row menu last shown.
func menuLabels(g *gridTable) []string {
	var out []string
	for _, it := range g.menu.Items {
		if !it.IsSeparator {
			out = append(out, it.Label)
		}
	}
	return out
}

// TestTransferRowMenu: a right-click on a transfer row selects it and
// opens a menu whose items act on that transfer through the engine.
func TestTransferRowMenu(t *testing.T) {
	u, f := newTestUI(t)
	u.tabs.Select(u.transferItem)
	u.Refresh(twoTransfers(t.TempDir()))
	g := u.transfers.grid

	rightClick(t, g, 0, trColProgress) // on the progress bar: the label under it takes it
	if g.selectedRow() != 0 || g.popup == nil || !g.popup.Visible() {
		t.Fatalf("right-click: selected row %d, menu %v", g.selectedRow(), g.menu)
	}
	want := []string{"Pause", "Remove…", "Remove with data…", "Open folder", "Move to…", "Copy magnet link",
		"Move up in queue", "Move down in queue", "Force start", "Options…", "Files…"}
	if got := menuLabels(g); !slices.Equal(got, want) {
		t.Fatalf("menu of a download = %q\nwant %q", got, want)
	}
	tapMenuItem(t, u, "Pause")
	settle(u)

	rightClick(t, g, 0, trColName)
	tapMenuItem(t, u, "Copy magnet link")
	if got, want := u.app.Clipboard().Content(), engine.Magnet(hash(1), "big-buck-bunny.mkv"); got != want {
		t.Errorf("clipboard %q, want %q", got, want)
	}

	rightClick(t, g, 1, trColName) // the paused one
	if got := menuLabels(g)[0]; got != "Resume" || g.selectedRow() != 1 {
		t.Fatalf("menu of a paused transfer starts with %q (selected row %d)", got, g.selectedRow())
	}
	tapMenuItem(t, u, "Resume")
	settle(u)
	rightClick(t, g, 1, trColSize)
	tapMenuItem(t, u, "Move down in queue")
	settle(u)

	rightClick(t, g, 1, trColName)
	tapMenuItem(t, u, "Remove with data…")
	if u.transfers.removing == nil || !u.transfers.removing.deleteData.Checked {
		t.Fatal("Remove with data… did not ask with the data ticked")
	}
	test.Tap(u.transfers.removing.confirm)
	settle(u)
	f.lock(func() {
		if !slices.Equal(f.paused, []engine.InfoHash{hash(1)}) || !slices.Equal(f.resumed, []engine.InfoHash{hash(2)}) {
			t.Errorf("paused %v, resumed %v", f.paused, f.resumed)
		}
		if !slices.Equal(f.moves, []queueMove{{hash(2), false}}) {
			t.Errorf("moves %v", f.moves)
		}
		if !slices.Equal(f.removed, []removal{{hash(2), true}}) {
			t.Errorf("removed %v", f.removed)
		}
	})
}

// TestSearchRowMenu: a search result's right-click menu downloads it or
// copies its magnet link.
func TestSearchRowMenu(t *testing.T) {
	u, f := newTestUI(t)
	searchTwoHits(t, u, f)
	g := u.search.grid
	rightClick(t, g, 1, searchColSize) // Debian
	if got := menuLabels(g); !slices.Equal(got, []string{"Download", "Copy magnet link"}) {
		t.Fatalf("search menu %q", got)
	}
	tapMenuItem(t, u, "Copy magnet link")
	if got, want := u.app.Clipboard().Content(), engine.Magnet(hitDebian.InfoHash, hitDebian.Name); got != want {
		t.Errorf("clipboard %q, want %q", got, want)
	}
	rightClick(t, g, 0, searchColName) // Ubuntu has a magnet of its own
	tapMenuItem(t, u, "Copy magnet link")
	if got := u.app.Clipboard().Content(); got != hitUbuntu.Magnet {
		t.Errorf("clipboard %q, want %q", got, hitUbuntu.Magnet)
	}
	rightClick(t, g, 1, searchColName)
	tapMenuItem(t, u, "Download")
	settle(u)
	f.lock(func() {
		if len(f.downloads) != 1 || f.downloads[0].Name != hitDebian.Name {
			t.Fatalf("downloads %+v", f.downloads)
		}
	})
	u.Refresh(engine.Snapshot{Transfers: []engine.TransferSnapshot{{InfoHash: hitDebian.InfoHash, Name: hitDebian.Name}}})
	u.tabs.Select(u.searchItem)
	rightClick(t, g, 1, searchColName)
	if it := g.menu.Items[0]; !it.Disabled {
		t.Errorf("Download stays on for a hit already downloading (%q)", it.Label)
	}
}

// header finds the header cell of col.
func header(t *testing.T, g *gridTable, col int) *headerLabel {
	t.Helper()
	for _, o := range walk(nil, g.table) {
		if h, ok := o.(*headerLabel); ok && h.g == g && h.col == col && h.Visible() {
			return h
		}
	}
	t.Fatalf("no header for column %d", col)
	return nil
}

func transferNames(u *UI) []string {
	var out []string
	for _, r := range u.transfers.grid.rows {
		out = append(out, r[trColName])
	}
	return out
}

// TestSortTransfers: a click on a header sorts by it (numbers largest
// first), a second click reverses, a third goes back to the queue's
// order; the selection stays on its transfer through sorts and refreshes.
func TestSortTransfers(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.transferItem)
	s := engine.Snapshot{Transfers: []engine.TransferSnapshot{
		{InfoHash: hash(1), Name: "beta", Size: 300, Have: 30, State: engine.StateDownloading, DownRate: 10, Peers: 1, Seeds: 4, Uploaded: 10, Downloaded: 30},
		{InfoHash: hash(2), Name: "Alpha", Size: 100, Have: 90, State: engine.StateDownloading, DownRate: 30, Peers: 2, Seeds: 1, Uploaded: 90, Downloaded: 90},
		{InfoHash: hash(3), Name: "gamma", Size: 200, Have: 200, State: engine.StateSeeding, UpRate: 5, Seeds: 9, Uploaded: 400, Downloaded: 200},
	}}
	u.Refresh(s)
	g := u.transfers.grid
	g.selectKey(hash(2).String()) // Alpha
	for _, c := range []struct {
		col   int
		want  []string
		title string
	}{
		{trColName, []string{"Alpha", "beta", "gamma"}, "Name ↑"},
		{trColName, []string{"gamma", "beta", "Alpha"}, "Name ↓"},
		{trColName, []string{"beta", "Alpha", "gamma"}, "Name"},
		{trColSize, []string{"beta", "gamma", "Alpha"}, "Size ↓"},
		{trColProgress, []string{"gamma", "Alpha", "beta"}, "Done ↓"},
		{trColDown, []string{"Alpha", "beta", "gamma"}, "Down ↓"},
		{trColSeeds, []string{"gamma", "beta", "Alpha"}, "Seeds ↓"},
		{trColRatio, []string{"gamma", "Alpha", "beta"}, "Ratio ↓"},
		{trColRatio, []string{"beta", "Alpha", "gamma"}, "Ratio ↑"},
	} {
		h := header(t, g, c.col)
		test.Tap(h)
		if got := transferNames(u); !slices.Equal(got, c.want) {
			t.Fatalf("after a click on %q: %q, want %q", g.cols[c.col].title, got, c.want)
		}
		if got := header(t, g, c.col).Text; got != c.title {
			t.Errorf("header %q, want %q", got, c.title)
		}
		if tr, ok := u.transfers.selected(); !ok || tr.Name != "Alpha" {
			t.Fatalf("selection moved to %q", tr.Name)
		}
	}
	// A refresh that changes the order keeps the sort and the selection;
	// the toolbar acts on the selected transfer.
	s.Transfers[1].Downloaded = 9000 // Alpha's ratio drops to the bottom
	u.Refresh(s)
	if got, want := transferNames(u), []string{"Alpha", "beta", "gamma"}; !slices.Equal(got, want) {
		t.Fatalf("after a refresh: %q, want %q", got, want)
	}
	if tr, ok := u.transfers.selected(); !ok || tr.Name != "Alpha" || g.selectedRow() != 0 {
		t.Fatalf("after a refresh the selection is %q at row %d", tr.Name, g.selectedRow())
	}
	if u.transfers.pause.Disabled() {
		t.Error("Pause is off for the selected download")
	}
}

// TestSortSearchResults: the search results sort by a column and back to
// the engine's ranking, keeping the selection.
func TestSortSearchResults(t *testing.T) {
	u, f := newTestUI(t)
	searchTwoHits(t, u, f) // ranked: Ubuntu (2 sources), Debian (1)
	g := u.search.grid
	g.selectKey(hitUbuntu.InfoHash.String())
	if got := header(t, g, searchColButton); strings.TrimSpace(got.Text) != "" {
		t.Fatalf("button column title %q", got.Text)
	}
	test.Tap(header(t, g, searchColButton)) // not sortable: nothing happens
	if g.sortCol != -1 {
		t.Fatal("the button column sorts")
	}
	for _, c := range []struct {
		col  int
		want []string
	}{
		{searchColName, []string{hitDebian.Name, hitUbuntu.Name}},
		{searchColName, []string{hitUbuntu.Name, hitDebian.Name}},
		{searchColName, []string{hitUbuntu.Name, hitDebian.Name}}, // back to the ranking
		{searchColSize, []string{hitUbuntu.Name, hitDebian.Name}},
		{searchColSize, []string{hitDebian.Name, hitUbuntu.Name}},
	} {
		test.Tap(header(t, g, c.col))
		if got := searchRowNames(u); !slices.Equal(got, c.want) {
			t.Fatalf("after a click on %q (sort %d desc %v): %q, want %q", g.cols[c.col].title, g.sortCol, g.sortDesc, got, c.want)
		}
		if r := g.selectedRow(); r < 0 || u.search.hits[u.search.shown[r]].InfoHash != hitUbuntu.InfoHash {
			t.Fatalf("selection lost: row %d", r)
		}
	}
	// The Download button and the toolbar act on the row as sorted.
	f.lock(func() { f.dlHash = hitDebian.InfoHash })
	test.Tap(rowButton(t, g, 0, searchColButton))
	settle(u)
	f.lock(func() {
		if len(f.downloads) != 1 || f.downloads[0].Name != hitDebian.Name {
			t.Fatalf("downloads %+v", f.downloads)
		}
	})
}

// TestLibraryRowMenu: a shared item's right-click menu opens it, shows
// its folder and copies its magnet link.
func TestLibraryRowMenu(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.libraryItem)
	var opened []string
	u.openURL = func(l *url.URL) error { opened = append(opened, l.String()); return nil }
	u.Refresh(engine.Snapshot{Library: []engine.LibraryItem{
		{InfoHash: hash(0x30), Name: "talk.mp4", Path: "/home/me/Videos/talk.mp4", Size: 310 << 20, Files: 1, Magnet: "magnet:?xt=urn:btih:3131"},
		{InfoHash: hash(0x31), Name: "notes", Path: "/home/me/notes", Size: 10, Files: 2},
	}})
	g := u.library.grid
	rightClick(t, g, 0, libColName)
	if got := menuLabels(g); !slices.Equal(got, []string{"Open", "Show in folder", "Copy magnet link", "Save .torrent file…", "Stop sharing…"}) {
		t.Fatalf("library menu %q", got)
	}
	tapMenuItem(t, u, "Open")
	rightClick(t, g, 0, libColSize)
	tapMenuItem(t, u, "Show in folder")
	rightClick(t, g, 0, libColName)
	tapMenuItem(t, u, "Copy magnet link")
	if want := []string{"file:///home/me/Videos/talk.mp4", "file:///home/me/Videos"}; !slices.Equal(opened, want) {
		t.Errorf("opened %q, want %q", opened, want)
	}
	if got := u.app.Clipboard().Content(); got != "magnet:?xt=urn:btih:3131" {
		t.Errorf("clipboard %q", got)
	}
	rightClick(t, g, 1, libColName)
	if it := g.menu.Items[2]; !it.Disabled {
		t.Error("Copy magnet link is on for an item without a magnet link")
	}
}

// TestMoveFinishedTransfer: "Move to…" is offered only for a finished
// download; it opens a folder picker in the download's folder, and the
// folder chosen goes to the engine. An engine refusal shows in words.
func TestMoveFinishedTransfer(t *testing.T) {
	u, f := newTestUI(t)
	u.tabs.Select(u.transferItem)
	dir := t.TempDir()
	snap := twoTransfers(dir)
	snap.Transfers[1].Have, snap.Transfers[1].WantedHave, snap.Transfers[1].State = 100<<20, 100<<20, engine.StateSeeding
	u.Refresh(snap)
	g := u.transfers.grid
	rightClick(t, g, 0, trColName)
	if item := openMenuItem(t, g, "Move to…"); !item.Disabled {
		t.Fatal("Move to… is offered for an unfinished download")
	}
	u.win.Canvas().Overlays().Remove(u.win.Canvas().Overlays().Top())
	rightClick(t, g, 1, trColName)
	if item := openMenuItem(t, g, "Move to…"); item.Disabled {
		t.Fatal("Move to… is disabled for a finished download")
	}
	tapMenuItem(t, u, "Move to…")
	if u.transfers.moving == nil {
		t.Fatal("no folder picker opened")
	}
	to := t.TempDir()
	l, err := storageListable(to)
	if err != nil {
		t.Fatal(err)
	}
	u.transfers.moving.SetLocation(l)
	tapButton(t, u, "Open")
	settle(u)
	f.lock(func() {
		if want := []move{{hash(2), to}}; !slices.Equal(f.moved, want) {
			t.Fatalf("engine asked to move %+v, want %+v", f.moved, want)
		}
	})

	f.setFail(engine.ErrExists)
	u.transfers.move(snap.Transfers[1], to)
	settle(u)
	if got := errorText(t, u); !strings.Contains(got, "already holds a file or folder of the same name") {
		t.Errorf("error dialog %q", got)
	}
}

// openMenuItem is the item labelled label of g's open right-click menu.
func openMenuItem(t *testing.T, g *gridTable, label string) *fyne.MenuItem {
	t.Helper()
	for _, it := range g.menu.Items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("no %q in the menu", label)
	return nil
}

// tapButton taps the button labelled text on the top overlay.
func tapButton(t *testing.T, u *UI, text string) {
	t.Helper()
	for _, o := range walk(nil, u.win.Canvas().Overlays().Top()) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			test.Tap(b)
			return
		}
	}
	t.Fatalf("no %q button on the top overlay", text)
}

// TestLibraryListsFinishedDownloads: the Library lists everything Shoal
// seeds: the shared items, then each finished download (not one still
// downloading), whose row opens the downloaded file, shows its folder,
// copies its magnet link and stops it from being seeded.
func TestLibraryListsFinishedDownloads(t *testing.T) {
	u, f := newTestUI(t)
	u.tabs.Select(u.libraryItem)
	var opened []string
	u.openURL = func(l *url.URL) error { opened = append(opened, l.String()); return nil }
	snap := twoTransfers("/home/me/Downloads")
	snap.Transfers[1].Have, snap.Transfers[1].WantedHave, snap.Transfers[1].State = 100<<20, 100<<20, engine.StateSeeding
	snap.Transfers[1].Files = 3
	snap.Library = []engine.LibraryItem{{InfoHash: hash(0x30), Name: "talk.mp4", Path: "/home/me/Videos/talk.mp4", Size: 310 << 20, Files: 1}}
	u.Refresh(snap)
	g := u.library.grid
	if len(g.rows) != 2 || g.rows[1][libColName] != "sintel.webm" || g.rows[1][libColPath] != "/home/me/Downloads/sintel.webm" {
		t.Fatalf("library rows %q, want talk.mp4 then the finished sintel.webm", g.rows)
	}
	if got := g.rows[1][libColFiles]; got != "3" {
		t.Errorf("Files of the finished download %q, want 3", got)
	}
	if u.libraryItem.Text != "Library (2)" || !strings.Contains(u.library.info.Text, "2 items") {
		t.Errorf("tab %q, info %q", u.libraryItem.Text, u.library.info.Text)
	}
	rightClick(t, g, 1, libColName)
	tapMenuItem(t, u, "Open")
	rightClick(t, g, 1, libColName)
	tapMenuItem(t, u, "Show in folder")
	if want := []string{"file:///home/me/Downloads/sintel.webm", "file:///home/me/Downloads"}; !slices.Equal(opened, want) {
		t.Errorf("opened %q, want %q", opened, want)
	}
	rightClick(t, g, 1, libColName)
	tapMenuItem(t, u, "Copy magnet link")
	if got, want := u.app.Clipboard().Content(), engine.Magnet(hash(2), "sintel.webm"); got != want {
		t.Errorf("clipboard %q, want %q", got, want)
	}
	rightClick(t, g, 1, libColName)
	tapMenuItem(t, u, "Stop sharing…")
	test.Tap(u.library.stopping.confirm)
	settle(u)
	f.lock(func() {
		if want := []removal{{hash(2), false}}; !slices.Equal(f.removed, want) {
			t.Fatalf("removed %+v, want %+v (files kept)", f.removed, want)
		}
	})
}
