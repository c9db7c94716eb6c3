package engine

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"time"

	"github.com/shoalp2p/shoal/engine/choker"
	"github.com/shoalp2p/shoal/engine/state"
	"github.com/shoalp2p/shoal/engine/swarm"
)

// flushInterval is how often byte counters and verified pieces are made
// durable; a crash loses at most this much accounting.
const flushInterval = time.Second

// recordReports stores a swarm's hash failures and bans (drained from it,
// so no swarm lock is held) and remembers the bans for swarms started later.
func (e *Engine) recordReports(ctx context.Context, ih InfoHash, reports []swarm.HashReport) {
	for _, r := range reports {
		if _, err := e.db.RecordHashFail(ctx, r.Key, ih, r.Ban, r.Reason); err != nil {
			e.log.Warn("record hash failure", "peer", r.Key, "err", err)
		}
		if r.Ban {
			e.mu.Lock()
			e.banned[r.Key] = r.Reason
			e.mu.Unlock()
		}
	}
}

// bannedCopy is the ban table for a new swarm.
func (e *Engine) bannedCopy() map[PeerKey]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.banned) == 0 {
		return nil // nothing to copy: no map for each of thousands of swarms
	}
	return maps.Clone(e.banned)
}

// pushCredits hands a swarm its connected peers' long-run standing, which
// its choker ranks by; the swarm never calls out for it.
func (e *Engine) pushCredits(sw *swarm.Swarm) {
	refs := sw.PeerRefs()
	if len(refs) == 0 {
		return
	}
	credits := make(map[PeerKey]float64, len(refs))
	for _, r := range refs {
		credits[r.Key] = e.creditOf(r.PeerID, r.Key)
	}
	sw.SetCredits(credits)
}

// creditPair is a peer's all-time exchange with us.
type creditPair struct{ gave, took int64 }

// creditOf is the choker's view of a peer's long-run standing: what it gave
// us against what it took (all time, from SQLite), 1 for a stranger, near 0
// for a free-rider. key is the peer's ban/credit key.
func (e *Engine) creditOf(peerID [20]byte, key PeerKey) float64 {
	c := e.creditFor(peerID, key)
	e.mu.Lock()
	defer e.mu.Unlock()
	return creditScore(c.gave, c.took)
}

// creditScore turns what a peer gave us and took from us into the choker's
// credit: near 1 for a fair trader, above for a generous one. A newcomer may
// take a little (the allowance) before it counts; a peer that took more
// and gave back under a tenth of it is a leech, ranked below every other.
func creditScore(gave, took int64) float64 {
	const allowance = 256 << 10 // one typical piece: enough to get started
	score := float64(gave+allowance) / float64(took+allowance)
	if took > allowance && gave*10 < took {
		return min(score, choker.LeechCredit/2)
	}
	return max(score, choker.LeechCredit) // a lopsided trader is still no leech
}

// creditFor returns the cached credit pair, loading it from SQLite once.
func (e *Engine) creditFor(peerID [20]byte, key PeerKey) *creditPair {
	e.mu.Lock()
	c := e.credit[key]
	e.mu.Unlock()
	if c != nil {
		return c
	}
	stored, err := e.db.Credit(context.Background(), creditID(peerID, key), key)
	if err != nil {
		e.log.Warn("load credit", "peer", key, "err", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c = e.credit[key]; c == nil { // another goroutine may have loaded it meanwhile
		c = &creditPair{gave: stored.Downloaded, took: stored.Uploaded}
		e.credit[key] = c
	}
	return c
}

// creditID is the peer ID half of a credit key: peers known by IP are
// credited whatever ID they use this session.
func creditID(peerID [20]byte, key PeerKey) [20]byte {
	if _, ok := key.IP(); ok {
		return [20]byte{}
	}
	return peerID
}

// Credit reports what a peer (by its key) gave us and took from us over all
// time.
func (e *Engine) Credit(key PeerKey, peerID [20]byte) (gave, took int64) {
	c := e.creditFor(peerID, key)
	e.mu.Lock()
	defer e.mu.Unlock()
	return c.gave, c.took
}

// flushLoop flushes every flushInterval while some transfer is active;
// with none (an idle library) it sleeps until one wakes, so rest costs no
// wake-up. The rate history gets the idle seconds as zeros (padTo).
func (e *Engine) flushLoop(ctx context.Context) error {
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		if e.act.empty() {
			tick.Stop()
			select {
			case <-ctx.Done():
				return nil
			case <-e.act.woken():
			}
			e.applyLimits(time.Now()) // the speed schedule may have turned meanwhile
			tick.Reset(flushInterval)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			// A flush that has begun finishes even if Run is stopping:
			// half-recorded progress would be lost.
			e.flush(context.WithoutCancel(ctx))
		}
	}
}

// flush records, in one durable SQLite transaction, every transfer's newly
// verified pieces together with the bytes moved since the last flush. Each
// swarm is checkpointed before it is drained, so a piece is never recorded
// without the bytes that completed it: after a kill -9, all-time downloaded
// still covers every recorded piece, and pieces verified but not yet
// recorded are found by the recheck at the next start and counted then
// (swarm.Config.CreditRecheck). Uploads may lose the last interval.
func (e *Engine) flush(ctx context.Context) {
	list := e.activeTransfers() // O(active), see activity.go
	var f flushBatch
	for _, t := range list {
		f.add(e, t)
	}
	e.mu.Lock()
	e.history.add(time.Now(), f.up, f.down)
	e.mu.Unlock()
	err := e.db.Flush(ctx, f.traffic, f.progress)
	if err != nil {
		e.log.Error("record traffic and progress", "err", err)
	}
	for i, t := range f.saved {
		t.mu.Lock()
		t.dirty = err != nil // try again at the next flush
		t.checked = t.checked || (err == nil && f.progress[i].Checked)
		t.mu.Unlock()
	}
	for _, t := range list {
		e.saveInfoOnce(ctx, t)
	}
	e.applyLimits(time.Now())
	e.applyTargetsOf(list)
	e.settle(list)
}

// flushBatch is what one flush records.
type flushBatch struct {
	traffic  []state.Traffic
	progress []state.Progress
	saved    []*transfer // the transfer of each progress entry
	up, down int64
}

// add checkpoints t, then drains its traffic.
func (f *flushBatch) add(e *Engine, t *transfer) {
	t.mu.Lock()
	sw, dirty, checked := t.sw, t.dirty, t.checked
	t.mu.Unlock()
	if sw == nil {
		return // a library item that waits for its swarm: nothing moved
	}
	if !t.library {
		p, err := sw.Checkpoint()
		if err != nil {
			e.log.Error("sync pieces", "infohash", t.ih.String(), "err", err)
		} else if p.Have != nil && (p.Changed || dirty || (p.Checked && !checked)) {
			f.progress = append(f.progress, state.Progress{InfoHash: t.ih, Bitfield: bitfieldOf(p.Have),
				State: string(e.transferState(t, sw.Stats())), Checked: p.Checked})
			f.saved = append(f.saved, t)
		}
	}
	tb := e.drain(t, sw)
	e.recordReports(context.Background(), t.ih, sw.DrainReports())
	e.pushCredits(sw)
	for _, tr := range tb {
		f.up += tr.Up
		f.down += tr.Down
	}
	f.traffic = append(f.traffic, tb...)
}

// bitfieldOf packs have in BEP 3 order.
func bitfieldOf(have []bool) []byte {
	bf := make([]byte, (len(have)+7)/8)
	for i, ok := range have {
		if ok {
			bf[i/8] |= 0x80 >> (i % 8)
		}
	}
	return bf
}

// drain collects one transfer's traffic and applies it to in-memory counters.
func (e *Engine) drain(t *transfer, sw *swarm.Swarm) []state.Traffic {
	var out []state.Traffic
	var up, down int64
	for _, tr := range sw.DrainTraffic() {
		out = append(out, state.Traffic{InfoHash: t.ih, PeerID: creditID(tr.PeerID, tr.Key), Key: tr.Key, Up: tr.Up, Down: tr.Down})
		up += tr.Up
		down += tr.Down
		if !tr.Key.IsZero() { // zero is data found again after a crash: no peer
			e.addCredit(tr.PeerID, tr.Key, tr.Down, tr.Up)
		}
	}
	t.mu.Lock()
	t.uploaded += up
	t.downloaded += down
	t.rates.add(time.Now(), up, down)
	t.mu.Unlock()
	e.mu.Lock()
	e.ratio.Uploaded += up
	e.ratio.Downloaded += down
	e.ratio.SessionUploaded += up
	e.ratio.SessionDownloaded += down
	e.mu.Unlock()
	return out
}

func (e *Engine) addCredit(peerID [20]byte, key PeerKey, gave, took int64) {
	c := e.creditFor(peerID, key)
	e.mu.Lock()
	defer e.mu.Unlock()
	c.gave += gave
	c.took += took
}

// saveInfoOnce stores metadata fetched over BEP 9 so a restart needs no
// peer for it. No lock is held across the SQLite calls.
func (e *Engine) saveInfoOnce(ctx context.Context, t *transfer) {
	t.mu.Lock()
	done, sw, name := t.infoSaved || t.library, t.sw, t.name
	t.mu.Unlock()
	if done {
		return
	}
	info, infoBytes := sw.Info()
	if infoBytes == nil {
		return
	}
	e.hybridAlias(t, sw) // a hybrid joined by one infohash answers to both
	e.saveFetchedLayers(t, sw)
	complete := sw.Complete()
	row, err := e.db.Transfer(ctx, t.ih)
	if err != nil {
		e.log.Error("load transfer for metadata", "err", err)
		return
	}
	hadInfo := row.Info != nil
	row.Info = infoBytes
	if row.Name == "" || row.Name != name {
		row.Name = info.Name
	}
	if complete && row.Completed.IsZero() {
		row.Completed = time.Now()
	}
	row.Peers = sw.Candidates()
	if err := e.db.PutTransfer(ctx, row); err != nil {
		e.log.Error("save metadata", "err", err)
		return
	}
	if !hadInfo {
		e.saveResume(t.ih, transferResume(row))
	}
	t.mu.Lock()
	t.name = row.Name
	justDone := complete && t.completed.IsZero()
	if justDone {
		t.completed = row.Completed
	}
	t.infoSaved = complete
	t.mu.Unlock()
	if justDone {
		e.moveWhenDone(t)
		e.kickRoots()
	}
}

// rateHistory keeps per-second byte counts for the last few minutes.
type rateHistory struct {
	samples []RateSample
}

// RateSample is the bytes moved in one second.
type RateSample struct {
	At       time.Time
	Up, Down int64
}

const historyLen = 180

func (h *rateHistory) add(at time.Time, up, down int64) {
	h.padTo(at.Add(-flushInterval / 2))
	h.samples = append(h.samples, RateSample{At: at, Up: up, Down: down})
	h.trim()
}

// padTo adds a zero sample for each whole second after the last sample up
// to until: the seconds an idle engine did not flush. It stops once the
// whole history is zeros, so that an idle history stops changing.
func (h *rateHistory) padTo(until time.Time) {
	if len(h.samples) == 0 {
		return
	}
	zeros := 0
	for i := len(h.samples) - 1; i >= 0 && h.samples[i].Up == 0 && h.samples[i].Down == 0; i-- {
		zeros++
	}
	last := h.samples[len(h.samples)-1].At
	for n := 1; zeros < historyLen; n++ {
		at := last.Add(time.Duration(n) * time.Second)
		if at.After(until) {
			break
		}
		h.samples = append(h.samples, RateSample{At: at})
		zeros++
	}
	h.trim()
}

func (h *rateHistory) trim() {
	if len(h.samples) > historyLen {
		h.samples = h.samples[len(h.samples)-historyLen:]
	}
}

// ReadRatio reads the all-time byte counters from a data folder without
// starting an engine (a running engine may be using it: SQLite's WAL lets
// readers in). Session counters are zero.
func ReadRatio(dataDir string) (Ratio, error) {
	db, err := state.Open(filepath.Join(dataDir, "shoal.db"))
	if err != nil {
		return Ratio{}, fmt.Errorf("engine: read ratio: %w", err)
	}
	defer db.Close()
	up, down, err := db.Totals(context.Background())
	if err != nil {
		return Ratio{}, fmt.Errorf("engine: read ratio: %w", err)
	}
	return Ratio{Uploaded: up, Downloaded: down}, nil
}
