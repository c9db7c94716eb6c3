package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// The real engine satisfies the interface the window needs.
var _ Engine = (*engine.Engine)(nil)

// fakeEngine is an in-memory Engine that records every call. Search hands
// out channels the test feeds.
type fakeEngine struct {
	mu         sync.Mutex
	snap       engine.Snapshot
	searches   []string
	streams    chan chan engine.Hit // one per Search call, for the test to feed
	searchCtx  []context.Context
	progress   engine.SearchProgress // what every search run reports
	history    []string              // SearchHistory, newest first
	downloads  []engine.DownloadRequest
	dlHash     engine.InfoHash
	shares     []string
	paused     []engine.InfoHash
	resumed    []engine.InfoHash
	removed    []removal
	saved      []string // SaveTorrent paths
	moved      []move   // Move calls
	moves      []queueMove
	creates    []engine.CreateRequest
	createGate chan struct{} // when set, CreateTorrent says it is half-way on it, then waits on it
	forced     []engine.InfoHash
	fail       error // returned by Share, Pause, Resume, Remove and Download when set
	snapCalls  atomic.Int32

	settings    engine.Settings
	settingsSet []engine.Settings
	settingsErr error                                        // returned by SetSettings when set
	options     map[engine.InfoHash][]engine.TransferOptions // every SetTransferOptions call
	current     map[engine.InfoHash]engine.TransferOptions   // what TransferOptions returns
	files       map[engine.InfoHash][]engine.FileSnapshot
	retests     atomic.Int32 // TestReachability calls
}

type queueMove struct {
	h  engine.InfoHash
	up bool
}

type removal struct {
	h          engine.InfoHash
	deleteData bool
}

func newFake() *fakeEngine {
	return &fakeEngine{
		streams:  make(chan chan engine.Hit, 8),
		settings: engine.Settings{OnTarget: "pause", UploadSlots: 4},
		options:  map[engine.InfoHash][]engine.TransferOptions{},
		current:  map[engine.InfoHash]engine.TransferOptions{},
		files:    map[engine.InfoHash][]engine.FileSnapshot{},
	}
}

func (f *fakeEngine) Snapshot() engine.Snapshot {
	f.snapCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeEngine) setSnapshot(s engine.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap = s
}

// StartSearch hands out a channel the test feeds; the run's progress is
// f.progress, and Stop cancels the context recorded in searchCtx.
func (f *fakeEngine) StartSearch(ctx context.Context, words string) (*engine.SearchRun, error) {
	ch := make(chan engine.Hit)
	ctx, cancel := context.WithCancel(ctx)
	f.mu.Lock()
	f.searches = append(f.searches, words)
	f.searchCtx = append(f.searchCtx, ctx)
	f.history = append([]string{words}, slices.DeleteFunc(f.history, func(w string) bool { return w == words })...)
	f.mu.Unlock()
	f.streams <- ch
	progress := func() engine.SearchProgress {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.progress
	}
	return &engine.SearchRun{Hits: ch, Progress: progress, Stop: cancel}, nil
}

func (f *fakeEngine) SearchHistory() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.history)
}

// ClearSearchHistory forgets the history, or fails with f.fail.
func (f *fakeEngine) ClearSearchHistory() error {
	return f.record(func() { f.history = nil })
}

// NewSearchResults is the engine's own result set: it needs nothing from a
// running engine to supersede hits, and the Search tab ranks through
// RankHits below.
func (f *fakeEngine) NewSearchResults() *engine.SearchResults {
	return new(engine.Engine).NewSearchResults()
}

func (f *fakeEngine) setProgress(p engine.SearchProgress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.progress = p
}

func (f *fakeEngine) Download(_ context.Context, req engine.DownloadRequest) (engine.InfoHash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return engine.InfoHash{}, f.fail
	}
	f.downloads = append(f.downloads, req)
	return f.dlHash, nil
}

func (f *fakeEngine) Share(path string) error {
	return f.record(func() { f.shares = append(f.shares, path) })
}

func (f *fakeEngine) Pause(h engine.InfoHash) error {
	return f.record(func() { f.paused = append(f.paused, h) })
}

func (f *fakeEngine) Resume(h engine.InfoHash) error {
	return f.record(func() { f.resumed = append(f.resumed, h) })
}

// CreateTorrent records req, reports half then all of 1000 bytes hashed
// and, when createGate is set, waits for it (or ctx) before answering.
func (f *fakeEngine) CreateTorrent(ctx context.Context, req engine.CreateRequest, progress func(done, total int64)) (engine.Created, error) {
	f.mu.Lock()
	f.creates = append(f.creates, req)
	gate, fail := f.createGate, f.fail
	f.mu.Unlock()
	progress(500, 1000)
	if gate != nil {
		gate <- struct{}{} // the test sees the half-way progress
		select {
		case <-gate:
		case <-ctx.Done():
			return engine.Created{}, ctx.Err()
		}
	}
	if fail != nil {
		return engine.Created{}, fail
	}
	progress(1000, 1000)
	return engine.Created{InfoHash: hash(0xc7), Name: filepath.Base(req.Path), Size: 1000, Torrent: req.Save}, nil
}

func (f *fakeEngine) MoveInQueue(h engine.InfoHash, up bool) error {
	return f.record(func() { f.moves = append(f.moves, queueMove{h, up}) })
}

func (f *fakeEngine) ForceStart(h engine.InfoHash) error {
	return f.record(func() { f.forced = append(f.forced, h) })
}

// Move records the move.
func (f *fakeEngine) Move(h engine.InfoHash, dir string) error {
	return f.record(func() { f.moved = append(f.moved, move{h, dir}) })
}

// SaveTorrent records path and writes a stand-in .torrent file there.
func (f *fakeEngine) SaveTorrent(h engine.InfoHash, path string) error {
	return f.record(func() {
		f.saved = append(f.saved, path)
		_ = os.WriteFile(path, []byte("d4:infod4:name1:xee"), 0o644)
	})
}

func (f *fakeEngine) Remove(h engine.InfoHash, deleteData bool) error {
	return f.record(func() { f.removed = append(f.removed, removal{h, deleteData}) })
}

func (f *fakeEngine) DownloadDir() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.settings.DownloadDir != "" {
		return f.settings.DownloadDir
	}
	return "/home/user/Downloads"
}

func (f *fakeEngine) Settings() engine.Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings
}

func (f *fakeEngine) SetSettings(s engine.Settings) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.settingsErr != nil {
		return f.settingsErr
	}
	f.settings = s
	f.settingsSet = append(f.settingsSet, s)
	return nil
}

func (f *fakeEngine) SetTransferOptions(h engine.InfoHash, o engine.TransferOptions) error {
	return f.record(func() {
		f.options[h] = append(f.options[h], o)
		f.current[h] = o
	})
}

func (f *fakeEngine) TransferOptions(h engine.InfoHash) (engine.TransferOptions, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return engine.TransferOptions{}, f.fail
	}
	return f.current[h], nil
}

// RankHits sorts by source count, most first, keeping arrival order on ties.
func (f *fakeEngine) RankHits(_ string, hits []engine.Hit) {
	slices.SortStableFunc(hits, func(a, b engine.Hit) int { return len(b.Sources) - len(a.Sources) })
}

func (f *fakeEngine) Files(h engine.InfoHash) ([]engine.FileSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	return append([]engine.FileSnapshot(nil), f.files[h]...), nil
}

func (f *fakeEngine) record(fn func()) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	fn()
	return nil
}

func (f *fakeEngine) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// lock runs fn with the fake's records held still.
func (f *fakeEngine) lock(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

var errBoom = errors.New("disk on fire")

// newTestUI builds the window on a test app; cleanup cancels searches and
// waits for every goroutine the UI started.
func newTestUI(t testing.TB) (*UI, *fakeEngine) {
	t.Helper()
	a := test.NewTempApp(t)
	f := newFake()
	u := New(a, f)
	queueHops(u)
	u.tips.manual = true // tests fire tips themselves (waitTip)
	u.win.Resize(fyne.NewSize(1000, 650))
	closeAtCleanup(t, u)
	return u, f
}

// closeAtCleanup cancels u's searches at the test's end, waits for every
// goroutine the UI started and closes its window.
func closeAtCleanup(t testing.TB, u *UI) {
	t.Cleanup(func() {
		u.cancel()
		u.bg.Wait()
		u.search.streams.Wait()
		u.poller.Wait()
		hopQueues.Delete(u)
		u.win.Close()
	})
}

// hash makes a recognisable infohash.
func hash(b byte) engine.InfoHash {
	var h engine.InfoHash
	for i := range h {
		h[i] = b
	}
	return h
}

// waitFor receives from ch or fails the test after a few seconds.
func waitFor[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// cells finds the visible table cells of g, by row and column.
func cells(g *gridTable) map[widget.TableCellID]*fyne.Container {
	out := map[widget.TableCellID]*fyne.Container{}
	for _, o := range walk(nil, g.table) {
		c, ok := o.(*fyne.Container)
		if !ok || len(c.Objects) != 4 {
			continue
		}
		l, ok := c.Objects[1].(*cellLabel)
		if !ok || l.g != g {
			continue
		}
		out[widget.TableCellID{Row: l.row, Col: l.col}] = c
	}
	return out
}

// walk collects o and everything drawn under it, through the renderers the
// canvas really uses (test.LaidOutObjects would build fresh ones).
func walk(out []fyne.CanvasObject, o fyne.CanvasObject) []fyne.CanvasObject {
	out = append(out, o)
	switch c := o.(type) {
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			out = walk(out, child)
		}
	case *fyne.Container:
		for _, child := range c.Objects {
			out = walk(out, child)
		}
	}
	return out
}

// newGraphRendererForTest lays out g's renderer at a typical size.
func newGraphRendererForTest(g *rateGraph) *graphRenderer {
	r := test.WidgetRenderer(g).(*graphRenderer)
	r.Layout(fyne.NewSize(600, 200))
	return r
}

func (f *fakeEngine) TestReachability() { f.retests.Add(1) }

// hopQueue holds the UI's hand-offs to the Fyne goroutine (UI.do) until
// the test runs them, in order, on its own goroutine (settle): the real
// driver's one UI goroutine, which Fyne's test driver does not have.
type hopQueue struct {
	mu  sync.Mutex
	fns []func()
}

func (q *hopQueue) push(fn func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.fns = append(q.fns, fn)
}

func (q *hopQueue) take() []func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	fns := q.fns
	q.fns = nil
	return fns
}

// hopQueues maps each test window to its queue.
var hopQueues sync.Map // *UI → *hopQueue

// queueHops makes u queue its hand-offs for settle. Call it before Start.
func queueHops(u *UI) {
	q := &hopQueue{}
	hopQueues.Store(u, q)
	u.hop = q.push
}

// settle waits for the goroutines of the user's actions and runs what they
// handed to the Fyne goroutine, until nothing more is pending; a callback
// may start another action, whose result settle then waits for too.
func settle(u *UI) {
	for {
		u.bg.Wait()
		if runHops(u) == 0 {
			return
		}
	}
}

// runHops runs, on the test's goroutine, what u's goroutines have handed to
// the Fyne goroutine so far, without waiting for more; it returns how many
// ran.
func runHops(u *UI) int {
	v, ok := hopQueues.Load(u)
	if !ok {
		return 0
	}
	fns := v.(*hopQueue).take()
	for _, fn := range fns {
		fn()
	}
	return len(fns)
}

// waitUI receives from ch, which a callback on the Fyne goroutine feeds,
// running u's hand-offs meanwhile; it fails the test after a few seconds.
func waitUI[T any](t testing.TB, u *UI, ch <-chan T, what string) T {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		runHops(u)
		select {
		case v := <-ch:
			return v
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
			var zero T
			return zero
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// settleSearch waits for the running searches' streams to end, then
// settles.
func settleSearch(u *UI) {
	u.search.streams.Wait()
	settle(u)
}

// move is one Move call.
type move struct {
	h   engine.InfoHash
	dir string
}
