package engine

import (
	"slices"
	"time"

	"github.com/shoalp2p/shoal/engine/swarm"
	"github.com/shoalp2p/shoal/internal/locks"
)

// Snapshot copies everything the front ends show. It is cheap enough to
// call several times a second, and its cost follows the active transfers,
// not the library: library rows are made once and kept until the library
// changes, and an idle, settled download's row is kept until it wakes.
func (e *Engine) Snapshot() Snapshot {
	e.mu.Lock()
	var downloads []*transfer
	for _, t := range e.transfers {
		if !t.library {
			downloads = append(downloads, t)
		}
	}
	now := time.Now()
	e.history.padTo(now) // the idle seconds the flush skipped
	snap := Snapshot{Taken: now, Ratio: e.ratio, History: slices.Clone(e.history.samples)}
	for _, j := range e.jobs {
		snap.ShareJobs = append(snap.ShareJobs, *j)
	}
	e.mu.Unlock()
	peers := 0
	places := queuePlaces(downloads)
	for _, t := range downloads {
		ts := e.transferSnapshot(t)
		ts.Queued = places[t]
		peers += ts.Peers
		snap.Net.DownRate += ts.DownRate
		snap.Net.UpRate += ts.UpRate
		snap.Transfers = append(snap.Transfers, ts.TransferSnapshot)
	}
	for _, t := range e.act.list() {
		if !t.library {
			continue
		}
		sw := t.madeSwarm()
		if sw == nil {
			continue
		}
		st := sw.Stats()
		peers += len(st.Peers)
		snap.Net.DownRate += st.DownRate
		snap.Net.UpRate += st.UpRate
	}
	snap.Library = e.libraryItems()
	slices.SortFunc(snap.Transfers, func(a, b TransferSnapshot) int { return a.Added.Compare(b.Added) })
	snap.Net = e.netStatus(snap.Net, peers)
	return snap
}

// Peers lists the connected peers of a transfer or of a shared library
// item (which Snapshot lists without its peers).
func (e *Engine) Peers(ih InfoHash) ([]PeerSnapshot, error) {
	t, err := e.lookup(ih)
	if err != nil {
		return nil, err
	}
	return e.makeTransferView(t).PeerDetails, nil
}

// libraryCache keeps the Library tab's rows, sorted, between changes.
type libraryCache struct {
	mu    locks.Mutex
	gen   uint64 // bumped at each change to the library
	built uint64 // gen that items were made at
	items []LibraryItem
}

// changedLibrary notes that t joined or left the library.
func (e *Engine) changedLibrary(t *transfer) {
	if !t.library {
		return
	}
	e.lib.mu.Lock()
	e.lib.gen++
	e.lib.mu.Unlock()
}

// libraryItems returns the library's rows, remade only after a change.
// The slice is shared by every Snapshot until then (Snapshot.Library is
// read-only): a UI polling a library of thousands copies nothing.
func (e *Engine) libraryItems() []LibraryItem {
	e.lib.mu.Lock()
	if e.lib.items != nil && e.lib.built == e.lib.gen {
		out := e.lib.items
		e.lib.mu.Unlock()
		return out
	}
	gen := e.lib.gen
	e.lib.mu.Unlock()
	e.mu.Lock()
	var list []*transfer
	for _, t := range e.transfers {
		if t.library {
			list = append(list, t)
		}
	}
	e.mu.Unlock()
	items := make([]LibraryItem, 0, len(list))
	for _, t := range list {
		items = append(items, t.libraryItem())
	}
	slices.SortFunc(items, func(a, b LibraryItem) int { return a.Added.Compare(b.Added) })
	e.lib.mu.Lock()
	if e.lib.gen == gen {
		e.lib.items, e.lib.built = items, gen
	}
	e.lib.mu.Unlock()
	return items
}

// libraryItem is a library item's row, made once (it never changes).
func (t *transfer) libraryItem() LibraryItem {
	t.mu.Lock()
	item, sw := t.item, t.sw
	t.mu.Unlock()
	if item != nil {
		return *item
	}
	name, size, files := t.name, t.size, max(1, t.files)
	t.mu.Lock()
	raw := t.lazyInfo
	t.mu.Unlock()
	if sw != nil {
		st := sw.Stats()
		name, size, files = st.Name, st.Size, 1
		if info, infoRaw := sw.Info(); info != nil {
			files, raw = max(1, st.Files), infoRaw
		}
	}
	item = &LibraryItem{InfoHash: t.ih, Name: name, Path: t.path, Size: size, Files: files,
		Magnet: t.magnetLink(raw, name), Added: t.added}
	t.mu.Lock()
	t.item = item
	t.mu.Unlock()
	return *item
}

type transferView struct {
	TransferSnapshot
}

// viewKey is what a download's row depends on besides its swarm.
type viewKey struct {
	name                 string
	paused, finished     bool
	queued               bool
	action               TargetAction
	uploaded, downloaded int64
}

// transferSnapshot is a download's row. A download that is settled (out
// of the active set) and idle keeps the row made last time, as long as
// nothing it depends on changed; its swarm counts (which the trackers' and
// the DHT's answers change while it idles) are filled afresh.
func (e *Engine) transferSnapshot(t *transfer) transferView {
	t.mu.Lock()
	key := viewKey{name: t.name, paused: t.paused, queued: t.queued, finished: t.targetReached, action: t.finishedAction,
		uploaded: t.uploaded, downloaded: t.downloaded}
	view, sw := t.view, t.sw
	t.mu.Unlock()
	if view != nil && t.viewKeyIs(key) && !e.act.has(t) && sw.Idle() {
		v := *view
		t.swarmSize(&v.TransferSnapshot)
		return v
	}
	v := e.makeTransferView(t)
	t.mu.Lock()
	t.view, t.viewKey = &v, key
	t.mu.Unlock()
	return v
}

// viewKeyIs reports whether t's kept row was made with key.
func (t *transfer) viewKeyIs(key viewKey) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.viewKey == key
}

func (e *Engine) makeTransferView(t *transfer) transferView {
	t.mu.Lock()
	sw, paused, queued := t.sw, t.paused, t.queued
	finished, action := t.targetReached, t.finishedAction
	v := transferView{TransferSnapshot: TransferSnapshot{InfoHash: t.ih, Name: t.name, Dir: t.dir,
		Uploaded: t.uploaded, Downloaded: t.downloaded, Added: t.added}}
	t.mu.Unlock()
	f := e.moveFails.get(t.ih)
	v.MoveErr, v.MoveTo = f.err, f.to
	if sw == nil {
		sw = e.swarmOf(t) // a library item's details: its swarm is made now
	}
	st := sw.Stats()
	if st.HasInfo {
		v.Name, v.Size, v.Have = st.Name, st.Size, st.Have
		v.Wanted, v.WantedHave = st.Wanted, st.WantedHave
		v.Pieces, v.PiecesHave = st.Pieces, st.PiecesHave
		_, raw := sw.Info()
		v.Files = max(1, st.Files)
		v.Magnet = t.magnetLink(raw, v.Name)
	} else {
		v.Magnet = t.magnetLink(nil, v.Name)
	}
	v.DownRate, v.UpRate, v.Peers = st.DownRate, st.UpRate, len(st.Peers)
	if st.Err != nil {
		v.Err = st.Err.Error()
	}
	v.State = stateOf(st, paused)
	if queued && !paused && st.Err == nil {
		v.State = StateQueued
	}
	if finished {
		v.State = StatePaused
		if action == TargetStop {
			v.State = StateComplete
		}
	}
	if v.DownRate > 1 && v.Wanted > v.WantedHave {
		v.ETA = time.Duration(float64(v.Wanted-v.WantedHave)/v.DownRate) * time.Second
	}
	for key, reason := range sw.Bans() {
		v.Banned = append(v.Banned, BannedPeer{Key: key, Reason: reason})
	}
	slices.SortFunc(v.Banned, func(a, b BannedPeer) int { return a.Key.Compare(b.Key) })
	for _, p := range st.Peers {
		if p.Seed {
			v.Seeds++
		}
		gave, took := e.Credit(p.Key, p.PeerID)
		v.PeerDetails = append(v.PeerDetails, PeerSnapshot{Key: p.Key, GaveAllTime: gave, TookAllTime: took, Addr: p.Addr, Client: p.Client, Progress: p.Progress,
			Network: p.Network, Encryption: p.Encryption,
			DownRate: p.DownRate, UpRate: p.UpRate, Downloaded: p.Downloaded, Uploaded: p.Uploaded,
			Choked: p.Choked, ChokingUs: p.ChokingUs, Interested: p.Interested, Interesting: p.Interesting, Note: p.Note, Via: p.Via})
	}
	t.swarmSize(&v.TransferSnapshot)
	return v
}

func stateOf(st swarm.Stats, paused bool) TransferState {
	switch {
	case st.Err != nil:
		return StateError
	case paused:
		return StatePaused
	case !st.HasInfo:
		return StateFetchingMetadata
	case st.Checking:
		return StateChecking
	case st.Seeding:
		return StateSeeding
	}
	return StateDownloading
}

func (e *Engine) transferState(t *transfer, st swarm.Stats) TransferState {
	t.mu.Lock()
	paused := t.paused
	t.mu.Unlock()
	return stateOf(st, paused)
}

func (e *Engine) netStatus(n NetStatus, peers int) NetStatus {
	n.PeerAddr, n.DHTAddr, n.SupernodeAddr = e.Addrs()
	n.PeerID = InfoHash(e.peerID).String()
	n.QuietedLogLines, n.DHTLibraryLines = e.flood.Suppressed(), dhtLogLines.Load()
	n.Peers = peers
	n.DHTNodes = e.dht.NumNodes()
	n.PeerAddr6, n.DHTAddr6 = e.Addrs6()
	if e.dht6 != nil {
		n.DHTNodes6 = e.dht6.NumNodes()
	}
	n.Supernodes = e.leaf.Supernodes()
	if e.sn != nil && e.sn.Active() {
		n.IsSupernode = true
		n.Leaves = e.sn.Leaves()
	}
	e.portMapStatus(&n)
	e.reachStatus(&n)
	return n
}
