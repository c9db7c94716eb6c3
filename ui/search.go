package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/words"
)

// batchInterval spaces the table updates while hits stream in (≤5/s).
const batchInterval = 200 * time.Millisecond

// searchTimeout bounds a search the engine does not end: the engine ends
// it as soon as the supernodes asked have answered, within seconds.
const searchTimeout = 30 * time.Second

// Labels of the per-hit button.
const (
	labelDownload = "Download"
	labelAdded    = "Added"
)

// Search table columns: the shared torrent columns (see torrentColumns),
// then the Search tab's own (iota counts from the block's first line).
const (
	searchColName    = colName
	searchColSize    = colSize
	searchColFiles   = colFiles
	searchColSources = iota
	searchColSwarm
	searchColOrigin
	searchColButton
)

// searchTab is the Search tab: an entry, a results table filled as hits
// arrive, and a download action per hit.
type searchTab struct {
	u        *UI
	entry    *widget.SelectEntry // its drop-down lists the recent searches
	button   *widget.Button
	stop     *widget.Button
	clear    *tipButton // forgets the search history
	download *widget.Button
	info     *widget.Label
	grid     *gridTable
	content  fyne.CanvasObject

	filters *filterBar

	query   string                // the current search's words
	results *engine.SearchResults // the current search's hits, one per infohash, the latest of each
	hits    []engine.Hit          // results ranked through the engine, best first
	shown   []int                 // positions in hits of the table rows
	state   searchState           // what the info line says
	prog    engine.SearchProgress // the current search's progress, as last shown
	history []string              // the drop-down's recent searches, newest first
	gen     int                   // bumps per search; stale batches are dropped
	cancel  context.CancelFunc
	version int // transfersTab.version the Added marks reflect

	timeout    time.Duration  // how long a search runs; tests shorten it
	streams    sync.WaitGroup // stream goroutines; tests wait on it
	afterBatch func()         // test hook, run on the Fyne goroutine after a batch shows
}

func newSearchTab(u *UI) *searchTab {
	s := &searchTab{u: u, version: -1, timeout: searchTimeout}
	s.grid = newGridTable(append(torrentColumns(420, 160),
		column{title: "Sources", width: 85, kind: cellNumber, sortable: true},
		column{title: "Seeds / peers", width: 120, kind: cellNumber, sortable: true},
		column{title: "Found on", width: 115, kind: cellText, sortable: true},
		column{title: "", width: 110, kind: cellButton, enabled: labelDownload},
	))
	s.grid.onSort = s.show
	s.grid.menuFor = s.rowMenu
	s.grid.onButton = s.downloadRow
	s.grid.onDouble = s.downloadRow
	s.grid.onSelect = func(row int) { setEnabled(s.download, s.downloadable(row)) }
	s.entry = widget.NewSelectEntry(nil)
	s.entry.SetPlaceHolder("Search the network: words from file names, an infohash or a magnet link…")
	s.entry.OnSubmitted = func(string) { s.start() }
	s.button = widget.NewButtonWithIcon("Search", theme.SearchIcon(), s.start)
	s.button.Importance = widget.HighImportance
	s.stop = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), s.stopSearch)
	s.stop.Disable()
	s.clear = newTipButton(u.tips, "Clear history", theme.HistoryIcon(), s.clearHistory,
		"Forget the recent searches listed under the search box")
	s.download = widget.NewButtonWithIcon("Download selected", theme.DownloadIcon(), func() {
		s.downloadRow(s.grid.selectedRow())
	})
	s.download.Disable()
	s.info = widget.NewLabel("Type a few words and press Enter.")
	s.filters = newFilterBar(u.app.Preferences(), s.refilter)
	bar := container.NewBorder(nil, nil, nil, container.NewHBox(s.button, s.stop, s.clear), s.entry)
	foot := container.NewBorder(nil, nil, nil, s.download, s.info)
	s.content = container.NewBorder(container.NewVBox(bar, s.filters.content), foot, nil, nil, s.grid.content)
	s.loadHistory()
	return s
}

// start runs a new search for the entry's words, cancelling the previous one.
func (s *searchTab) start() {
	words := strings.TrimSpace(s.entry.Text)
	if words == "" {
		return
	}
	if s.cancel != nil {
		s.cancel()
	}
	ctx, cancel := context.WithTimeout(s.u.ctx, s.timeout)
	s.cancel = cancel
	s.gen++
	gen := s.gen
	s.query, s.results, s.hits = words, s.u.eng.NewSearchResults(), nil
	s.state, s.prog = searchRunning, engine.SearchProgress{}
	s.show()
	s.info.SetText(fmt.Sprintf("Searching for %q…", words))
	s.stop.Enable()
	s.rememberSearch(words)
	s.u.idleFocus()
	s.streams.Add(1)
	go func() {
		defer s.streams.Done()
		run, err := s.u.eng.StartSearch(ctx, words)
		if err != nil {
			s.u.do(func() { s.failed(gen, words, err) })
			return
		}
		s.stream(ctx, gen, run)
	}()
}

func (s *searchTab) failed(gen int, words string, err error) {
	if gen != s.gen {
		return
	}
	s.info.SetText("Search failed.")
	s.stop.Disable()
	s.u.showError(fmt.Errorf("search %q: %w", words, err))
}

// stream reads hits as they arrive and hands them to the Fyne goroutine in
// batches with the search's progress, at most one per batchInterval, plus
// a last one at the end: when the engine closes the channel (the search is
// done) or the search's time is up. A stopped search shows nothing more.
func (s *searchTab) stream(ctx context.Context, gen int, run *engine.SearchRun) {
	t := time.NewTicker(batchInterval)
	defer t.Stop()
	var batch []engine.Hit
	var shown engine.SearchProgress
	for {
		select {
		case h, ok := <-run.Hits:
			if !ok {
				if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
					s.deliver(gen, batch, true, run.Progress())
				}
				return
			}
			batch = append(batch, h)
		case <-t.C:
			if p := run.Progress(); len(batch) > 0 || p != shown {
				shown = p
				s.deliver(gen, batch, false, p)
				batch = nil
			}
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				s.deliver(gen, batch, true, run.Progress())
			}
			return
		}
	}
}

func (s *searchTab) deliver(gen int, batch []engine.Hit, done bool, p engine.SearchProgress) {
	s.u.do(func() {
		if gen != s.gen {
			return // a newer search replaced this one
		}
		changed := false
		for _, h := range batch {
			changed = s.results.Add(h) || changed
		}
		if changed {
			s.rank()
		}
		s.state, s.prog = searchBatch, p
		if done {
			s.state = searchDone
			s.stop.Disable()
		}
		s.show()
		s.info.SetText(searchInfo(len(s.shown), len(s.hits)-len(s.shown), done, p))
		if s.afterBatch != nil {
			s.afterBatch()
		}
	})
}

// searchState is how far the current search got.
type searchState int

const (
	searchIdle    searchState = iota // no search yet
	searchRunning                    // started, no batch yet
	searchBatch                      // some batches shown, still searching
	searchDone                       // ended
	searchStopped                    // stopped by the user
)

// searchSummary describes n shown hits and hidden more hidden by filters.
func searchSummary(n, hidden int, done bool) string {
	var text string
	switch {
	case done && n == 0 && hidden == 0:
		return "No results."
	case done:
		text = plural(n, "result")
	default:
		text = plural(n, "result") + " so far"
	}
	if hidden > 0 {
		text += fmt.Sprintf(", %d hidden by filters", hidden)
	}
	if !done {
		return text + ", searching…"
	}
	return text + "."
}

// refilter shows the hits again after the filters changed.
func (s *searchTab) refilter() {
	s.show()
	switch s.state {
	case searchBatch, searchDone:
		s.info.SetText(searchInfo(len(s.shown), len(s.hits)-len(s.shown), s.state == searchDone, s.prog))
	case searchStopped:
		s.info.SetText(stoppedInfo(len(s.shown), len(s.hits)-len(s.shown)))
	}
}

// rank orders the results through the engine, best first. The engine
// has merged each infohash's sources, names and swarm sizes already: a
// later hit supersedes the earlier one in s.results.
func (s *searchTab) rank() {
	s.hits = s.results.Hits()
	s.u.eng.RankHits(s.query, s.hits)
}

// show rebuilds the table rows from the hits that pass the filters.
func (s *searchTab) show() {
	var pass []int
	for i, h := range s.hits {
		if s.filters.current.match(h) {
			pass = append(pass, i)
		}
	}
	order := s.grid.sortOrder(len(pass), func(col, a, b int) int { return compareHits(col, s.hits[pass[a]], s.hits[pass[b]]) })
	s.shown = s.shown[:0]
	for _, at := range order {
		s.shown = append(s.shown, pass[at])
	}
	keys := make([]string, len(s.shown))
	rows := make([][]string, len(s.shown))
	for i, at := range s.shown {
		h := s.hits[at]
		keys[i] = h.InfoHash.String()
		rows[i] = []string{
			searchColName:    h.Name,
			searchColSize:    sizeText(h.Size),
			searchColFiles:   filesText(h),
			searchColSources: strconv.Itoa(len(h.Sources)),
			searchColSwarm:   seedsText(h),
			searchColOrigin:  originText(h),
			searchColButton:  s.buttonLabel(h.InfoHash),
		}
	}
	s.version = s.u.transfers.version
	s.grid.update(keys, rows, nil)
	setEnabled(s.download, s.downloadable(s.grid.selectedRow()))
}

// originText says where a hit was found: Shoal nodes, the BitTorrent DHT
// (its swarm is in the Seeds / peers column), or both.
func originText(h engine.Hit) string {
	switch h.Origin() {
	case "library":
		return "Your library"
	case "dht":
		return "BitTorrent DHT"
	case "shoal+dht":
		return "Shoal + DHT"
	}
	return "Shoal"
}

// seedsText is a DHT hit's BitTorrent swarm as seeds / peers (all of
// them, as in the Transfers tab): "12 / 15" where a BEP 33 scrape counted
// the seeds, "– / 9" where none did; empty for hits only Shoal nodes hold
// (their count is Sources).
func seedsText(h engine.Hit) string {
	switch {
	case !h.DHT:
		return ""
	case h.Scraped:
		return fmt.Sprintf("%d / %d", h.Seeds, max(h.Swarm, h.Seeds+h.Leechers))
	}
	return fmt.Sprintf("– / %d", h.Swarm)
}

// filesText is a hit's file count, and which of its files other hits of
// the search hold too (the same BEP 52 pieces root): "3 · 2 files also in
// 1 other torrent".
func filesText(h engine.Hit) string {
	text := countText(len(h.Files))
	if same := words.SameFiles(len(h.Files), h.SameFiles, h.AlsoIn); same != "" {
		if text == "" {
			return same
		}
		text += " · " + same
	}
	return text
}

// countText shows a positive count, or nothing when it is unknown.
func countText(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func sizeText(n int64) string {
	if n <= 0 {
		return "?"
	}
	return humanBytes(n)
}

func (s *searchTab) buttonLabel(h engine.InfoHash) string {
	if s.u.transfers.has(h) {
		return labelAdded
	}
	return labelDownload
}

// markAdded refreshes the Download/Added marks when the set of transfers
// changed.
func (s *searchTab) markAdded() {
	if s.version != s.u.transfers.version && len(s.hits) > 0 {
		s.show()
	}
	s.version = s.u.transfers.version
}

func (s *searchTab) downloadable(row int) bool {
	return row >= 0 && row < len(s.shown) && !s.u.transfers.has(s.hits[s.shown[row]].InfoHash)
}

// downloadRow starts downloading a hit from its sources and shows it in
// the Transfers tab.
func (s *searchTab) downloadRow(row int) {
	if row >= 0 && row < len(s.shown) {
		s.downloadHit(s.hits[s.shown[row]])
	}
}

// downloadHit starts downloading h and shows it in the Transfers tab.
func (s *searchTab) downloadHit(h engine.Hit) {
	req := engine.DownloadRequest{
		Source: h.Magnet,
		Peers:  append([]string(nil), h.Sources...),
		Name:   h.Name,
	}
	if req.Source == "" {
		req.Source = h.InfoHash.String()
	}
	var got engine.InfoHash
	s.u.act("download "+h.Name, func() error {
		var err error
		got, err = s.u.eng.Download(s.u.ctx, req)
		return err
	}, func() {
		if got.IsZero() {
			got = h.InfoHash
		}
		s.u.transfers.grid.selectKey(got.String())
		s.u.tabs.Select(s.u.transferItem)
	})
}

// setEnabled enables or disables w only when that changes something.
func setEnabled(w fyne.Disableable, on bool) {
	if on == w.Disabled() {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
}
