package tracker

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Schedule sets an Announcer's timing. Zero fields take the defaults.
type Schedule struct {
	// MinGap is the shortest wait between two regular announces to one
	// tier, whatever interval the tracker asks for (default 60s).
	MinGap time.Duration
	// DefaultInterval is used when a tracker gives no interval (30 min).
	DefaultInterval time.Duration
	// RetryBase is the wait after a tier's first failed round; it doubles
	// with each further failure (default 15s).
	RetryBase time.Duration
	// MaxRetry caps the wait after failures (default 30 min).
	MaxRetry time.Duration
	// ScrapeEvery is how often a tier's working tracker is scraped, for
	// its count of completed downloads (default 30 min).
	ScrapeEvery time.Duration
}

// withDefaults fills the zero fields.
func (s Schedule) withDefaults() Schedule {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&s.MinGap, time.Minute)
	def(&s.DefaultInterval, 30*time.Minute)
	def(&s.RetryBase, 15*time.Second)
	def(&s.MaxRetry, 30*time.Minute)
	def(&s.ScrapeEvery, 30*time.Minute)
	return s
}

// Swarm is what a torrent's trackers say of its swarm: for each count,
// the largest that any tier reported in its latest announce or scrape.
type Swarm struct {
	Seeders, Leechers int
	// Completed is the largest count of finished downloads a scrape gave.
	Completed int
	// Known is false until some tracker has answered.
	Known bool
}

// TrackerError is one tracker's failed announce or scrape.
type TrackerError struct {
	URL string
	Err error
}

// Result is what one Announcer.Announce round found.
type Result struct {
	// Peers from every tier that answered, without duplicates.
	Peers []netip.AddrPort
	// Announced counts the tiers that answered.
	Announced int
	// Failed lists every tracker that failed, in the order tried.
	Failed []TrackerError
}

// Announcer keeps one torrent's announce state over the tiers of its
// announce-list (BEP 12), and decides what to send and when.
//
// Every tier is announced to: a dead tier must not hide the swarm of
// another, which is what qBittorrent does by default. Within a tier the
// trackers are shuffled once; they are tried in order until one answers,
// and the one that answered moves to the front. Each tier's first answered
// announce carries "started", the first announce with nothing left after
// one that had something left carries "completed", and Stop sends
// "stopped" to every tier that had answered. The tracker's "interval" and
// "min interval" set the next regular announce (never sooner than
// Schedule.MinGap); a tier whose trackers all fail retries after a delay
// that doubles with each failure.
//
// Announce and Stop must not run at the same time for one Announcer (its
// owner calls them in turn); NextDue, Completed and Swarm are safe from
// any goroutine. The lock is never held across a network call.
type Announcer struct {
	sched Schedule
	key   uint32

	mu    sync.Mutex
	tiers []*tier
}

// tier is the state of one tier of the announce-list.
type tier struct {
	urls       []string // shuffled; the last tracker to answer first
	next       time.Time
	failures   int
	started    bool // a tracker of the tier accepted our "started"
	incomplete bool // the last accepted announce had bytes left
	minIvl     time.Duration
	trackerIDs map[string]string
	counts     ScrapeResult
	known      bool
	nextScrape time.Time
	noScrape   map[string]bool
}

// NewAnnouncer builds the state for an announce-list: tiers of tracker
// URLs, in order (a single announce URL is one tier of one). Empty tiers
// and repeated URLs are dropped.
func NewAnnouncer(tiers [][]string, sched Schedule) *Announcer {
	a := &Announcer{sched: sched.withDefaults(), key: rand.Uint32()}
	seen := map[string]bool{}
	for _, urls := range tiers {
		t := &tier{trackerIDs: map[string]string{}, noScrape: map[string]bool{}}
		for _, u := range urls {
			if u != "" && !seen[u] {
				seen[u] = true
				t.urls = append(t.urls, u)
			}
		}
		if len(t.urls) == 0 {
			continue
		}
		rand.Shuffle(len(t.urls), func(i, j int) { t.urls[i], t.urls[j] = t.urls[j], t.urls[i] })
		a.tiers = append(a.tiers, t)
	}
	return a
}

// Tiers returns the current tracker order of every tier (a copy).
func (a *Announcer) Tiers() [][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([][]string, len(a.tiers))
	for i, t := range a.tiers {
		out[i] = slices.Clone(t.urls)
	}
	return out
}

// NextDue is when the next announce is due (the earliest of the tiers);
// ok is false when there are no trackers.
func (a *Announcer) NextDue() (due time.Time, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, t := range a.tiers {
		if i == 0 || t.next.Before(due) {
			due = t.next
		}
	}
	return due, len(a.tiers) > 0
}

// Started reports whether some tier has accepted "started" and not yet
// been sent "stopped".
func (a *Announcer) Started() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tiers {
		if t.started {
			return true
		}
	}
	return false
}

// Completed makes every tier that last announced bytes left due at once,
// so that the trackers hear "completed" when the download finishes rather
// than at the next interval.
func (a *Announcer) Completed(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tiers {
		if t.started && t.incomplete && now.Before(t.next) {
			t.next = now
		}
	}
}

// Swarm returns the best counts the trackers gave.
func (a *Announcer) Swarm() Swarm {
	a.mu.Lock()
	defer a.mu.Unlock()
	var s Swarm
	for _, t := range a.tiers {
		if !t.known {
			continue
		}
		s.Known = true
		s.Seeders = max(s.Seeders, t.counts.Seeders)
		s.Leechers = max(s.Leechers, t.counts.Leechers)
		s.Completed = max(s.Completed, t.counts.Completed)
	}
	return s
}

// tierJob is one due tier's announce, planned under the lock and run
// without it.
type tierJob struct {
	t          *tier
	urls       []string
	event      Event
	trackerIDs map[string]string
	scrape     bool
	noScrape   map[string]bool

	// results
	url    string // the tracker that answered, "" if none
	resp   Response
	failed []TrackerError
	scr    *ScrapeResult
	noScr  bool // url turned out to have no scrape URL
}

// Announce announces to every tier that is due at now. base carries the
// torrent's identity and counters (InfoHash, PeerID, Port, Uploaded,
// Downloaded, Left, NumWant, IPv6); the event, key and tracker id are the
// Announcer's. Tiers run in parallel, the trackers of one tier in turn.
func (a *Announcer) Announce(ctx context.Context, c *Client, base Request, now time.Time) Result {
	jobs := a.plan(base, now)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.run(ctx, c, base, j)
		}()
	}
	wg.Wait()
	return a.record(ctx, jobs, base, now)
}

// plan picks the due tiers and what each will send.
func (a *Announcer) plan(base Request, now time.Time) []*tierJob {
	a.mu.Lock()
	defer a.mu.Unlock()
	var jobs []*tierJob
	for _, t := range a.tiers {
		if now.Before(t.next) {
			continue
		}
		j := &tierJob{t: t, urls: slices.Clone(t.urls), trackerIDs: maps.Clone(t.trackerIDs),
			noScrape: maps.Clone(t.noScrape), scrape: !now.Before(t.nextScrape)}
		switch {
		case !t.started:
			j.event = EventStarted
		case t.incomplete && base.Left == 0:
			j.event = EventCompleted
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// run tries the tier's trackers in order until one answers, then scrapes
// it if a scrape is due.
func (a *Announcer) run(ctx context.Context, c *Client, base Request, j *tierJob) {
	for _, u := range j.urls {
		req := base
		req.Event, req.Key, req.TrackerID = j.event, a.key, j.trackerIDs[u]
		resp, err := c.Announce(ctx, u, req)
		if err == nil {
			j.url, j.resp = u, resp
			break
		}
		j.failed = append(j.failed, TrackerError{URL: u, Err: err})
		if ctx.Err() != nil {
			return
		}
	}
	// A "completed" changes the tracker's count of downloads: scrape it.
	if j.url == "" || !(j.scrape || j.event == EventCompleted) || j.noScrape[j.url] {
		return
	}
	res, err := c.Scrape(ctx, j.url, base.InfoHash)
	switch r, ok := res[base.InfoHash]; {
	case err == nil && ok:
		j.scr = &r
	case errors.Is(err, ErrNoScrape):
		j.noScr = true
	case err != nil:
		j.failed = append(j.failed, TrackerError{URL: j.url, Err: err})
	}
}

// record folds the jobs' outcomes into the tiers.
func (a *Announcer) record(ctx context.Context, jobs []*tierJob, base Request, now time.Time) Result {
	var r Result
	seen := map[netip.AddrPort]bool{}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, j := range jobs {
		r.Failed = append(r.Failed, j.failed...)
		switch {
		case j.url != "":
			r.Announced++
			a.answered(j, base, now)
			for _, p := range j.resp.Peers {
				if !seen[p] {
					seen[p] = true
					r.Peers = append(r.Peers, p)
				}
			}
		case ctx.Err() == nil:
			a.failed(j.t, now)
		}
	}
	return r
}

// answered records a tier's successful announce (and scrape). Caller
// holds a.mu.
func (a *Announcer) answered(j *tierJob, base Request, now time.Time) {
	t := j.t
	t.failures = 0
	t.started = true
	t.incomplete = base.Left > 0
	if j.resp.TrackerID != "" {
		t.trackerIDs[j.url] = j.resp.TrackerID
	}
	t.minIvl = j.resp.MinInterval
	t.next = now.Add(a.interval(j.resp))
	t.counts.Seeders, t.counts.Leechers, t.known = j.resp.Seeders, j.resp.Leechers, true
	if j.scrape || j.event == EventCompleted {
		t.nextScrape = now.Add(a.sched.ScrapeEvery)
	}
	if j.scr != nil {
		t.counts = *j.scr
	}
	if j.noScr {
		t.noScrape[j.url] = true
	}
	promote(t.urls, j.url)
}

// interval is the wait before the next regular announce: the tracker's
// interval (or the default), at least its min interval and Schedule.MinGap,
// plus up to 5% so that torrents added together drift apart.
func (a *Announcer) interval(r Response) time.Duration {
	d := r.Interval
	if d <= 0 {
		d = a.sched.DefaultInterval
	}
	d = max(d, r.MinInterval, a.sched.MinGap)
	return d + rand.N(d/20+1)
}

// failed backs a tier off after all its trackers failed. Caller holds a.mu.
func (a *Announcer) failed(t *tier, now time.Time) {
	t.failures++
	d := a.sched.RetryBase << min(t.failures-1, 16)
	d = min(d, a.sched.MaxRetry)
	d = max(d, t.minIvl)
	t.next = now.Add(d + rand.N(d/10+1))
}

// Stop sends "stopped" to the tracker that last answered in each tier
// that had accepted "started", in parallel, and resets the tiers so that
// the next Announce starts afresh. It returns the failures, joined.
func (a *Announcer) Stop(ctx context.Context, c *Client, base Request) error {
	type stop struct{ url, id string }
	a.mu.Lock()
	var stops []stop
	for _, t := range a.tiers {
		if t.started {
			stops = append(stops, stop{t.urls[0], t.trackerIDs[t.urls[0]]})
		}
		t.started, t.incomplete, t.failures, t.next = false, false, 0, time.Time{}
	}
	a.mu.Unlock()
	errs := make([]error, len(stops))
	var wg sync.WaitGroup
	for i, s := range stops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := base
			req.Event, req.Key, req.TrackerID, req.NumWant = EventStopped, a.key, s.id, 0
			if _, err := c.Announce(ctx, s.url, req); err != nil {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// promote moves u to the front of urls, keeping the others in order.
func promote(urls []string, u string) {
	i := slices.Index(urls, u)
	if i > 0 {
		copy(urls[1:i+1], urls[:i])
		urls[0] = u
	}
}
