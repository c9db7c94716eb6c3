package overlay

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/internal/locks"
)

// Defaults for SupernodeConfig.
const (
	DefaultMaxHops           = 4
	DefaultMaxLeaves         = 300
	DefaultMinNeighbours     = 12
	DefaultMaxNeighbours     = 32
	DefaultMaxEntriesPerLeaf = 10000
	DefaultQueryRate         = 2 // queries per second per leaf
	DefaultQueryBurst        = 5
	DefaultRefindInterval    = 5 * time.Second
)

// Tuning that callers do not set.
const (
	routeTTL        = 2 * time.Minute
	routeMax        = 20000
	neighbourRate   = 500 // queries per second from one neighbour (they relay for many)
	neighbourBurst  = 1000
	finderTimeout   = 5 * time.Second
	dialBackoff     = 3 * time.Second
	localLeafID     = 0
	dropLeafTimeout = 5 * time.Second
	hitsFrameBudget = 256 << 10
	localLeafQuota  = math.MaxInt
)

// ErrClosed means the supernode has been closed.
var ErrClosed = errors.New("overlay: supernode closed")

// SupernodeConfig configures a Supernode. Zero limits take the defaults.
type SupernodeConfig struct {
	Addr              string        // our advertised host:port (== BitTorrent listen address)
	IndexPath         string        // SQLite file for the FTS5 index (DHT entries kept across restarts, leaf shares not); "" keeps it in memory
	Dial              Dialer        // required when Finder is set
	Finder            Finder        // nil: no links to other supernodes are made (inbound ones are still taken)
	MaxHops           int           // default 4: how many supernode-to-supernode hops a query travels
	MaxLeaves         int           // default 300
	MinNeighbours     int           // default DefaultMinNeighbours: Run dials until it has this many links
	MaxNeighbours     int           // default 32: links (dialled and accepted) at most
	MaxEntriesPerLeaf int           // default 10000
	QueryRate         float64       // per-leaf queries per second, default 2
	QueryBurst        int           // per-leaf burst, default 5
	RefindInterval    time.Duration // how often Run asks the Finder, default 5s
	AdvertInterval    time.Duration // at most one advert of ours per interval, default 1s
	Auto              bool          // start as a leaf; promote and demote at run time (see Promotion)
	Promotion         Promotion     // tuning of automatic roles
	Logger            *slog.Logger  // nil: no logging
	// DialBack, if set, answers probes and dial-back requests (see
	// DialBack); without it probes are welcomed and requests refused.
	DialBack *DialBack
}

func (c *SupernodeConfig) setDefaults() {
	setDefault(&c.MaxHops, DefaultMaxHops)
	setDefault(&c.MaxLeaves, DefaultMaxLeaves)
	setDefault(&c.MaxNeighbours, DefaultMaxNeighbours)
	setDefault(&c.MinNeighbours, min(DefaultMinNeighbours, c.MaxNeighbours))
	setDefault(&c.AdvertInterval, DefaultAdvertInterval)
	setDefault(&c.MaxEntriesPerLeaf, DefaultMaxEntriesPerLeaf)
	setDefault(&c.QueryBurst, DefaultQueryBurst)
	setDefault(&c.RefindInterval, DefaultRefindInterval)
	c.Promotion.setDefaults(c.MaxLeaves, c.MaxNeighbours)
	if c.QueryRate <= 0 {
		c.QueryRate = DefaultQueryRate
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Stats counts what a supernode did with queries; tests and the UI read it.
type Stats struct {
	QueriesReceived   uint64 // distinct queries taken in (from leaves, neighbours, the local leaf)
	QueriesAnswered   uint64 // queries answered from our own index
	QueriesMatched    uint64 // ... of which our index had hits
	QueriesForwarded  uint64 // query frames queued to neighbours
	QueriesFiltered   uint64 // supernodes within reach a query we planned was not sent to: their table cannot match
	RelaysPlanned     uint64 // supernodes on our delivery trees only to pass a query on
	RoutesRepaired    uint64 // subtrees re-planned because a child link had gone
	DuplicatesDropped uint64 // queries dropped because their UUID was already seen
	HitsRouted        uint64 // hit frames passed back along a reverse path
	TargetsLost       uint64 // supernodes a query was planned for that we could not pass it on to
	HitsUnroutable    uint64 // hit frames dropped: their query's reverse path was unknown or closed
	RateLimited       uint64 // queries dropped for exceeding a rate
	AdvertsSent       uint64 // adverts of our own sent
	AdvertsReceived   uint64 // new adverts of others taken in (and flooded on)
	TablesRefused     uint64 // adverts refused for a keyword table over the limits
	Supernodes        int    // supernodes known through adverts, ourselves excluded
	TableBits         int    // size (log2) of our keyword table, 0 before the first advert
	TableKeys         int    // distinct keys in our keyword table
	Invites           uint64 // leaves invited to become supernodes
	Promotions        uint64 // times this node became a supernode
	Demotions         uint64 // times it stepped down
	Sent              Traffic
}

type stats struct {
	received, answered, matched, forwarded, filtered, relays, repaired, duplicates, routed, limited atomic.Uint64
	targetsLost, unroutable                                                                         atomic.Uint64
	advertsSent, advertsReceived, tablesRefused                                                     atomic.Uint64
	invites, promotions, demotions                                                                  atomic.Uint64
	roleChecks                                                                                      atomic.Uint64 // roleLoop's looks, for tests
}

// Supernode indexes its leaves' shares, answers and forwards queries.
type Supernode struct {
	cfg    SupernodeConfig
	log    *slog.Logger
	idx    *index
	routes *routeTable
	stats  stats
	kick   chan struct{}
	conns  sync.WaitGroup // every ServeConn and outbound link
	adv    *advertStore
	sent   traffic

	advKick chan struct{}
	ownMu   locks.Mutex
	own     ownAdvert

	routeMu     locks.Mutex
	routeCache  routeGraph // strict: routes follow links both ends list
	looseCache  *bgraph    // loose: broadcast trees
	routeAdvVer uint64
	routeNbVer  uint64
	routeBuilt  time.Time
	treeKids    map[string][]string // broadcast-tree children per root, for routeCache

	mu         locks.Mutex
	closed     bool
	leaves     map[int64]*leafConn
	neighbours map[string]*neighbour
	dialing    map[string]bool
	backoff    map[string]time.Time
	known      []string // last Finder answer, and seeds from our leaf
	cached     []string // neighbours the Finder's cache was last told
	nextLeaf   int64
	nbVersion  uint64 // bumped when the neighbour set changes

	// roles (see roles.go)
	reachable atomic.Bool
	// aloneUnreachable is set once the node, alone, declined to promote
	// itself for want of reachability.
	aloneUnreachable atomic.Bool
	roleKick         chan struct{}
	roleCh           chan struct{} // closed at the next role change
	active           bool
	started          time.Time
	activeAt         time.Time
	demotedAt        time.Time
	invitedAt        time.Time
	aloneSince       time.Time
	aloneWait        time.Duration
	lowSince         time.Time
	lastInvite       time.Time
}

// NewSupernode opens the index (keeping its DHT entries) and returns a supernode ready
// for ServeConn and Run.
func NewSupernode(cfg SupernodeConfig) (*Supernode, error) {
	cfg.setDefaults()
	if err := checkHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("overlay: new supernode: %w", err)
	}
	if cfg.Finder != nil && cfg.Dial == nil {
		return nil, errors.New("overlay: new supernode: Finder set without Dial")
	}
	idx, err := openIndex(cfg.IndexPath, cfg.Logger)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &Supernode{
		active:     !cfg.Auto,
		started:    now,
		activeAt:   now,
		roleKick:   make(chan struct{}, 1),
		roleCh:     make(chan struct{}),
		cfg:        cfg,
		log:        cfg.Logger,
		idx:        idx,
		routes:     newRouteTable(routeMax, routeTTL),
		kick:       make(chan struct{}, 1),
		adv:        newAdvertStore(),
		advKick:    make(chan struct{}, 1),
		leaves:     make(map[int64]*leafConn),
		neighbours: make(map[string]*neighbour),
		dialing:    make(map[string]bool),
		backoff:    make(map[string]time.Time),
		nextLeaf:   localLeafID + 1,
	}, nil
}

// Addr returns the advertised address.
func (s *Supernode) Addr() string { return s.cfg.Addr }

// Leaves returns the number of remote leaves registered (the in-process
// local leaf is not counted).
func (s *Supernode) Leaves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.leaves)
}

// Neighbours returns the addresses of linked supernodes, sorted.
func (s *Supernode) Neighbours() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.neighbours)
}

// sortedKeys returns m's keys sorted; never nil.
func sortedKeys[V any](m map[string]V) []string {
	out := slices.AppendSeq(make([]string, 0, len(m)), maps.Keys(m))
	slices.Sort(out)
	return out
}

// SawQuery reports whether query id reached us lately (within the route
// table's memory), whatever we did with it.
func (s *Supernode) SawQuery(id uuid.UUID) bool {
	_, ok := s.routes.lookup(id, time.Now())
	return ok
}

// Stats returns a copy of the counters.
func (s *Supernode) Stats() Stats {
	st := Stats{
		QueriesReceived:   s.stats.received.Load(),
		QueriesAnswered:   s.stats.answered.Load(),
		QueriesMatched:    s.stats.matched.Load(),
		QueriesForwarded:  s.stats.forwarded.Load(),
		QueriesFiltered:   s.stats.filtered.Load(),
		RelaysPlanned:     s.stats.relays.Load(),
		RoutesRepaired:    s.stats.repaired.Load(),
		DuplicatesDropped: s.stats.duplicates.Load(),
		HitsRouted:        s.stats.routed.Load(),
		TargetsLost:       s.stats.targetsLost.Load(),
		HitsUnroutable:    s.stats.unroutable.Load(),
		RateLimited:       s.stats.limited.Load(),
		Invites:           s.stats.invites.Load(),
		Promotions:        s.stats.promotions.Load(),
		Demotions:         s.stats.demotions.Load(),
		AdvertsSent:       s.stats.advertsSent.Load(),
		AdvertsReceived:   s.stats.advertsReceived.Load(),
		TablesRefused:     s.stats.tablesRefused.Load(),
	}
	st.Supernodes, _, _ = s.adv.load()
	s.ownMu.Lock()
	if s.own.table != nil {
		st.TableBits = int(s.own.table.bits)
	}
	s.ownMu.Unlock()
	st.TableKeys = s.idx.kw.size()
	st.Sent = s.sent.read()
	return st
}

// Close ends every link, waits for their goroutines (ServeConn calls
// included) and closes the index. Cancel Run's context first.
func (s *Supernode) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var links []*link
	for _, lc := range s.leaves {
		links = append(links, lc.ln)
	}
	for _, n := range s.neighbours {
		links = append(links, n.ln)
	}
	s.mu.Unlock()
	for _, l := range links {
		l.close()
	}
	s.conns.Wait()
	return s.idx.close()
}

// track registers one more link goroutine unless the supernode is closed.
func (s *Supernode) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns.Add(1)
	return true
}

// otherSupernodes lists supernodes a refused leaf could try instead: the
// roomiest known from adverts first, then neighbours and Finder answers.
func (s *Supernode) otherSupernodes() []string {
	out := s.adv.roomiest(maxListedSupers / 2)
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := range s.neighbours {
		if slices.Contains(out, a) {
			continue
		}
		out = append(out, a)
	}
	for _, a := range s.known {
		if a != s.cfg.Addr && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out[:min(len(out), maxListedSupers)]
}

// wake asks Run to look for neighbours now.
func (s *Supernode) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func newLimiter(perSec float64, burst int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSec), burst)
}
