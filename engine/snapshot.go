package engine

import (
	"slices"
	"strings"
	"time"

	"github.com/shoalp2p/shoal/engine/swarm"
)

// Snapshot copies everything the front ends show. It is cheap enough to
// call several times a second.
func (e *Engine) Snapshot() Snapshot {
	e.mu.Lock()
	list := make([]*transfer, 0, len(e.transfers))
	for _, t := range e.transfers {
		list = append(list, t)
	}
	snap := Snapshot{Taken: time.Now(), Ratio: e.ratio, History: slices.Clone(e.history.samples)}
	for _, j := range e.jobs {
		snap.ShareJobs = append(snap.ShareJobs, *j)
	}
	e.mu.Unlock()
	peers := 0
	for _, t := range list {
		ts := e.transferSnapshot(t)
		peers += ts.Peers
		snap.Net.DownRate += ts.DownRate
		snap.Net.UpRate += ts.UpRate
		if t.library {
			snap.Library = append(snap.Library, LibraryItem{InfoHash: t.ih, Name: ts.Name, Path: t.path,
				Size: ts.Size, Files: ts.files, Magnet: Magnet(t.ih, ts.Name), Added: t.added})
			continue
		}
		snap.Transfers = append(snap.Transfers, ts.TransferSnapshot)
	}
	slices.SortFunc(snap.Transfers, func(a, b TransferSnapshot) int { return a.Added.Compare(b.Added) })
	slices.SortFunc(snap.Library, func(a, b LibraryItem) int { return a.Added.Compare(b.Added) })
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
	return e.transferSnapshot(t).PeerDetails, nil
}

type transferView struct {
	TransferSnapshot
	files int
}

func (e *Engine) transferSnapshot(t *transfer) transferView {
	t.mu.Lock()
	sw, paused := t.sw, t.paused
	finished, action := t.targetReached, t.finishedAction
	v := transferView{TransferSnapshot: TransferSnapshot{InfoHash: t.ih, Name: t.name, Dir: t.dir,
		Uploaded: t.uploaded, Downloaded: t.downloaded, Added: t.added}}
	t.mu.Unlock()
	st := sw.Stats()
	if st.HasInfo {
		v.Name, v.Size, v.Have = st.Name, st.Size, st.Have
		v.Wanted, v.WantedHave = st.Wanted, st.WantedHave
		v.Pieces, v.PiecesHave = st.Pieces, st.PiecesHave
		info, _ := sw.Info()
		v.files = max(1, len(info.Files))
	}
	v.DownRate, v.UpRate, v.Peers = st.DownRate, st.UpRate, len(st.Peers)
	if st.Err != nil {
		v.Err = st.Err.Error()
	}
	v.State = stateOf(st, paused)
	if finished {
		v.State = StatePaused
		if action == "stop" {
			v.State = StateComplete
		}
	}
	if v.DownRate > 1 && v.Wanted > v.WantedHave {
		v.ETA = time.Duration(float64(v.Wanted-v.WantedHave)/v.DownRate) * time.Second
	}
	for key, reason := range sw.Bans() {
		v.Banned = append(v.Banned, BannedPeer{Key: key, Reason: reason})
	}
	slices.SortFunc(v.Banned, func(a, b BannedPeer) int { return strings.Compare(a.Key, b.Key) })
	for _, p := range st.Peers {
		if p.Seed {
			v.Seeds++
		}
		gave, took := e.Credit(p.Key, p.PeerID)
		v.PeerDetails = append(v.PeerDetails, PeerSnapshot{Key: p.Key, GaveAllTime: gave, TookAllTime: took, Addr: p.Addr, Client: p.Client, Progress: p.Progress,
			Network: p.Network, Encryption: p.Encryption,
			DownRate: p.DownRate, UpRate: p.UpRate, Downloaded: p.Downloaded, Uploaded: p.Uploaded,
			Choked: p.Choked, ChokingUs: p.ChokingUs, Interested: p.Interested, Interesting: p.Interesting, Note: p.Note})
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
	n.Supernodes = e.leaf.Supernodes()
	if e.sn != nil && e.sn.Active() {
		n.IsSupernode = true
		n.Leaves = e.sn.Leaves()
	}
	e.portMapStatus(&n)
	e.reachStatus(&n)
	return n
}
