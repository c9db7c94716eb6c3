package dhtindex

import (
	"net"
	"slices"
	"sync"
	"time"
)

// Bounds of the intake: whatever arrives, it holds at most maxPending
// candidates (each with at most maxCandPeers peers), remembers at most
// maxRecent handled infohashes and counts at most maxIPs senders.
const (
	maxPending   = 4096
	maxCandPeers = 8
	maxRecent    = 100_000
	maxIPs       = 8192
	recentTTL    = 30 * time.Minute
	// A fetch where peers were found but none gave the metadata is tried
	// again after failedRetry, doubling with each failure in a row up to
	// failedTTL: one lost connection (a busy peer, a seeder still
	// starting) costs seconds, a peer that never answers costs little.
	failedRetry = 15 * time.Second
	failedTTL   = 3 * time.Minute
	// An infohash get_peers found nobody for is kept out for noPeersRetry,
	// doubling with each such look in a row up to noPeersTTL: short at
	// first, because an announcer's get_peers (which offers us the
	// infohash) comes before its announce_peer, so the first look often
	// finds nobody; longer for one nobody ever has (a fake announce).
	noPeersRetry = 30 * time.Second
	noPeersTTL   = 8 * time.Minute
	ipWindow     = time.Minute
)

// handled is when an infohash was last looked at, and whether get_peers
// found nobody then: an announce that brings a peer is taken in again.
type handled struct {
	at      time.Time
	noPeers bool
	// fails counts looks in a row that found peers but no metadata; such
	// an infohash is looked at again after failedWait(fails).
	fails uint8
	// empties counts looks in a row that found nobody; such an infohash
	// is looked at again after noPeersWait(empties).
	empties uint8
}

// noPeersWait is how long an infohash is kept out after empties looks in
// a row found nobody: noPeersRetry doubled per look, at most noPeersTTL.
func noPeersWait(empties uint8) time.Duration { return backoff(noPeersRetry, noPeersTTL, empties) }

// failedWait is how long an infohash is kept out after fails failed
// fetches in a row: failedRetry doubled per failure, at most failedTTL.
func failedWait(fails uint8) time.Duration { return backoff(failedRetry, failedTTL, fails) }

// backoff is first doubled for each failure in a row after the first
// (fails >= 1), at most most.
func backoff(first, most time.Duration, fails uint8) time.Duration {
	return min(first<<min(fails-1, 8), most)
}

// fresh reports whether h still keeps its infohash out at now.
func (h handled) fresh(now time.Time) bool {
	switch {
	case h.fails > 0:
		return now.Sub(h.at) < failedWait(h.fails)
	case h.noPeers:
		return now.Sub(h.at) < noPeersWait(max(h.empties, 1))
	}
	return now.Sub(h.at) < recentTTL
}

// candidate is an infohash waiting for get_peers and BEP 9.
type candidate struct {
	ih    [20]byte
	peers []string // announced peers (host:port), if any
	// holders are the DHT nodes (UDP host:port) whose BEP 51 samples
	// named ih: they hold its announces, so a get_peers to them finds its
	// peers even when a traversal spends its time on dead nodes nearer ih.
	holders []string
	from    string    // IP it came from (announcer, or the sampled node)
	at      time.Time // when it was taken in
	// fails counts the looks in a row before this one whose peers gave
	// no metadata: it orders the queue (see retryLevels).
	fails uint8
}

// retryLevels is how many queues the intake keeps, by how often a
// candidate's fetch failed before: fresh candidates (never failed) first,
// then those that failed once, twice, and three times or more. Most
// infohashes a crawl hears have no peer that serves their metadata (stale
// announces, fakes), and one that failed before is far less likely to
// succeed than one never tried: retried in arrival order, they held
// fresh torrents back behind hundreds of hopeless retries.
const retryLevels = 4

// level is the queue a candidate with fails earlier failures waits in.
func level(fails uint8) int { return min(int(fails), retryLevels-1) }

// maxHolders caps a candidate's holders: one or two answering nodes are
// enough, and the list must stay small whatever the crawl hears.
const maxHolders = 3

// addHolder appends holder to list unless it is there already or the list
// is full.
func addHolder(list []string, holder string) []string {
	if holder == "" || len(list) >= maxHolders || slices.Contains(list, holder) {
		return list
	}
	return append(list, holder)
}

// intake queues infohashes to look at, once each per recentTTL, with a cap
// per sending IP per minute. Memory is bounded whatever is offered.
type intake struct {
	perIP  int               // infohashes taken in per IP per window
	ignore map[[20]byte]bool // keys that are not torrents: never taken in

	mu sync.Mutex
	// queues hold the pending infohashes in arrival order, by level.
	queues  [retryLevels][][20]byte
	pending map[[20]byte]*candidate
	// busy holds the candidates being looked at, with the peers announced
	// meanwhile: an infohash is looked at by one fetcher at a time.
	busy    map[[20]byte][]string
	recent  map[[20]byte]handled
	ipCount map[string]int
	ipSince time.Time
	wake    chan struct{}

	offered, refusedIP, refusedFull int64
	evicted                         int64 // retries dropped for fresher ones (evictAbove)
}

func newIntake(perIP int, ignore ...[20]byte) *intake {
	skip := make(map[[20]byte]bool, len(ignore))
	for _, k := range ignore {
		skip[k] = true
	}
	return &intake{perIP: perIP, ignore: skip, pending: make(map[[20]byte]*candidate), busy: make(map[[20]byte][]string),
		recent: make(map[[20]byte]handled), ipCount: make(map[string]int), wake: make(chan struct{}, 1)}
}

// offer queues ih (with a peer, if announced) from the IP from, unless it
// is ignored, was handled lately, the IP is over its cap, or the queue is full. It
// reports whether ih was taken in (or merged into a pending candidate).
func (in *intake) offer(ih [20]byte, from, peer string, now time.Time) bool {
	return in.take(ih, from, peer, "", now)
}

// offerSample is offer for an infohash named in the BEP 51 sample of the
// DHT node holder (UDP host:port), which is remembered with it.
func (in *intake) offerSample(ih [20]byte, holder string, now time.Time) bool {
	host, _, err := net.SplitHostPort(holder)
	if err != nil {
		return false
	}
	return in.take(ih, host, "", holder, now)
}

// take is offer with the holder of a sample, if any.
func (in *intake) take(ih [20]byte, from, peer, holder string, now time.Time) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.offered++
	if in.ignore[ih] {
		return false
	}
	if late, ok := in.busy[ih]; ok {
		if peer != "" && len(late) < maxCandPeers && !slices.Contains(late, peer) {
			in.busy[ih] = append(late, peer)
		}
		return true
	}
	if c := in.pending[ih]; c != nil {
		if peer != "" && len(c.peers) < maxCandPeers && !slices.Contains(c.peers, peer) {
			c.peers = append(c.peers, peer)
		}
		c.holders = addHolder(c.holders, holder)
		return true
	}
	h, seen := in.recent[ih]
	if seen && h.fresh(now) && (peer == "" || !h.noPeers) {
		return false
	}
	if !in.countIP(from, now) {
		in.refusedIP++
		return false
	}
	if len(in.pending) >= maxPending && !in.evictAbove(level(h.fails)) {
		in.refusedFull++
		return false
	}
	c := &candidate{ih: ih, from: from, at: now, holders: addHolder(nil, holder), fails: h.fails}
	if peer != "" {
		c.peers = []string{peer}
	}
	in.pushLocked(c)
	return true
}

// pushLocked queues c behind the candidates of its level and wakes a
// fetcher. in.mu is held.
func (in *intake) pushLocked(c *candidate) {
	in.pending[c.ih] = c
	l := level(c.fails)
	in.queues[l] = append(in.queues[l], c.ih)
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// evictAbove makes room in a full queue for a candidate of level l: it
// drops the newest pending candidate of the highest level above l (the
// most failed fetches before), and reports whether it found one. A full
// queue of hopeless retries then still takes in a fresh infohash, which
// is far likelier to be fetched, instead of refusing it. in.mu is held.
func (in *intake) evictAbove(l int) bool {
	for top := retryLevels - 1; top > l; top-- {
		q := in.queues[top]
		for len(q) > 0 {
			ih := q[len(q)-1]
			q = q[:len(q)-1] // popped from the tail: no tombstone is left
			if in.pending[ih] != nil {
				delete(in.pending, ih)
				in.queues[top] = q
				in.evicted++
				return true
			}
		}
		in.queues[top] = q
	}
	return false
}

// countIP counts one infohash from ip and reports whether it is within the
// cap. Counts reset every ipWindow; past maxIPs distinct senders in one
// window, new senders are refused until it ends.
func (in *intake) countIP(ip string, now time.Time) bool {
	if now.Sub(in.ipSince) >= ipWindow {
		clear(in.ipCount)
		in.ipSince = now
	}
	n, seen := in.ipCount[ip]
	if !seen && len(in.ipCount) >= maxIPs || n >= in.perIP {
		return false
	}
	in.ipCount[ip] = n + 1
	return true
}

// next takes the oldest pending candidate of the lowest level (fewest
// failed fetches before), if any.
func (in *intake) next() (*candidate, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for l := range in.queues {
		q := in.queues[l]
		for len(q) > 0 {
			ih := q[0]
			q = q[1:]
			if c := in.pending[ih]; c != nil {
				in.queues[l] = q
				delete(in.pending, ih)
				in.busy[ih] = nil
				return c, true
			}
		}
		in.queues[l] = nil // let the backing array go
	}
	return nil, false
}

// done marks ih handled: it is not taken in again for recentTTL, unless
// nobody had it (noPeers) and an announce brings a peer; if its peers
// failed to give the metadata (failed), for failedWait of the failures in
// a row only. Peers
// announced while it was looked at are tried at once if it was not
// fetched and they are not among the peers it knew (known).
func (in *intake) done(ih [20]byte, noPeers, failed bool, known []string, now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	late := slices.DeleteFunc(in.busy[ih], func(p string) bool { return slices.Contains(known, p) })
	delete(in.busy, ih)
	if (noPeers || failed) && len(late) > 0 && len(in.pending) < maxPending {
		// The same look, with peers it did not know: its level is
		// that of the look.
		in.pushLocked(&candidate{ih: ih, peers: late, at: now, fails: in.recent[ih].fails})
		return
	}
	if len(in.recent) >= maxRecent {
		for k, h := range in.recent {
			if now.Sub(h.at) >= recentTTL {
				delete(in.recent, k)
			}
		}
		if len(in.recent) >= maxRecent {
			clear(in.recent)
		}
	}
	h := handled{at: now, noPeers: noPeers}
	if failed {
		h.fails = min(in.recent[ih].fails, 254) + 1
	}
	if noPeers {
		h.empties = min(in.recent[ih].empties, 254) + 1
	}
	in.recent[ih] = h
}

// sizes reports the pending and remembered counts (tests, stats).
func (in *intake) sizes() (pending, recent, ips int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.pending), len(in.recent), len(in.ipCount)
}
