package engine

import (
	"bytes"
	"slices"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
)

// peerStore keeps the peers announced to our DHT node (BEP 5
// announce_peer). Unlike the library's in-memory store it keys peers by
// address and port, so several peers behind one IP (every loopback peer, or
// a household behind NAT) are all remembered; entries expire after 30
// minutes and each infohash keeps at most a bounded number.
type peerStore struct {
	mu     sync.Mutex
	peers  map[peer_store.InfoHash]map[string]storedPeer
	cursor [20]byte // where the next BEP 51 sample starts
	// fresh lists infohashes new to the store since they were last
	// sampled, oldest first (at most maxFresh): a BEP 51 sample shows the
	// newest of them before walking on, so that an indexer learns a new
	// torrent within one interval instead of one walk of the store.
	fresh [][20]byte
	// own, if set, returns addresses this node itself stands for under
	// an infohash (an active supernode under the supernode key). They lead
	// every get_peers answer and are never sampled or stored.
	own func(ih peer_store.InfoHash) []krpc.NodeAddr
	// seedMarks holds the announces read with BEP 33's seed flag (by
	// seedKey) that the server has not stored yet: AddPeer takes the mark
	// of the peer it stores.
	seedMarks map[string]time.Time
}

type storedPeer struct {
	addr krpc.NodeAddr
	seen time.Time
	seed bool // announced with BEP 33's seed flag
}

const (
	peerTTL         = 30 * time.Minute
	maxStoredPeers  = 500
	maxReturnPeers  = 50
	maxStoredHashes = 50000
	maxFresh        = 1024
	// maxSeedMarks bounds the seed flags read but not yet stored (an
	// announce with a bad token is never stored); a mark older than
	// seedMarkTTL is stale, as the server stores a peer at once.
	maxSeedMarks = 1024
	seedMarkTTL  = 10 * time.Second
)

func newPeerStore() *peerStore {
	return &peerStore{peers: make(map[peer_store.InfoHash]map[string]storedPeer)}
}

// AddPeer implements peer_store.Interface.
func (s *peerStore) AddPeer(ih peer_store.InfoHash, na krpc.NodeAddr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.peers[ih]
	if m == nil {
		if len(s.peers) >= maxStoredHashes {
			return
		}
		m = make(map[string]storedPeer)
		s.peers[ih] = m
		if len(s.fresh) >= maxFresh {
			s.fresh = slices.Delete(s.fresh, 0, len(s.fresh)-maxFresh+1)
		}
		s.fresh = append(s.fresh, ih)
	}
	if len(m) >= maxStoredPeers {
		s.expire(m)
		if len(m) >= maxStoredPeers {
			return
		}
	}
	m[na.String()] = storedPeer{addr: na, seen: time.Now(), seed: s.takeSeedMark(ih, na)}
}

func seedKey(ih [20]byte, na krpc.NodeAddr) string { return string(ih[:]) + na.String() }

// MarkSeed implements dhtindex.ScrapeSource.
func (s *peerStore) MarkSeed(ih [20]byte, na krpc.NodeAddr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seedMarks == nil {
		s.seedMarks = make(map[string]time.Time)
	}
	now := time.Now()
	for k, at := range s.seedMarks {
		if now.Sub(at) > seedMarkTTL || len(s.seedMarks) >= maxSeedMarks {
			delete(s.seedMarks, k)
		}
	}
	s.seedMarks[seedKey(ih, na)] = now
}

// takeSeedMark reports whether na announced ih as a seed just now, and
// forgets it. Caller holds mu.
func (s *peerStore) takeSeedMark(ih [20]byte, na krpc.NodeAddr) bool {
	k := seedKey(ih, na)
	at, ok := s.seedMarks[k]
	delete(s.seedMarks, k)
	return ok && time.Since(at) <= seedMarkTTL
}

// SeedPeers implements dhtindex.ScrapeSource: the live stored peers of ih
// that announced as seeds.
func (s *peerStore) SeedPeers(ih [20]byte) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.peers[ih]
	s.expire(m)
	var out map[string]bool
	for _, p := range m {
		if p.seed {
			if out == nil {
				out = make(map[string]bool)
			}
			out[p.addr.String()] = true
		}
	}
	return out
}

// ScrapeFilters implements dhtindex.ScrapeSource: BEP 33's Bloom filters
// of the IPs of ih's live stored peers (an IPv4 address as 4 bytes, an
// IPv6 one as 16), seeds and the others apart. This node's own entries
// (supernode addresses) are not torrents' peers and are left out.
func (s *peerStore) ScrapeFilters(ih [20]byte) (seeds, downloaders krpc.ScrapeBloomFilter, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.peers[ih]
	s.expire(m)
	for _, p := range m {
		ip := p.addr.IP.To4()
		if ip == nil {
			ip = p.addr.IP.To16()
		}
		if ip == nil {
			continue
		}
		if p.seed {
			seeds.AddIp(ip)
		} else {
			downloaders.AddIp(ip)
		}
		ok = true
	}
	return seeds, downloaders, ok
}

// GetPeers implements peer_store.Interface: this node's own entries,
// then the most recently announced first.
func (s *peerStore) GetPeers(ih peer_store.InfoHash) []krpc.NodeAddr {
	var own []krpc.NodeAddr
	if s.own != nil {
		own = s.own(ih) // called without s.mu: it asks other parts
	}
	return append(own, s.stored(ih)...)
}

// stored is the announced peers of ih, the most recently announced first.
func (s *peerStore) stored(ih peer_store.InfoHash) []krpc.NodeAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.peers[ih]
	s.expire(m)
	list := make([]storedPeer, 0, len(m))
	for _, p := range m {
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b storedPeer) int { return b.seen.Compare(a.seen) })
	out := make([]krpc.NodeAddr, 0, min(len(list), maxReturnPeers))
	for _, p := range list[:min(len(list), maxReturnPeers)] {
		out = append(out, p.addr)
	}
	return out
}

func (s *peerStore) expire(m map[string]storedPeer) {
	cutoff := time.Now().Add(-peerTTL)
	for k, p := range m {
		if p.seen.Before(cutoff) {
			delete(m, k)
		}
	}
}

// SampleInfohashes implements dhtindex.SampleSource: up to max infohashes
// with a live peer, and how many the store holds. Up to half of a sample
// is the newest infohashes not sampled since they came; the rest walks the
// store in infohash order from where the last one stopped (wrapping
// around), so that an indexer asking once per interval sees all of it in
// about 2·total/max intervals, where random draws would keep repeating
// some and missing others, and sees a new one within an interval or two.
// Infohashes whose peers have all expired are dropped.
func (s *peerStore) SampleInfohashes(max int) ([][20]byte, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	news := s.takeFresh(max / 2)
	walk, total := s.walk(max-len(news), news)
	return append(news, walk...), total
}

// takeFresh takes up to n of the newest fresh infohashes still stored.
// Caller holds mu.
func (s *peerStore) takeFresh(n int) [][20]byte {
	var out [][20]byte
	for len(s.fresh) > 0 && len(out) < n {
		ih := s.fresh[len(s.fresh)-1]
		s.fresh = s.fresh[:len(s.fresh)-1]
		if len(s.peers[ih]) > 0 {
			out = append(out, ih)
		}
	}
	return out
}

// walk returns up to max infohashes from the cursor on, skipping those in
// skip, and how many the store holds. Caller holds mu.
func (s *peerStore) walk(max int, skip [][20]byte) ([][20]byte, int) {
	var after, upTo [][20]byte // beyond the cursor; from the start up to it
	seen := 0
	for ih, m := range s.peers {
		s.expire(m)
		if len(m) == 0 {
			delete(s.peers, ih)
			continue
		}
		seen++
		if slices.Contains(skip, [20]byte(ih)) {
			continue
		}
		if bytes.Compare(ih[:], s.cursor[:]) > 0 {
			after = append(after, ih)
		} else {
			upTo = append(upTo, ih)
		}
	}
	less := func(a, b [20]byte) int { return bytes.Compare(a[:], b[:]) }
	out := smallest(after, max, less)
	if len(out) < max {
		out = append(out, smallest(upTo, max-len(out), less)...)
	}
	if len(out) > 0 {
		s.cursor = out[len(out)-1]
	}
	return out, seen
}

// smallest returns the n smallest of v in order (v is reordered).
func smallest(v [][20]byte, n int, cmp func(a, b [20]byte) int) [][20]byte {
	slices.SortFunc(v, cmp)
	return slices.Clone(v[:min(n, len(v))])
}
