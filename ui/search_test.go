package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

var (
	hitUbuntu = engine.Hit{
		InfoHash: hash(0xab), Name: "ubuntu-24.04-desktop-amd64.iso", Size: 6 << 30,
		Files: []string{"ubuntu-24.04-desktop-amd64.iso"}, Sources: []string{"127.0.0.1:6881", "127.0.0.1:6882"},
		Magnet: "magnet:?xt=urn:btih:abababababababababababababababababababab&dn=ubuntu",
	}
	hitDebian = engine.Hit{
		InfoHash: hash(0xde), Name: "debian-12.5.0-amd64-netinst.iso", Size: 659 << 20,
		Sources: []string{"127.0.0.1:7001"},
	}
)

// startSearch types words, taps Search and returns the stream the fake
// engine handed out, with a channel that ticks after each batch shows.
func startSearch(t *testing.T, u *UI, f *fakeEngine, words string) (chan engine.Hit, chan struct{}) {
	t.Helper()
	batches := make(chan struct{}, 16)
	u.search.afterBatch = func() { batches <- struct{}{} }
	test.Type(u.search.entry, words)
	test.Tap(u.search.button)
	return waitFor(t, f.streams, "Search call"), batches
}

// searchTwoHits runs a search that streams the Ubuntu then the Debian hit,
// checking that the first shows while the search still runs.
func searchTwoHits(t *testing.T, u *UI, f *fakeEngine) {
	t.Helper()
	stream, batches := startSearch(t, u, f, "ubuntu iso")
	f.lock(func() {
		if !slices.Equal(f.searches, []string{"ubuntu iso"}) {
			t.Errorf("searches = %q", f.searches)
		}
	})
	stream <- hitUbuntu
	waitUI(t, u, batches, "first batch")
	if got := u.search.grid.rows; len(got) != 1 || got[0][searchColName] != hitUbuntu.Name ||
		got[0][searchColSize] != "6.00 GiB" || got[0][searchColSources] != "2" {
		t.Fatalf("rows after one hit = %q", got)
	}
	if got := u.search.info.Text; got != "1 result so far, searching…" {
		t.Errorf("info = %q", got)
	}
	if m := test.RenderToMarkup(u.win.Canvas()); !strings.Contains(m, hitUbuntu.Name) {
		t.Errorf("the window does not show %q while the search runs", hitUbuntu.Name)
	}
	stream <- hitDebian
	close(stream)
	settleSearch(u)
	if n := len(u.search.grid.rows); n != 2 {
		t.Fatalf("%d rows after two hits, want 2", n)
	}
	if got := u.search.info.Text; got != "2 results." {
		t.Errorf("info = %q", got)
	}
}

func TestSearchShowsHitsAsTheyArrive(t *testing.T) {
	u, f := newTestUI(t)
	searchTwoHits(t, u, f)
}

func TestSearchDownloadShowsTheTransfer(t *testing.T) {
	u, f := newTestUI(t)
	searchTwoHits(t, u, f)
	btn := rowButton(t, u.search.grid, 1, searchColButton) // the Debian row
	if btn.Text != labelDownload || btn.Disabled() {
		t.Fatalf("button %q disabled=%v", btn.Text, btn.Disabled())
	}
	f.lock(func() { f.dlHash = hitDebian.InfoHash })
	test.Tap(btn)
	settle(u)
	f.lock(func() {
		want := engine.DownloadRequest{
			Source: hitDebian.InfoHash.String(), Peers: hitDebian.Sources, Name: hitDebian.Name,
		}
		if len(f.downloads) != 1 || !sameRequest(f.downloads[0], want) {
			t.Fatalf("downloads = %+v, want %+v", f.downloads, want)
		}
	})
	if u.tabs.Selected() != u.transferItem {
		t.Errorf("tab %q is selected, want Transfers", u.tabs.Selected().Text)
	}

	u.Refresh(engine.Snapshot{Transfers: []engine.TransferSnapshot{{
		InfoHash: hitDebian.InfoHash, Name: hitDebian.Name, State: engine.StateFetchingMetadata, Peers: 1,
	}}})
	rows := u.transfers.grid.rows
	if len(rows) != 1 || rows[0][trColName] != hitDebian.Name || rows[0][trColState] != "Getting metadata" {
		t.Fatalf("transfer rows = %q", rows)
	}
	if r := u.transfers.grid.selectedRow(); r != 0 {
		t.Errorf("selected transfer row = %d, want the new download", r)
	}
	if m := test.RenderToMarkup(u.win.Canvas()); !strings.Contains(m, hitDebian.Name) {
		t.Errorf("the Transfers tab does not show %q", hitDebian.Name)
	}
	if got := u.search.grid.rows[1][searchColButton]; got != labelAdded {
		t.Errorf("the downloaded hit's button says %q, want %q", got, labelAdded)
	}
	if u.transferItem.Text != "Transfers (1)" {
		t.Errorf("tab title %q", u.transferItem.Text)
	}
}

func sameRequest(a, b engine.DownloadRequest) bool {
	return a.Source == b.Source && a.Dir == b.Dir && a.Name == b.Name && slices.Equal(a.Peers, b.Peers)
}

// rowButton returns the visible button in a table cell.
func rowButton(t *testing.T, g *gridTable, row, col int) *widget.Button {
	t.Helper()
	c := cells(g)[widget.TableCellID{Row: row, Col: col}]
	if c == nil {
		t.Fatalf("cell %d,%d is not on screen", row, col)
	}
	b := c.Objects[3].(*widget.Button)
	if !b.Visible() {
		t.Fatalf("cell %d,%d has no visible button", row, col)
	}
	return b
}

func TestSearchEnterDoubleClickAndMagnet(t *testing.T) {
	u, f := newTestUI(t)
	batches := make(chan struct{}, 16)
	u.search.afterBatch = func() { batches <- struct{}{} }
	test.Type(u.search.entry, "  ubuntu ")
	u.search.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	stream := waitFor(t, f.streams, "Search on Enter")
	stream <- hitUbuntu
	// The engine streams an infohash again once another supernode answered,
	// with the sources merged: the later hit supersedes the first.
	again := hitUbuntu
	again.Sources = []string{"127.0.0.1:6881", "127.0.0.1:6882", "127.0.0.1:6883"}
	stream <- again
	close(stream)
	settleSearch(u)
	f.lock(func() {
		if !slices.Equal(f.searches, []string{"ubuntu"}) {
			t.Errorf("searches = %q, want trimmed words", f.searches)
		}
	})
	if len(u.search.hits) != 1 || !slices.Equal(u.search.hits[0].Sources, again.Sources) {
		t.Fatalf("repeated infohash not superseded: %+v", u.search.hits)
	}

	label := cells(u.search.grid)[widget.TableCellID{Row: 0, Col: searchColName}].Objects[1].(*cellLabel)
	test.DoubleTap(label)
	settle(u)
	f.lock(func() {
		if len(f.downloads) != 1 || f.downloads[0].Source != hitUbuntu.Magnet || len(f.downloads[0].Peers) != 3 {
			t.Fatalf("double-click downloads = %+v", f.downloads)
		}
	})
}

func TestNewSearchCancelsTheOld(t *testing.T) {
	u, f := newTestUI(t)
	old, batches := startSearch(t, u, f, "first")
	test.Type(u.search.entry, " more")
	test.Tap(u.search.button)
	fresh := waitFor(t, f.streams, "second Search call")
	var firstCtx = func() (c interface{ Err() error }) {
		f.lock(func() { c = f.searchCtx[0] })
		return c
	}()
	if firstCtx.Err() == nil {
		t.Error("the first search's context is still live")
	}
	// The old stream ends late: its stale end-of-search must not show.
	close(old)
	fresh <- hitDebian
	waitUI(t, u, batches, "batch of the new search")
	close(fresh)
	settleSearch(u)
	if len(u.search.hits) != 1 || u.search.hits[0].Name != hitDebian.Name {
		t.Errorf("hits = %+v, want only the new search's", u.search.hits)
	}
	if got := u.search.info.Text; got != "1 result." {
		t.Errorf("info = %q", got)
	}
}

func TestSearchEndsAfterItsTimeout(t *testing.T) {
	u, f := newTestUI(t)
	u.search.timeout = 300 * time.Millisecond
	stream, batches := startSearch(t, u, f, "ubuntu")
	stream <- hitUbuntu
	waitUI(t, u, batches, "first batch")
	waitUI(t, u, batches, "the end of the search") // the engine never closed its channel
	settleSearch(u)
	if got := u.search.info.Text; got != "1 result." {
		t.Errorf("info after the timeout = %q", got)
	}
	var ctx interface{ Err() error }
	f.lock(func() { ctx = f.searchCtx[0] })
	if ctx.Err() == nil {
		t.Error("the search's context outlives its timeout")
	}
}

// searchRowNames lists the Name column of the shown rows.
func searchRowNames(u *UI) []string {
	var names []string
	for _, r := range u.search.grid.rows {
		names = append(names, r[searchColName])
	}
	return names
}

func TestSearchRanksHitsThroughTheEngine(t *testing.T) {
	u, f := newTestUI(t)
	stream, batches := startSearch(t, u, f, "iso")
	stream <- hitDebian // 1 source, arrives first
	waitUI(t, u, batches, "first batch")
	stream <- hitUbuntu // 2 sources
	waitUI(t, u, batches, "second batch")
	if got, want := searchRowNames(u), []string{hitUbuntu.Name, hitDebian.Name}; !slices.Equal(got, want) {
		t.Fatalf("rows = %q, want %q (most sources first)", got, want)
	}
	// Debian gains two more sources in a later batch and moves up: the
	// engine streams it again with its sources merged, and that hit
	// supersedes the first (the UI shows it as is, folding nothing).
	debian3 := hitDebian
	debian3.Sources = []string{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"}
	stream <- debian3
	waitUI(t, u, batches, "third batch")
	if got, want := searchRowNames(u), []string{hitDebian.Name, hitUbuntu.Name}; !slices.Equal(got, want) {
		t.Fatalf("rows after re-rank = %q, want %q", got, want)
	}
	if got := u.search.grid.rows[0][searchColSources]; got != "3" {
		t.Errorf("Debian sources = %q, want 3", got)
	}
	// Whatever the engine streams last for an infohash is what shows: a
	// later hit with fewer sources supersedes too, and Debian falls back.
	debian1 := hitDebian
	debian1.Sources = []string{"127.0.0.1:7003"}
	stream <- debian1
	close(stream)
	settleSearch(u)
	if got, want := searchRowNames(u), []string{hitUbuntu.Name, hitDebian.Name}; !slices.Equal(got, want) {
		t.Fatalf("rows after the smaller hit = %q, want %q", got, want)
	}
	if got := u.search.hits[1].Sources; !slices.Equal(got, debian1.Sources) {
		t.Errorf("Debian sources = %q, want the latest hit's %q", got, debian1.Sources)
	}
	if n := len(u.search.hits); n != 2 {
		t.Errorf("%d hits, want one per infohash", n)
	}
}

// TestSearchSameFiles: hits that hold a file with the same BEP 52 pieces
// root say so in their Files column, on the engine's own result set.
func TestSearchSameFiles(t *testing.T) {
	u, f := newTestUI(t)
	root, other := [32]byte{1}, [32]byte{2}
	single := hitUbuntu
	single.Roots = [][32]byte{root}
	album := hitDebian
	album.Files = []string{"a.flac", "b.flac"}
	album.Roots = [][32]byte{root, other}
	lone := engine.Hit{InfoHash: hash(0x11), Name: "lone", Files: []string{"c.flac"}, Roots: [][32]byte{{3}}}
	stream, _ := startSearch(t, u, f, "flac")
	stream <- single
	stream <- album
	stream <- lone
	close(stream)
	settleSearch(u)
	want := map[string]string{
		single.Name: "1 · also in 1 other torrent",
		album.Name:  "2 · 1 file also in 1 other torrent",
		lone.Name:   "1",
	}
	rows := u.search.grid.rows
	if len(rows) != len(want) {
		t.Fatalf("rows = %q", rows)
	}
	for _, r := range rows {
		if got := r[searchColFiles]; got != want[r[searchColName]] {
			t.Errorf("%s: Files %q, want %q", r[searchColName], got, want[r[searchColName]])
		}
	}
}

// TestSearchSeedsLeechers: the Seeds / peers column shows a DHT hit's
// seeds as a BEP 33 scrape counted them ("–" where no scrape answered)
// and its swarm's peers, and nothing for a hit only Shoal nodes hold; it
// sorts by seeds, then leechers.
func TestSearchSeedsLeechers(t *testing.T) {
	u, f := newTestUI(t)
	scraped := engine.Hit{InfoHash: hash(0x21), Name: "scraped", DHT: true, Swarm: 15, Scraped: true, Seeds: 12, Leechers: 3}
	few := engine.Hit{InfoHash: hash(0x22), Name: "few seeds", DHT: true, Swarm: 40, Scraped: true, Seeds: 2, Leechers: 38}
	unscraped := engine.Hit{InfoHash: hash(0x23), Name: "unscraped", DHT: true, Swarm: 9}
	stream, _ := startSearch(t, u, f, "x")
	for _, h := range []engine.Hit{scraped, few, unscraped, hitDebian} {
		stream <- h
	}
	close(stream)
	settleSearch(u)
	g := u.search.grid
	if got := header(t, g, searchColSwarm).Text; got != "Seeds / peers" {
		t.Fatalf("column title %q", got)
	}
	want := map[string]string{scraped.Name: "12 / 15", few.Name: "2 / 40", unscraped.Name: "– / 9", hitDebian.Name: ""}
	if len(g.rows) != len(want) {
		t.Fatalf("rows = %q", g.rows)
	}
	for _, r := range g.rows {
		if got := r[searchColSwarm]; got != want[r[searchColName]] {
			t.Errorf("%s: Seeds / peers %q, want %q", r[searchColName], got, want[r[searchColName]])
		}
	}
	test.Tap(header(t, g, searchColSwarm))
	first := searchRowNames(u)
	test.Tap(header(t, g, searchColSwarm))
	second := searchRowNames(u)
	asc := []string{hitDebian.Name, unscraped.Name, few.Name, scraped.Name}
	if !slices.Equal(first, asc) && !slices.Equal(second, asc) {
		t.Fatalf("sorted by Seeds / peers: %q then %q; want %q one way", first, second, asc)
	}
}
