package dhtindex

import (
	"bytes"
	"net"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
	"github.com/anacrolix/torrent/bencode"
)

// BEP 33 (DHT scrapes), the answering side. A get_peers with scrape=1 is
// answered as the library answers any get_peers (id, token, and values or
// nodes), plus two 256-byte Bloom filters of the IPs the peer store holds
// for the torrent: BFsd for the peers that announced with BEP 33's seed
// flag, BFpe for the others. Values are left out then, as libtorrent does:
// the querier asked for counts, and the filters already fill most of a
// datagram. A store without peers for the torrent sends no filters, so
// that a querier ORing the answers of many nodes counts only the holders.
//
// The library neither parses the seed flag of announce_peer nor lets a
// hook add to its get_peers answer. So the server's socket is wrapped:
// reading, it notes the seed flag of each announce_peer for the store
// (which the library then fills, once it has checked the token); the
// OnQuery hook notes each scrape query and the filters to send; writing,
// the library's answer to that query (same address and transaction) gets
// the filters. The library's own token stays in the answer.
//
// Nor can the library's announce_peer say "seed". Responder.AnnounceAsSeed
// names a torrent this node is about to announce as a seed; writing, the
// socket adds seed=1 to the announce_peer queries for it, so that other
// nodes' scrapes count a Shoal seeder among the seeds, not the
// downloaders.

// ScrapeSource is a peer store as BEP 33 sees it.
type ScrapeSource interface {
	// ScrapeFilters returns the Bloom filters of the IPs stored for ih,
	// seeds and downloaders apart; ok is false when none are stored.
	ScrapeFilters(ih [20]byte) (seeds, downloaders krpc.ScrapeBloomFilter, ok bool)
	// MarkSeed notes that peer announced ih with the seed flag. The
	// server stores the peer itself afterwards, if the token is good.
	MarkSeed(ih [20]byte, peer krpc.NodeAddr)
	// SeedPeers returns the stored peers of ih that announced as seeds
	// (host:port, as krpc.NodeAddr.String gives it).
	SeedPeers(ih [20]byte) map[string]bool
}

const (
	// maxPendingScrapes bounds the scrape answers waiting for the
	// library's reply, so that a flood of scrape queries costs bounded
	// memory.
	maxPendingScrapes = 256
	// pendingScrapeTTL is how long one waits: the library replies at
	// once, so a longer wait means it did not reply at all.
	pendingScrapeTTL = 5 * time.Second
)

type scrapeKey struct{ addr, t string }

// pendingScrape is what the library's answer to one query gets: the
// scrape filters, or (for a get_peers with noseed=1) the seeds to leave
// out of its values.
type pendingScrape struct {
	seeds, downloaders krpc.ScrapeBloomFilter
	dropSeeds          map[string]bool // noseed=1: nil for a scrape
	at                 time.Time
}

// scrapeConn is a DHT server's socket with BEP 33 added (see above).
type scrapeConn struct {
	net.PacketConn
	src ScrapeSource
	r   *Responder

	mu      sync.Mutex
	pending map[scrapeKey]*pendingScrape
}

// Attach wraps a DHT server's socket pc for BEP 33 scrapes answered from
// src, and returns it (give it to the server as its Conn) with the
// server's OnQuery hook, which answers BEP 51 as Hook does and notes
// scrape queries. Without src it is Hook on pc.
func (r *Responder) Attach(pc net.PacketConn, ref *ServerRef, src ScrapeSource) (net.PacketConn, func(*krpc.Msg, net.Addr) bool) {
	if src == nil {
		return pc, r.Hook(pc, ref)
	}
	sc := &scrapeConn{PacketConn: pc, src: src, r: r, pending: make(map[scrapeKey]*pendingScrape)}
	return sc, r.hook(sc, ref, sc)
}

// ReadFrom reads a datagram, noting the seed flag of an announce_peer.
func (c *scrapeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.noteSeed(b[:n], addr)
	}
	return n, addr, err
}

// announceArgs is what noteSeed reads of an announce_peer.
type announceArgs struct {
	Q string `bencode:"q"`
	A struct {
		InfoHash    krpc.ID `bencode:"info_hash"`
		Port        *int    `bencode:"port"`
		ImpliedPort bool    `bencode:"implied_port"`
		Seed        int     `bencode:"seed"`
	} `bencode:"a"`
}

var (
	announceTag = []byte("13:announce_peer")
	seedTag     = []byte("4:seedi1e")
)

// noteSeed tells the store about an announce_peer from addr carrying
// seed=1. Other datagrams are only scanned for the two tags.
func (c *scrapeConn) noteSeed(p []byte, addr net.Addr) {
	if !bytes.Contains(p, announceTag) || !bytes.Contains(p, seedTag) {
		return
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return
	}
	var m announceArgs
	if bencode.Unmarshal(p, &m) != nil || m.Q != "announce_peer" || m.A.Seed != 1 {
		return
	}
	port := ua.Port
	if !m.A.ImpliedPort {
		if m.A.Port == nil || *m.A.Port <= 0 || *m.A.Port > 65535 {
			return
		}
		port = *m.A.Port
	}
	c.src.MarkSeed(m.A.InfoHash, krpc.NodeAddr{IP: ua.IP, Port: port})
}

// expect notes a scrape query from source: the library's answer to it
// gets the store's filters for ih. Called by the hook (server locked), as
// the library calls the store's GetPeers.
func (c *scrapeConn) expect(source net.Addr, t string, ih [20]byte) {
	seeds, downloaders, ok := c.src.ScrapeFilters(ih)
	if ok {
		c.add(source, t, &pendingScrape{seeds: seeds, downloaders: downloaders})
	}
}

// expectNoSeed notes a get_peers with BEP 33's noseed=1 from source: the
// seeds are left out of the library's answer to it.
func (c *scrapeConn) expectNoSeed(source net.Addr, t string, ih [20]byte) {
	if seeds := c.src.SeedPeers(ih); len(seeds) > 0 {
		c.add(source, t, &pendingScrape{dropSeeds: seeds})
	}
}

func (c *scrapeConn) add(source net.Addr, t string, p *pendingScrape) {
	now := time.Now()
	p.at = now
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.pending {
		if now.Sub(p.at) > pendingScrapeTTL || len(c.pending) >= maxPendingScrapes {
			delete(c.pending, k)
		}
	}
	c.pending[scrapeKey{source.String(), t}] = p
}

// WriteTo sends a datagram; the answer to a noted scrape query goes with
// the filters added, and an announce_peer for a torrent announced as a
// seed with the seed flag.
func (c *scrapeConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	nb, ok := c.withFilters(b, addr)
	if !ok {
		nb, ok = c.asSeed(b)
	}
	if ok {
		if _, err := c.PacketConn.WriteTo(nb, addr); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

// withFilters returns b with the filters of its pending scrape, if it is
// the answer to one.
func (c *scrapeConn) withFilters(b []byte, addr net.Addr) ([]byte, bool) {
	if !c.waitingFor(addr) {
		return nil, false
	}
	var m krpc.Msg
	if bencode.Unmarshal(b, &m) != nil || m.Y != krpc.YResponse || m.R == nil {
		return nil, false
	}
	p := c.take(scrapeKey{addr.String(), m.T})
	if p == nil {
		return nil, false
	}
	if p.dropSeeds != nil {
		if !dropSeeds(m.R, p.dropSeeds) {
			return nil, false
		}
	} else {
		m.R.Values = nil
		m.R.BFsd, m.R.BFpe = &p.seeds, &p.downloaders
	}
	nb, err := bencode.Marshal(m)
	return nb, err == nil
}

// dropSeeds leaves the seeds out of r's values, unless every value is a
// seed: then the answer stays as the library made it, for an answer with
// neither values nor nodes would stall the querier's traversal. It
// reports whether r changed.
func dropSeeds(r *krpc.Return, seeds map[string]bool) bool {
	kept := r.Values[:0:0]
	for _, v := range r.Values {
		if !seeds[v.String()] {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 || len(kept) == len(r.Values) {
		return false
	}
	r.Values = kept
	return true
}

// waitingFor reports whether a scrape answer to addr is pending (most
// writes are not answers to one, and are not decoded).
func (c *scrapeConn) waitingFor(addr net.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return false
	}
	a := addr.String()
	for k := range c.pending {
		if k.addr == a {
			return true
		}
	}
	return false
}

// asSeed returns b with seed=1 if it is an announce_peer for a torrent
// announced as a seed.
func (c *scrapeConn) asSeed(b []byte) ([]byte, bool) {
	if !bytes.Contains(b, announceTag) || !c.r.seeding.any() {
		return nil, false
	}
	var m map[string]any
	if bencode.Unmarshal(b, &m) != nil || m["q"] != "announce_peer" {
		return nil, false
	}
	a, _ := m["a"].(map[string]any)
	ih, _ := a["info_hash"].(string)
	if len(ih) != 20 || !c.r.seeding.has([20]byte([]byte(ih))) {
		return nil, false
	}
	a["seed"] = 1
	nb, err := bencode.Marshal(m)
	return nb, err == nil
}

// seedSet holds the torrents announced as seeds lately.
type seedSet struct {
	mu sync.Mutex
	at map[[20]byte]time.Time
}

// seedAnnounceTTL is how long AnnounceAsSeed holds: past one announce
// traversal (15 s at most).
const seedAnnounceTTL = time.Minute

func (s *seedSet) add(ih [20]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at == nil {
		s.at = make(map[[20]byte]time.Time)
	}
	now := time.Now()
	for k, at := range s.at {
		if now.Sub(at) > seedAnnounceTTL {
			delete(s.at, k)
		}
	}
	s.at[ih] = now
}

func (s *seedSet) any() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.at) > 0
}

func (s *seedSet) has(ih [20]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.at[ih]
	return ok && time.Since(at) <= seedAnnounceTTL
}

// AnnounceAsSeed makes the announce_peer queries for ih sent within the
// next minute, on the sockets Attach wrapped, carry BEP 33's seed flag.
// Call it before announcing a torrent this node has whole.
func (r *Responder) AnnounceAsSeed(ih [20]byte) { r.seeding.add(ih) }

func (c *scrapeConn) take(k scrapeKey) *pendingScrape {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending[k]
	delete(c.pending, k)
	return p
}
