package dhtindex

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
	"github.com/anacrolix/torrent/bencode"
	"golang.org/x/time/rate"
)

// BEP 51 limits of one answer.
const (
	// MaxSamples is the most infohashes one sample_infohashes answer
	// carries (20 × 20 bytes keeps the datagram well under 1,400 bytes).
	MaxSamples = 20
	// closestNodes is how many nodes an answer carries ("nodes", as for
	// find_node).
	closestNodes = 8
	// DefaultInterval is how long an indexer should wait before asking the
	// same node again; the sample is redrawn that often.
	DefaultInterval = 5 * time.Minute
	// SmallStoreInterval is answered instead while the store holds fewer
	// than MaxSamples infohashes: the sample is then the whole store,
	// redrawn at every query, so a new announce shows at once.
	SmallStoreInterval = 30 * time.Second
	// maxInterval is BEP 51's upper bound for "interval".
	maxInterval = 6 * time.Hour
)

// SampleSource is where a node's sample comes from: the engine's peer
// store (infohashes announced to this node).
type SampleSource interface {
	// SampleInfohashes returns up to max infohashes (the engine's store
	// walks them in order from one call to the next) and the number the
	// store holds in all.
	SampleInfohashes(max int) (samples [][20]byte, total int)
}

// Query is one get_peers or announce_peer this node received: what the
// indexer learns infohashes from.
type Query struct {
	Method   string // "get_peers" or "announce_peer"
	InfoHash [20]byte
	From     net.IP
	// Peer is the announced peer's host:port (announce_peer with a port).
	Peer string
}

// ResponderConfig sets up a Responder.
type ResponderConfig struct {
	Source SampleSource
	// Interval is the "interval" answered (default DefaultInterval).
	Interval time.Duration
	// RepliesPerSecond caps sample_infohashes answers (default 100), so
	// that spoofed queries cannot turn the node into an amplifier.
	RepliesPerSecond float64
	// Observe, when set, receives every get_peers and announce_peer
	// query. It is called on the DHT server's receive path with the
	// server locked: it must not block or call into the server.
	Observe func(Query)
	Logger  *slog.Logger
}

// Responder answers BEP 51 sample_infohashes for one or more DHT servers
// (one per address family) that share a sample.
type Responder struct {
	cfg     ResponderConfig
	limiter *rate.Limiter

	seeding seedSet // torrents announced as seeds lately (scrape.go)

	mu      sync.Mutex
	sample  [][20]byte
	total   int
	drawnAt time.Time
}

// NewResponder returns a Responder drawing its samples from cfg.Source.
func NewResponder(cfg ResponderConfig) *Responder {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	cfg.Interval = min(cfg.Interval, maxInterval)
	if cfg.RepliesPerSecond <= 0 {
		cfg.RepliesPerSecond = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Responder{cfg: cfg, limiter: rate.NewLimiter(rate.Limit(cfg.RepliesPerSecond), 20)}
}

// ServerRef gives the hook the server it belongs to, which exists only
// after its config (holding the hook) was made. Set it before the server
// receives anything; a query arriving before then is answered by the
// library as unknown.
type ServerRef struct {
	mu sync.Mutex
	s  *dht.Server
}

// Set records the server.
func (r *ServerRef) Set(s *dht.Server) {
	r.mu.Lock()
	r.s = s
	r.mu.Unlock()
}

func (r *ServerRef) get() *dht.Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s
}

// Hook returns a dht.ServerConfig.OnQuery function for the server in ref,
// which answers sample_infohashes itself on conn (the server's own socket)
// and passes every other query on to the library. Each server (IPv4, IPv6)
// gets its own hook; they share the Responder's sample.
func (r *Responder) Hook(conn net.PacketConn, ref *ServerRef) func(*krpc.Msg, net.Addr) bool {
	return r.hook(conn, ref, nil)
}

// hook is Hook, noting BEP 33 scrape queries on sc when it is set.
func (r *Responder) hook(conn net.PacketConn, ref *ServerRef, sc *scrapeConn) func(*krpc.Msg, net.Addr) bool {
	return func(m *krpc.Msg, source net.Addr) bool {
		switch m.Q {
		case "sample_infohashes":
			s := ref.get()
			if s == nil {
				return true
			}
			if !r.limiter.Allow() {
				return false // dropped, as an overloaded node would
			}
			// The server holds its lock while calling us: build the
			// answer (which reads its routing table) on another goroutine.
			q := *m
			go r.answer(s, conn, q, source)
			return false
		case "get_peers":
			r.observe(m, source)
			switch {
			case sc == nil || m.A == nil:
			case m.A.Scrape != 0:
				sc.expect(source, m.T, m.A.InfoHash)
			case m.A.NoSeed != 0:
				sc.expectNoSeed(source, m.T, m.A.InfoHash)
			}
		case "announce_peer":
			r.observe(m, source)
		}
		return true
	}
}

func (r *Responder) observe(m *krpc.Msg, source net.Addr) {
	if r.cfg.Observe == nil || m.A == nil {
		return
	}
	ua, ok := source.(*net.UDPAddr)
	if !ok {
		return
	}
	q := Query{Method: m.Q, InfoHash: m.A.InfoHash, From: ua.IP}
	if m.Q == "announce_peer" {
		port := 0
		if m.A.Port != nil {
			port = *m.A.Port
		}
		if m.A.ImpliedPort {
			port = ua.Port
		}
		if port > 0 && port < 65536 {
			q.Peer = (&net.TCPAddr{IP: ua.IP, Port: port}).String()
		}
	}
	r.cfg.Observe(q)
}

// answer sends the reply to one sample_infohashes query.
func (r *Responder) answer(s *dht.Server, conn net.PacketConn, q krpc.Msg, source net.Addr) {
	b, err := r.Reply(s.ID(), s.Nodes(), q, source)
	if err != nil {
		r.cfg.Logger.Debug("encode sample_infohashes answer", "err", err)
		return
	}
	if _, err := conn.WriteTo(b, source); err != nil {
		r.cfg.Logger.Debug("send sample_infohashes answer", "to", source.String(), "err", err)
	}
}

// sampleAnswer is a BEP 51 answer as sent. The library's own
// krpc.CompactInfohashes does not encode, so samples are written here as
// the concatenated 20-byte infohashes.
type sampleAnswer struct {
	T  string        `bencode:"t"`
	Y  string        `bencode:"y"`
	R  sampleReturn  `bencode:"r"`
	IP krpc.NodeAddr `bencode:"ip,omitempty"`
}

type sampleReturn struct {
	ID       krpc.ID                  `bencode:"id"`
	Interval int64                    `bencode:"interval"`
	Nodes    krpc.CompactIPv4NodeInfo `bencode:"nodes,omitempty"`
	Nodes6   krpc.CompactIPv6NodeInfo `bencode:"nodes6,omitempty"`
	Num      int64                    `bencode:"num"`
	Samples  []byte                   `bencode:"samples"`
}

// Reply encodes the answer to a sample_infohashes query q from source, as
// node id with routing table nodes: an error without arguments, else
// samples, num, interval and the nodes closest to the target of the
// family the query came over (or that "want" names).
func (r *Responder) Reply(id [20]byte, nodes []krpc.NodeInfo, q krpc.Msg, source net.Addr) ([]byte, error) {
	if q.A == nil {
		return bencode.Marshal(krpc.Msg{T: q.T, Y: krpc.YError,
			E: &krpc.Error{Code: krpc.ErrorCodeProtocolError, Msg: "sample_infohashes needs a target"}})
	}
	samples, total := r.current()
	interval := r.interval(total)
	a := sampleAnswer{T: q.T, Y: krpc.YResponse, R: sampleReturn{
		ID:       id,
		Interval: int64(interval / time.Second),
		Num:      int64(total),
		Samples:  make([]byte, 0, 20*len(samples)),
	}}
	for _, h := range samples {
		a.R.Samples = append(a.R.Samples, h[:]...)
	}
	v4, v6 := wantFamilies(q.A.Want, source)
	if v4 {
		a.R.Nodes = closest(nodes, q.A.Target, true)
	}
	if v6 {
		a.R.Nodes6 = closest(nodes, q.A.Target, false)
	}
	if ua, ok := source.(*net.UDPAddr); ok {
		a.IP = krpc.NodeAddr{IP: ua.IP, Port: ua.Port}
	}
	b, err := bencode.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("dhtindex: encode sample_infohashes answer: %w", err)
	}
	return b, nil
}

// interval is how long a sample is kept for a store of total infohashes:
// short enough that a store walked sample by sample is seen whole within
// the configured interval (so a node with many infohashes does not take
// hours to survey), but never under SmallStoreInterval, nor above the
// configured interval.
func (r *Responder) interval(total int) time.Duration {
	if total < MaxSamples {
		return min(r.cfg.Interval, SmallStoreInterval)
	}
	d := r.cfg.Interval * MaxSamples / time.Duration(total)
	return max(min(d, r.cfg.Interval), min(r.cfg.Interval, SmallStoreInterval)).Round(time.Second)
}

// current returns the sample, redrawn once per interval, or at every
// query while the store holds fewer than MaxSamples (then the sample is
// the whole store, and drawing it is cheap). The store is asked with r.mu
// released: it has its own lock, and a query waiting for a slow draw
// should not hold up Redraw or the other answers. Two queries that find a
// draw due at once both draw; the later draw is kept.
func (r *Responder) current() ([][20]byte, int) {
	r.mu.Lock()
	due := r.drawnAt.IsZero() || time.Since(r.drawnAt) >= r.interval(r.total) || r.total < MaxSamples
	sample, total := slices.Clone(r.sample), r.total
	r.mu.Unlock()
	if !due {
		return sample, total
	}
	sample, total = r.draw()
	r.mu.Lock()
	r.sample, r.total, r.drawnAt = sample, total, time.Now()
	r.mu.Unlock()
	return slices.Clone(sample), total
}

// draw asks the store for a sample of at most MaxSamples.
func (r *Responder) draw() ([][20]byte, int) {
	if r.cfg.Source == nil {
		return nil, 0
	}
	sample, total := r.cfg.Source.SampleInfohashes(MaxSamples)
	if len(sample) > MaxSamples {
		sample = sample[:MaxSamples]
	}
	return sample, total
}

// Redraw makes the next answer draw a fresh sample (tests, and the engine
// when the store was empty at the last draw).
func (r *Responder) Redraw() {
	r.mu.Lock()
	r.drawnAt = time.Time{}
	r.mu.Unlock()
}

// wantFamilies applies BEP 32's "want": without it, the family of the
// query's own address.
func wantFamilies(want []krpc.Want, source net.Addr) (v4, v6 bool) {
	for _, w := range want {
		switch w {
		case krpc.WantNodes:
			v4 = true
		case krpc.WantNodes6:
			v6 = true
		}
	}
	if v4 || v6 {
		return v4, v6
	}
	if ua, ok := source.(*net.UDPAddr); ok && ua.IP.To4() == nil {
		return false, true
	}
	return true, false
}

// closest returns the closestNodes nodes of one family nearest target.
func closest(nodes []krpc.NodeInfo, target [20]byte, v4 bool) []krpc.NodeInfo {
	var fam []krpc.NodeInfo
	for _, n := range nodes {
		if (n.Addr.IP.To4() != nil) == v4 && n.Addr.Port > 0 {
			fam = append(fam, n)
		}
	}
	slices.SortFunc(fam, func(a, b krpc.NodeInfo) int {
		da, db := xor(a.ID, target), xor(b.ID, target)
		return bytes.Compare(da[:], db[:])
	})
	return fam[:min(len(fam), closestNodes)]
}

func xor(a, b [20]byte) (d [20]byte) {
	for i := range a {
		d[i] = a[i] ^ b[i]
	}
	return d
}
