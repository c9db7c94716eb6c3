package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"

	"github.com/shoalp2p/shoal/assets"
	"github.com/shoalp2p/shoal/engine"
)

// Engine is what the window needs from the engine (engine.Engine will
// satisfy it).
type Engine interface {
	// Snapshot copies out the engine's current state.
	Snapshot() engine.Snapshot
	// StartSearch runs a search: its hits stream on the run's channel,
	// closed when every supernode asked has answered (or a few seconds
	// passed) or the search is stopped.
	StartSearch(ctx context.Context, words string) (*engine.SearchRun, error)
	// SearchHistory returns the last searches, newest first.
	SearchHistory() []string
	// ClearSearchHistory forgets the past searches.
	ClearSearchHistory() error
	// NewSearchResults gathers one search's streamed hits: a later hit for
	// an infohash supersedes the earlier one (the engine merged them).
	NewSearchResults() *engine.SearchResults
	// Download starts a transfer and returns its infohash.
	Download(ctx context.Context, req engine.DownloadRequest) (engine.InfoHash, error)
	// Share starts hashing path in the background; progress appears in
	// Snapshot().ShareJobs and the result in Snapshot().Library.
	Share(path string) error
	// Pause stops a transfer's network activity.
	Pause(h engine.InfoHash) error
	// Resume restarts a paused transfer.
	Resume(h engine.InfoHash) error
	// CreateTorrent makes a .torrent file (and seeds it when asked),
	// reporting the hashing progress.
	CreateTorrent(ctx context.Context, req engine.CreateRequest, progress func(done, total int64)) (engine.Created, error)
	// MoveInQueue moves a transfer one place up or down the queue.
	MoveInQueue(h engine.InfoHash, up bool) error
	// ForceStart starts a transfer now, whatever the active limits.
	ForceStart(h engine.InfoHash) error
	// Remove drops a transfer, and its files when deleteData is set.
	Remove(h engine.InfoHash, deleteData bool) error
	// SaveTorrent writes a transfer's or shared item's .torrent file to
	// path, whole or not at all.
	SaveTorrent(h engine.InfoHash, path string) error
	// Move moves a finished download's files into dir and seeds them
	// from there.
	Move(h engine.InfoHash, dir string) error
	// Settings returns the user's current settings.
	Settings() engine.Settings
	// DownloadDir is where new downloads go now.
	DownloadDir() string
	// SetSettings applies and saves new settings.
	SetSettings(s engine.Settings) error
	// TransferOptions returns one transfer's current options.
	TransferOptions(h engine.InfoHash) (engine.TransferOptions, error)
	// SetTransferOptions replaces one transfer's limits, ratio target,
	// order and skipped files.
	SetTransferOptions(h engine.InfoHash, o engine.TransferOptions) error
	// Files lists a transfer's files with their progress and selection.
	Files(h engine.InfoHash) ([]engine.FileSnapshot, error)
	// RankHits sorts the hits of a search for query best first: live
	// before dead, then the best name match, then healthiest (sources
	// that never served bad data, and the swarm's seeds and leechers).
	RankHits(query string, hits []engine.Hit)
	// TestReachability starts a new dial-back test; the answer comes in
	// later snapshots (NetStatus.Reachable).
	TestReachability()
}

// pollInterval is how often the UI pulls a snapshot while the window is
// in the foreground; backgroundPoll is how often otherwise (the window
// unfocused or hidden to the tray), where nobody watches the figures move.
// Coming back to the foreground pulls one at once.
//
// An idle window polls slowly too: once idleAfter snapshots in a row have
// changed nothing it shows, it polls every idlePoll until something
// changes, the user acts (an engine call, another tab) or it comes back to
// the foreground.
const (
	pollInterval   = 250 * time.Millisecond
	backgroundPoll = 2 * time.Second
	idlePoll       = time.Second
	idleAfter      = 8
)

// UI is Shoal's main window and the state behind it. All fields are owned
// by the Fyne goroutine except where noted.
type UI struct {
	app fyne.App
	eng Engine
	win fyne.Window

	tabs                                                           *container.AppTabs
	searchItem, transferItem, libraryItem, ratioItem, settingsItem *container.TabItem
	unplaced                                                       map[*container.TabItem]fyne.CanvasObject // tabs not shown yet: their content (see lazyTab)

	search    *searchTab
	transfers *transfersTab
	library   *libraryTab
	ratio     *ratioTab
	settings  *settingsTab
	status    *statusBar
	tray      *tray
	counts    [2]int         // transfers and library items in the tab titles
	tips      *tipLayer      // tooltips, over the window content
	dialogs   []*keyedDialog // open dialogs that Escape and Enter drive, last on top

	// ctx bounds engine calls and searches; cancelled when Start's context ends.
	ctx    context.Context
	cancel context.CancelFunc

	pending    atomic.Bool  // a snapshot is queued for the Fyne goroutine
	quiet      atomic.Int32 // snapshots in a row that changed nothing shown
	last       engine.Snapshot
	background atomic.Bool // the window is not in the foreground: poll slowly
	wake       chan struct{}
	bg         sync.WaitGroup // goroutines started by user actions
	poller     sync.WaitGroup // the snapshot ticker

	creating *createDialog // the open New torrent dialog, if any

	// hop, when set, replaces fyne.Do for every hand-off from a goroutine
	// the UI started (engine calls, searches, hashing, the snapshot
	// ticker) to the Fyne goroutine; see do. Set before Start, never after.
	hop func(func())

	// waiter parks the driver's loop while the window is idle (see
	// idlewait.go); waiting is set while it is parked, woken when u.do
	// ended the park, queued counts functions u.do handed to the Fyne
	// goroutine that have not run yet, lastInput is when the user last
	// did something that holds parking off (Unix nanoseconds).
	waiter    EventWaiter
	waiting   atomic.Bool
	woken     atomic.Bool
	queued    atomic.Int64
	lastInput atomic.Int64

	// openURL opens folders; tests replace it to see what would be opened.
	openURL func(*url.URL) error
	// onQuit stops the app (see Quit); tests replace it.
	onQuit func()
}

// New builds the main window (title "Shoal", 1000×650) on the Search tab.
// Call it on the Fyne goroutine; show the window with Window().Show or
// ShowAndRun.
func New(a fyne.App, eng Engine) *UI {
	return NewIn(a, a.NewWindow("Shoal"), eng, "")
}

// NewIn is New in a window the caller made, showing the tab named first
// (as ShowTab names them; Search if "" or no such tab). The app makes the
// window while the engine opens, since Fyne's driver starts with the first
// window, and picks the first tab before the window is built, since only
// the tab shown is built before the first frame (see lazyTab).
func NewIn(a fyne.App, win fyne.Window, eng Engine, first string) *UI {
	u := &UI{app: a, eng: eng, win: win, openURL: a.OpenURL, onQuit: quitDriver(a), wake: make(chan struct{}, 1)}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.win.SetTitle("Shoal")
	u.win.SetIcon(fyne.NewStaticResource("shoal.png", assets.IconPNG))
	u.tips = newTipLayer()
	u.tips.do = u.do
	u.search = newSearchTab(u)
	u.transfers = newTransfersTab(u)
	u.library = newLibraryTab(u)
	u.ratio = newRatioTab()
	u.settings = newSettingsTab(u)
	u.status = newStatusBar(u.tips)
	for _, g := range []*gridTable{u.transfers.grid, u.transfers.peers.grid, u.library.grid, u.library.jobs, u.search.grid} {
		g.pressed = u.sawInput
	}
	u.searchItem = u.lazyTab("Search", theme.SearchIcon(), u.search.content)
	u.transferItem = u.lazyTab("Transfers", theme.DownloadIcon(), u.transfers.content)
	u.libraryItem = u.lazyTab("Library", theme.StorageIcon(), u.library.content)
	u.ratioItem = u.lazyTab("Ratio", theme.UploadIcon(), u.ratio.content)
	u.settingsItem = u.lazyTab("Settings", theme.SettingsIcon(), u.settings.content)
	u.tabs = container.NewAppTabs(u.searchItem, u.transferItem, u.libraryItem, u.ratioItem, u.settingsItem)
	if it := u.tabNamed(first); it != nil {
		u.tabs.Select(it)
	}
	u.tabs.OnSelected = u.tabShown
	u.placeTab(u.tabs.Selected())
	u.win.SetContent(u.tips.wrap(container.NewBorder(nil, u.status.content, nil, nil, u.tabs)))
	u.win.SetOnDropped(u.onDropped)
	u.tray = newTray(u)
	u.installKeys()
	u.win.Resize(fyne.NewSize(1000, 650))
	u.tabShown(u.tabs.Selected())
	return u
}

// lazyTab makes a tab item that holds an empty placeholder until it is
// first shown (placeTab). Fyne measures every tab's content for the
// window's minimum size, which creates a renderer for each widget and
// measures each text: done for all five tabs, that was a tenth of a second
// before the first frame (software renderer, 2 cores), spent on tabs the
// user may never open.
func (u *UI) lazyTab(name string, icon fyne.Resource, content fyne.CanvasObject) *container.TabItem {
	it := container.NewTabItemWithIcon(name, icon, layout.NewSpacer())
	if u.unplaced == nil {
		u.unplaced = map[*container.TabItem]fyne.CanvasObject{}
	}
	u.unplaced[it] = content
	return it
}

// placeTab puts a tab's real content in place of its placeholder, the
// first time the tab is shown, and reports whether it did.
func (u *UI) placeTab(it *container.TabItem) bool {
	content, ok := u.unplaced[it]
	if ok {
		it.Content = content
		delete(u.unplaced, it)
	}
	return ok
}

// tabShown runs when a tab is selected: its content goes in place the
// first time (see lazyTab), widgets of hidden tabs that change on their
// own (the rate graph) redraw only while shown, and a field the old tab
// had focused loses the focus (see idleFocus).
func (u *UI) tabShown(it *container.TabItem) {
	if u.placeTab(it) {
		u.tabs.Refresh()
	}
	u.busy()
	u.ratio.graph.setShown(it == u.ratioItem)
	u.idleFocus()
}

// idleFocus takes the focus away from any text field. A focused field's
// blinking cursor makes Fyne redraw the whole window many times a second,
// shown or hidden: under a software renderer an idle window on the Search
// tab with the cursor in its field used 10.5% of a core, 2% without. So
// the window starts with nothing focused, the focus goes with a tab
// change, and a search, once started, leaves its field (Ctrl+F or a click
// brings the cursor back).
func (u *UI) idleFocus() {
	if c := u.win.Canvas(); c.Focused() != nil {
		c.Unfocus()
	}
}

// Window returns the main window.
func (u *UI) Window() fyne.Window { return u.win }

// Start starts the snapshot ticker goroutine, and the one that parks the
// driver's loop while the window is idle if SetEventWaiter was called.
// They stop, and pending searches are cancelled, when ctx ends.
func (u *UI) Start(ctx context.Context) {
	if u.waiter.Wait != nil {
		u.poller.Add(1)
		go func() {
			defer u.poller.Done()
			u.parkLoop(ctx)
		}()
	}
	u.poller.Add(1)
	go func() {
		defer u.poller.Done()
		defer u.cancel()
		t := time.NewTimer(pollInterval)
		defer t.Stop()
		for {
			u.pull()
			t.Reset(u.pollEvery())
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-u.wake:
			}
		}
	}()
}

// pollEvery is the time until the next snapshot.
func (u *UI) pollEvery() time.Duration {
	switch {
	case u.background.Load():
		return backgroundPoll
	case u.quiet.Load() >= idleAfter:
		return idlePoll
	}
	return pollInterval
}

// busy says the user did something: poll at the full rate again, now.
// Safe from any goroutine.
func (u *UI) busy() {
	if u.quiet.Swap(0) >= idleAfter {
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
}

// SetForeground says whether the window is in the foreground (focused and
// shown); the app wires it to Fyne's lifecycle. Back in the foreground, a
// snapshot is pulled at once. Safe from any goroutine.
func (u *UI) SetForeground(fg bool) {
	if u.background.Swap(!fg) && fg {
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
}

// pull takes one snapshot and hands it to the Fyne goroutine, unless the
// previous one is still waiting there: a slow UI skips ticks instead of
// queueing snapshots.
func (u *UI) pull() {
	if !u.pending.CompareAndSwap(false, true) {
		return
	}
	s := u.eng.Snapshot()
	u.do(func() {
		u.pending.Store(false)
		u.Refresh(s)
	})
}

// Refresh applies one snapshot. It must run on the Fyne goroutine. Only the
// parts that changed since the previous snapshot are redrawn.
func (u *UI) Refresh(s engine.Snapshot) {
	if u.showsNothingNew(s) {
		u.quiet.Add(1)
	} else {
		u.quiet.Store(0)
	}
	u.last = s
	u.status.apply(s.Net)
	u.settings.syncAlt()
	u.settings.showReach(s.Net)
	u.status.setLimits(u.settings.saved, u.settings.altActive(snapTime(s)))
	u.transfers.apply(s.Transfers)
	u.search.markAdded()
	lib := withDownloads(s.Library, s.Transfers)
	u.library.apply(lib, s.ShareJobs)
	u.ratio.apply(s, u.settings.saved.RatioTarget)
	u.tray.apply(s)
	if len(s.Transfers) != u.counts[0] || len(lib) != u.counts[1] {
		u.counts = [2]int{len(s.Transfers), len(lib)}
		u.transferItem.Text = counted("Transfers", len(s.Transfers))
		u.libraryItem.Text = counted("Library", len(lib))
		u.tabs.Refresh()
	}
}

// showsNothingNew reports whether s would change nothing the window shows
// compared with the last snapshot applied. The Ratio tab's graph moves
// every second, so while it is shown every snapshot counts as new.
func (u *UI) showsNothingNew(s engine.Snapshot) bool {
	p := u.last
	if u.tabs.Selected() == u.ratioItem || p.Taken.IsZero() || p.Ratio != s.Ratio || !sameNetStatus(p.Net, s.Net) ||
		len(p.Transfers) != len(s.Transfers) || !slices.Equal(p.ShareJobs, s.ShareJobs) {
		return false
	}
	if !sameSlice(p.Library, s.Library) && !slices.Equal(p.Library, s.Library) {
		return false
	}
	for i := range s.Transfers {
		a, b := &p.Transfers[i], &s.Transfers[i]
		if a.InfoHash != b.InfoHash || keyOf(*a) != keyOf(*b) || a.Queued != b.Queued || a.Dir != b.Dir {
			return false
		}
	}
	return true
}

// sameNetStatus reports whether a and b agree in everything the window
// shows of the network (the status bar, the tray, the Connection card).
func sameNetStatus(a, b engine.NetStatus) bool {
	return sameNet(a, b) && slices.Equal(a.Supernodes, b.Supernodes) &&
		a.DHTNodes6 == b.DHTNodes6 && a.PortMappingErr == b.PortMappingErr &&
		a.ReachableHow == b.ReachableHow && a.ExternalAddrFrom == b.ExternalAddrFrom
}

// snapTime is when s was taken, or now if it does not say.
func snapTime(s engine.Snapshot) time.Time {
	if s.Taken.IsZero() {
		return time.Now()
	}
	return s.Taken
}

func counted(name string, n int) string {
	if n == 0 {
		return name
	}
	return fmt.Sprintf("%s (%d)", name, n)
}

// do runs fn on the Fyne goroutine. Every goroutine the UI starts hands
// its results to the widgets through here and nowhere else. The real
// driver runs them one after another on its own goroutine; Fyne's test
// driver instead runs fn at once on the caller's goroutine, where it would
// race with the test and with other callbacks, so tests set u.hop to a
// queue that they run on the test's goroutine, as the real driver would.
func (u *UI) do(fn func()) {
	if u.hop != nil {
		u.hop(fn)
		return
	}
	u.queued.Add(1)
	fyne.Do(func() {
		u.queued.Add(-1)
		fn()
	})
	u.wakeParked()
}

// Do runs fn on the Fyne goroutine, as the window's own goroutines hand
// over their work (waking a parked loop at once). Safe from any goroutine.
func (u *UI) Do(fn func()) { u.do(fn) }

// act runs an engine call off the Fyne goroutine and shows its error,
// prefixed with op unless op is empty, in a dialog; on success it runs then
// (if any) on the Fyne goroutine.
func (u *UI) act(op string, call func() error, then func()) {
	u.actOr(op, call, then, nil)
}

// actOr is act with failed, run on the Fyne goroutine after the error
// dialog shows, to undo what the UI assumed.
func (u *UI) actOr(op string, call func() error, then, failed func()) {
	u.bg.Add(1)
	u.busy()
	go func() {
		defer u.bg.Done()
		err := call()
		defer u.busy() // show what the call changed soon
		if err != nil && op != "" {
			err = &opError{op: op, err: err}
		}
		u.do(func() {
			switch {
			case err != nil:
				u.showError(err)
				if failed != nil {
					failed()
				}
			case then != nil:
				then()
			}
		})
	}()
}

// share hands local files and folders to the engine, one after another off
// the Fyne goroutine, and then shows the Library, where their hashing
// progress appears.
func (u *UI) share(uris ...fyne.URI) {
	var paths []string
	for _, uri := range uris {
		if uri.Scheme() != "file" {
			u.showError(sayf("only local files and folders can be shared, and %s is not one.", uri))
			continue
		}
		paths = append(paths, uri.Path())
	}
	if len(paths) == 0 {
		return
	}
	u.act("", func() error {
		var errs []error
		for _, p := range paths {
			if err := u.eng.Share(p); err != nil {
				errs = append(errs, &opError{op: "share " + p, err: err})
			}
		}
		return errors.Join(errs...)
	}, func() { u.tabs.Select(u.libraryItem) })
}
