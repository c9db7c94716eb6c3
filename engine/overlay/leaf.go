package overlay

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shoalp2p/shoal/internal/locks"
)

// DefaultLinks is how many supernodes a leaf stays linked to by default.
const DefaultLinks = 2

// Leaf timings and bounds.
const (
	leafTick          = time.Second     // how often Run checks its links
	leafRefind        = 5 * time.Second // how long a Finder answer is reused
	leafFullBackoff   = 30 * time.Second
	leafFailBackoff   = 3 * time.Second // after a failed dial; doubles with each failure in a row
	leafFailDoublings = 4               // up to 16 times leafFailBackoff
	maxFailsTracked   = 1024
	maxRedirects      = 64
	shareFrameBudget  = 256 << 10
	localApplyTimeout = 30 * time.Second
)

// Sentinel errors of a Leaf.
var (
	// ErrNoSupernodes means the leaf is linked to no supernode yet.
	ErrNoSupernodes = errors.New("overlay: not linked to any supernode")
	// ErrLeafStopped means Run has returned.
	ErrLeafStopped = errors.New("overlay: leaf stopped")
)

// LeafConfig configures a Leaf.
type LeafConfig struct {
	PeerAddr string // our BitTorrent host:port; supernodes record our observed IP + this port
	Dial     Dialer // required unless Local is set
	Finder   Finder // required unless Local is set
	// Local is the node's own Supernode, if it runs one: the leaf keeps
	// its shares in that index whatever the role, and searches through it
	// in-process while it is active, through remote supernodes (Dial and
	// Finder) while it is not.
	Local *Supernode
	Links int // supernodes to stay linked to, default 2
	// AnswerTimeout ends a search whose supernodes have not all answered;
	// default DefaultAnswerTimeout.
	AnswerTimeout time.Duration
	Logger        *slog.Logger
}

// Leaf registers this node's shares with supernodes and searches through them.
type Leaf struct {
	cfg     LeafConfig
	log     *slog.Logger
	sent    traffic
	changed chan struct{} // SetShares → the local apply loop
	linkEnd chan struct{} // a link ended → Run
	stop    chan struct{} // closed when Run returns
	wg      sync.WaitGroup

	mu        locks.Mutex
	started   bool
	stopped   bool
	shares    map[[20]byte]Entry // replaced whole, never mutated; nil until SetShares
	links     map[string]*leafLink
	searches  map[uuid.UUID]*search
	redirects []string
	backoff   map[string]time.Time
	fails     map[string]int // failed dials in a row per supernode (the back-off doubles)
	found     []string
	foundAt   time.Time
	recent    []string // supernodes linked lately, newest last
	cached    []string // what the Finder's cache was last told
}

// leafLink is the leaf's link to one supernode. One link is the primary:
// searches go there and its supernode puts our entries in its keyword
// table. The others are standbys: they hold our entries too, so that when
// the primary dies one of them takes over at once with a "mode" frame.
type leafLink struct {
	addr    string
	ln      *link
	kick    chan struct{} // shares changed
	standby bool          // guarded by Leaf.mu
}

// NewLeaf returns a leaf; call Run to link it.
func NewLeaf(cfg LeafConfig) *Leaf {
	setDefault(&cfg.Links, DefaultLinks)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Leaf{
		cfg:      cfg,
		log:      cfg.Logger,
		changed:  make(chan struct{}, 1),
		linkEnd:  make(chan struct{}, 1),
		stop:     make(chan struct{}),
		links:    make(map[string]*leafLink),
		searches: make(map[uuid.UUID]*search),
		backoff:  make(map[string]time.Time),
		fails:    make(map[string]int),
	}
}

// SetShares replaces the full list of shared entries. Linked supernodes get
// only the changes; a new link gets the whole list. Over-long names and
// paths are cut and at most 200 paths per entry are kept.
func (l *Leaf) SetShares(entries []Entry) {
	m := make(map[[20]byte]Entry, len(entries))
	for _, e := range entries {
		e = trimEntry(e)
		if e.Name == "" {
			e.Name = hex.EncodeToString(e.InfoHash[:])
		}
		e.Files = slices.Clone(e.Files)
		m[e.InfoHash] = e
	}
	l.mu.Lock()
	l.shares = m
	for _, ll := range l.links {
		poke(ll.kick)
	}
	l.mu.Unlock()
	poke(l.changed)
}

// Traffic returns what the leaf has sent on its supernode links.
func (l *Leaf) Traffic() Traffic { return l.sent.read() }

// Supernodes returns the addresses of the supernodes currently linked, sorted.
func (l *Leaf) Supernodes() []string {
	if l.cfg.Local != nil && l.cfg.Local.Active() {
		return []string{l.cfg.Local.Addr()}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return sortedKeys(l.links)
}

// Run links the leaf to supernodes and keeps its shares registered there,
// replacing a supernode within seconds when one dies or is full. It returns
// nil once ctx ends and everything it started (searches included) stopped.
func (l *Leaf) Run(ctx context.Context) error {
	if err := l.checkConfig(); err != nil {
		return err
	}
	l.mu.Lock()
	if l.started {
		l.mu.Unlock()
		return errors.New("overlay: leaf: Run called twice")
	}
	l.started = true
	l.mu.Unlock()
	defer l.finish()
	if l.cfg.Local != nil {
		return l.runModes(ctx)
	}
	return l.runRemote(ctx)
}

// runModes follows the role of the node's own Supernode: while it is a
// supernode the leaf searches through it in-process; while it is not, it
// registers and searches through remote supernodes like any leaf. Its
// shares are kept in the local index whatever the role (runLocal), so the
// cost of indexing a library is paid when it is shared, once, and not at
// each promotion.
func (l *Leaf) runModes(ctx context.Context) error {
	s := l.cfg.Local
	var local sync.WaitGroup
	defer local.Wait()
	local.Add(1)
	go func() {
		defer local.Done()
		l.runLocal(ctx)
	}()
	for ctx.Err() == nil {
		changed := s.RoleChanged()
		active := s.Active()
		sub, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-changed:
				cancel()
			case <-sub.Done():
			}
		}()
		switch {
		case active:
			<-sub.Done()
		case l.cfg.Dial != nil && l.cfg.Finder != nil:
			l.runRemote(sub)
			s.addKnown(l.recentLinks())
		default:
			<-sub.Done()
		}
		cancel()
		wg.Wait()
	}
	return nil
}

func (l *Leaf) checkConfig() error {
	if _, err := peerPort(l.cfg.PeerAddr); err != nil {
		return err
	}
	if l.cfg.Local == nil && (l.cfg.Dial == nil || l.cfg.Finder == nil) {
		return errors.New("overlay: leaf: Dial and Finder are required without Local")
	}
	if l.cfg.Local != nil && l.cfg.Local.cfg.Auto && (l.cfg.Dial == nil || l.cfg.Finder == nil) {
		return errors.New("overlay: leaf: Dial and Finder are required with an automatic Local")
	}
	return nil
}

// finish marks the leaf stopped and waits for its searches.
func (l *Leaf) finish() {
	l.mu.Lock()
	l.stopped = true
	close(l.stop)
	l.mu.Unlock()
	l.wg.Wait()
}

func peerPort(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("overlay: leaf peer address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("overlay: leaf peer address %q: bad port", addr)
	}
	return port, nil
}

// runLocal keeps the in-process supernode's copy of our shares current,
// whatever its role.
// It starts from the entries the index kept from an earlier run or role
// (storedLocal), so a restart with an unchanged library writes nothing, and
// diffs nothing until the owner has set the shares once (until then it
// does not know them, and would delete the kept ones). It leaves the
// entries in the index when it ends.
func (l *Leaf) runLocal(ctx context.Context) error {
	s := l.cfg.Local
	sent, err := s.storedLocal(ctx, l.cfg.PeerAddr)
	if err != nil {
		l.log.Warn("overlay: read local shares", "err", err)
		if err := s.clearLocal(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("overlay: clear local shares", "err", err)
		}
		sent = map[[20]byte]Entry{}
	}
	for {
		want := l.snapshot()
		add, del := diffShares(want, sent)
		if want != nil && len(add)+len(del) > 0 {
			// A put that has begun finishes even if the leaf is stopping:
			// the next start then finds the library indexed.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), localApplyTimeout)
			err := s.putLocal(actx, l.cfg.PeerAddr, add, del)
			cancel()
			switch {
			case err != nil:
				l.log.Warn("overlay: register shares locally", "err", err)
			default:
				applyDiff(sent, add, del)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.changed:
		}
	}
}

func (l *Leaf) snapshot() map[[20]byte]Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.shares
}

// diffShares lists what to send so that a supernode holding sent ends up
// holding want.
func diffShares(want, sent map[[20]byte]Entry) (add []Entry, del [][20]byte) {
	for h := range sent {
		if _, ok := want[h]; !ok {
			del = append(del, h)
		}
	}
	for h, e := range want {
		if old, ok := sent[h]; !ok || !sameEntry(old, e) {
			add = append(add, e)
		}
	}
	return add, del
}

func applyDiff(sent map[[20]byte]Entry, add []Entry, del [][20]byte) {
	for _, h := range del {
		delete(sent, h)
	}
	for _, e := range add {
		sent[e.InfoHash] = e
	}
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
