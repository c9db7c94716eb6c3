package engine

import (
	"crypto/sha1"
	"time"

	"github.com/shoalp2p/shoal/engine/swarm"
	"github.com/shoalp2p/shoal/engine/torrentfile"
	"github.com/shoalp2p/shoal/engine/tracker"
)

// A hybrid torrent (BEP 52 with v1 parts) is one swarm known by two
// 20-byte infohashes: the v1 one (SHA-1 of the info) and the v2 one
// (SHA-256) cut to 20 bytes. Its transfer is keyed by the one it was
// added with; the other is an alias. As libtorrent does, the DHT is asked
// and told under both, so a peer with only a btmh magnet link finds a
// seeder that knows the torrent by its v1 infohash and the other way
// round, and an incoming handshake under either reaches the transfer. Its
// trackers hear from it under both too, each name with its own
// tracker.Announcer (intervals, "started", "stopped").

// hybridAlias works out t's alias once its info is known, registers it,
// and returns it; ok is false while the info is unknown or for a torrent
// that is not hybrid.
func (e *Engine) hybridAlias(t *transfer, sw *swarm.Swarm) (InfoHash, bool) {
	t.mu.Lock()
	alt, known := t.alt, t.altKnown
	t.mu.Unlock()
	if known {
		return alt, !alt.IsZero()
	}
	if sw == nil {
		return InfoHash{}, false
	}
	info, infoBytes := sw.Info()
	if infoBytes == nil {
		return InfoHash{}, false
	}
	if torrentfile.IsHybrid(info) {
		alt = aliasOf(t.ih, infoBytes)
	}
	t.setAlias(alt)
	if alt.IsZero() {
		return alt, false
	}
	e.registerAlias(t, alt)
	return alt, true
}

// aliasOf is the other infohash of a hybrid known by ih, whose info
// dictionary is infoBytes.
func aliasOf(ih InfoHash, infoBytes []byte) InfoHash {
	v1, v2 := InfoHash(sha1.Sum(infoBytes)), torrentfile.V2Hash(infoBytes)
	if ih == v1 {
		return InfoHash(v2[:20])
	}
	return v1
}

// setAlias records t's alias (zero: not a hybrid), with an announcer for
// its trackers under it.
func (t *transfer) setAlias(alt InfoHash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.alt, t.altKnown = alt, true
	if !alt.IsZero() && len(t.ann.Tiers()) > 0 {
		t.annAlt = tracker.NewAnnouncer(t.trackers, tracker.Schedule{})
	}
}

// registerAlias has peers that name t by alt reach it, unless another
// transfer is keyed by alt (the same torrent added twice, by each name).
func (e *Engine) registerAlias(t *transfer, alt InfoHash) {
	e.mu.Lock()
	_, taken := e.transfers[alt]
	if !taken && e.transfers[t.ih] == t {
		e.aliases[alt] = t.ih
	}
	e.mu.Unlock()
}

// forgetAlias drops a removed transfer's alias.
func (e *Engine) forgetAlias(t *transfer) {
	t.mu.Lock()
	alt := t.alt
	t.mu.Unlock()
	if alt.IsZero() {
		return
	}
	e.mu.Lock()
	if e.aliases[alt] == t.ih {
		delete(e.aliases, alt)
	}
	e.mu.Unlock()
}

// transferNamed is the transfer a peer names by ih: by its own key or,
// for a hybrid, by its alias.
func (e *Engine) transferNamed(ih InfoHash) *transfer {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.transfers[ih]; t != nil {
		return t
	}
	if key, ok := e.aliases[ih]; ok {
		return e.transfers[key]
	}
	return nil
}

// trackerSet is one of a transfer's tracker announcers and the infohash
// it announces.
type trackerSet struct {
	ann *tracker.Announcer
	ih  InfoHash
}

// announcers lists t's tracker announcers: under its own infohash, and
// under its alias for a hybrid with trackers.
func (t *transfer) announcers() []trackerSet {
	sets := []trackerSet{{t.ann, t.ih}}
	t.mu.Lock()
	if t.annAlt != nil {
		sets = append(sets, trackerSet{t.annAlt, t.alt})
	}
	t.mu.Unlock()
	return sets
}

// trackersStarted reports whether a tracker knows t under either name.
func (t *transfer) trackersStarted() bool {
	for _, s := range t.announcers() {
		if s.ann.Started() {
			return true
		}
	}
	return false
}

// trackersDue is when t's next tracker announce is due under either name;
// ok is false without trackers.
func (t *transfer) trackersDue() (due time.Time, ok bool) {
	for _, s := range t.announcers() {
		if d, has := s.ann.NextDue(); has && (!ok || d.Before(due)) {
			due, ok = d, true
		}
	}
	return due, ok
}
