package engine

import (
	"context"
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/engine/swarm"
	"github.com/shoalp2p/shoal/engine/tracker"
)

// Announce pacing. Every transfer's tracker announces pass one gate, so a
// library of thousands does not hit the trackers all at once at start-up:
// at announceRate a round of 10,000 torrents spreads over about eight
// minutes, and the trackers' intervals (plus the Announcer's jitter) keep
// them spread afterwards. "stopped" announces at shutdown skip the gate
// but run at most stopConcurrency at a time, each bounded by stopTimeout.
const (
	announceRate    = 20 // announce rounds per second, all transfers together
	announceBurst   = 20
	stopConcurrency = 32
	stopTimeout     = 3 * time.Second
	// unknownLeft is what a transfer without metadata reports as left, as
	// libtorrent does: not zero, or trackers would count it a seed.
	unknownLeft = 16 << 10
)

// newAnnounceGate is the engine's shared announce pacing.
func newAnnounceGate() *rate.Limiter { return rate.NewLimiter(announceRate, announceBurst) }

// announceRequest is the part of an announce the engine knows: who we
// are and how far the transfer has come.
func (e *Engine) announceRequest(t *transfer, sw *swarm.Swarm) tracker.Request {
	st := sw.Stats()
	left := st.Size - st.Have
	if !st.HasInfo {
		left = unknownLeft
	}
	return tracker.Request{InfoHash: t.ih, PeerID: e.peerID, Port: uint16(e.announcePort()),
		Uploaded: st.TotalUp, Downloaded: st.TotalDown, Left: left, NumWant: 50, IPv6: e.announceIPv6()}
}

// announceIPv6 is the IPv6 peer address a dual-stack node tells HTTP
// trackers (BEP 7's "ipv6"), so that a tracker it reaches over IPv4 lists
// it for IPv6 peers too: a global unicast address, or ::1 for a
// loopback-only node; none otherwise (no IPv6 stack, or only a loopback,
// link-local or unique-local address that peers elsewhere cannot reach).
func (e *Engine) announceIPv6() netip.AddrPort {
	peer6, _ := e.Addrs6()
	ap, err := netip.ParseAddrPort(peer6)
	if err != nil {
		return netip.AddrPort{}
	}
	a := ap.Addr()
	if e.cfg.LoopbackOnly && a.IsLoopback() || a.IsGlobalUnicast() && !a.IsPrivate() {
		return ap
	}
	return netip.AddrPort{}
}

// announceDue announces to the transfer's trackers whose turn it is, and
// hands the peers they give to the swarm.
// A paused transfer leaves the trackers' lists ("stopped") and comes
// back with "started" on resume.
func (e *Engine) announceDue(ctx context.Context, t *transfer, sw *swarm.Swarm) {
	if t.isPaused() {
		if t.trackersStarted() {
			e.stopAnnounce(t, sw)
		}
		return
	}
	for _, set := range t.announcers() { // a hybrid's two names (alias.go)
		due, ok := set.ann.NextDue()
		if !ok || time.Now().Before(due) {
			continue
		}
		if err := e.announceGate.Wait(ctx); err != nil {
			return
		}
		req := e.announceRequest(t, sw)
		req.InfoHash = set.ih
		r := set.ann.Announce(ctx, e.trk, req, time.Now())
		for _, f := range r.Failed {
			e.log.Info("tracker announce failed", "infohash", set.ih, "url", f.URL, "err", f.Err)
		}
		for _, p := range r.Peers {
			sw.AddPeers(p.String())
		}
	}
}

// stopAnnounce tells the trackers that answered that the transfer stopped
// (pause, removal or shutdown), so they drop us from the peer lists.
func (e *Engine) stopAnnounce(t *transfer, sw *swarm.Swarm) {
	e.stopSlots <- struct{}{}
	defer func() { <-e.stopSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	for _, set := range t.announcers() {
		if !set.ann.Started() {
			continue
		}
		req := e.announceRequest(t, sw)
		req.InfoHash = set.ih
		if err := set.ann.Stop(ctx, e.trk, req); err != nil {
			e.log.Info("tracker stopped announce failed", "infohash", set.ih, "err", err)
		}
	}
}

// nextWake is the earlier of the next DHT round and the next announce
// (none while paused).
func (t *transfer) nextWake(nextDHT time.Time) time.Time {
	if t.isPaused() {
		return nextDHT
	}
	if due, ok := t.trackersDue(); ok && due.Before(nextDHT) {
		return due
	}
	return nextDHT
}

// dhtCount is what a DHT lookup found of a swarm: how many distinct
// peers get_peers gave (a lower bound on its size) and, when nodes holding
// it answered a BEP 33 scrape, the estimated seeds and downloaders.
type dhtCount struct {
	peers              int
	seeds, downloaders int
	scraped            bool
}

func countOf(sw dhtSwarm) dhtCount {
	c := dhtCount{peers: len(sw.peers)}
	c.seeds, c.downloaders, c.scraped = sw.scrape.counts()
	return c
}

// setDHT records what the last DHT lookup found.
func (t *transfer) setDHT(c dhtCount) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dht = c
}

// swarmSize fills the swarm counts of a snapshot: the best of the
// trackers' announce and scrape counts, the DHT's get_peers count and
// BEP 33 scrape, and the peers we are connected to (who are in the swarm
// too). Unknown counts stay -1.
func (t *transfer) swarmSize(v *TransferSnapshot) {
	t.mu.Lock()
	dht := t.dht
	t.mu.Unlock()
	v.SwarmSeeds, v.SwarmLeechers, v.SwarmPeers, v.SwarmCompleted = -1, -1, -1, -1
	if s := t.ann.Swarm(); s.Known {
		v.SwarmSeeds, v.SwarmLeechers, v.SwarmCompleted = s.Seeders, s.Leechers, s.Completed
		v.SwarmPeers = s.Seeders + s.Leechers
	}
	if dht.peers > 0 {
		v.SwarmPeers = max(v.SwarmPeers, dht.peers)
	}
	if dht.scraped {
		v.SwarmSeeds = max(v.SwarmSeeds, dht.seeds)
		v.SwarmLeechers = max(v.SwarmLeechers, dht.downloaders)
		v.SwarmPeers = max(v.SwarmPeers, dht.seeds+dht.downloaders)
	}
	if v.SwarmPeers < 0 {
		return // nothing known beyond our own connections
	}
	v.SwarmPeers = max(v.SwarmPeers, v.Peers)
	if v.SwarmSeeds >= 0 {
		v.SwarmSeeds = max(v.SwarmSeeds, v.Seeds)
		v.SwarmLeechers = max(v.SwarmLeechers, v.Peers-v.Seeds)
		v.SwarmPeers = max(v.SwarmPeers, v.SwarmSeeds+v.SwarmLeechers)
	}
}

// isPaused reports a transfer paused by the user, stopped at its
// seeding target, or waiting in the queue.
func (t *transfer) isPaused() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paused || t.targetReached || t.queued
}

// poke has the engine's announcer look at the transfer at once (after
// Pause, Resume or completion).
func (t *transfer) poke() {
	if t.kick != nil {
		t.kick()
	}
}
