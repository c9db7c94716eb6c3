package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// eventTracker is an in-process HTTP tracker that records the event of
// every announce and answers with a fixed interval and counts.
type eventTracker struct {
	srv *httptest.Server

	mu       sync.Mutex
	events   []string
	ids      []string // trackerid parameter of each announce
	scrapes  int
	interval int
	minIvl   int
	seeders  int
	leechers int
	peerPort int
	fail     bool
	sendID   string
}

func newEventTracker(t *testing.T, seeders, leechers int) *eventTracker {
	t.Helper()
	et := &eventTracker{interval: 1800, seeders: seeders, leechers: leechers, peerPort: 7000}
	et.srv = httptest.NewServer(et)
	t.Cleanup(et.srv.Close)
	return et
}

func (et *eventTracker) url() string { return et.srv.URL + "/announce" }

func (et *eventTracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	et.mu.Lock()
	defer et.mu.Unlock()
	if r.URL.Path == "/scrape" {
		et.scrapes++
		ih := r.URL.Query().Get("info_hash")
		var h [20]byte
		copy(h[:], ih)
		fmt.Fprintf(w, "d5:filesd%see", scrapeFile(h, fmt.Sprint(et.seeders+1), "42", fmt.Sprint(et.leechers+1)))
		return
	}
	if et.fail {
		fmt.Fprint(w, "d14:failure reason4:downe")
		return
	}
	et.events = append(et.events, r.URL.Query().Get("event"))
	et.ids = append(et.ids, r.URL.Query().Get("trackerid"))
	fmt.Fprintf(w, "d8:completei%de10:incompletei%de8:intervali%de12:min intervali%de5:peers6:\x7f\x00\x00\x01%c%c",
		et.seeders, et.leechers, et.interval, et.minIvl, byte(et.peerPort>>8), byte(et.peerPort))
	if et.sendID != "" {
		fmt.Fprintf(w, "10:tracker id%d:%s", len(et.sendID), et.sendID)
	}
	fmt.Fprint(w, "e")
}

func (et *eventTracker) gotEvents() []string {
	et.mu.Lock()
	defer et.mu.Unlock()
	return slices.Clone(et.events)
}

// deadURL is an HTTP tracker on a port nobody listens on: refused at once.
const deadURL = "http://127.0.0.1:1/announce"

func TestAnnouncerEvents(t *testing.T) {
	t.Parallel()
	et := newEventTracker(t, 1, 2)
	et.sendID = "abc"
	a := NewAnnouncer([][]string{{et.url()}}, Schedule{})
	c, ctx := loopbackClient(), context.Background()
	now := time.Unix(1_000_000, 0)
	base := Request{InfoHash: hashA, Port: 1, Left: 100}
	step := func(left int64, at time.Time, wantAnnounced int) {
		t.Helper()
		base.Left = left
		r := a.Announce(ctx, c, base, at)
		if r.Announced != wantAnnounced || len(r.Failed) != 0 {
			t.Fatalf("at %v: announced %d, failed %v; want %d, none", at.Sub(now), r.Announced, r.Failed, wantAnnounced)
		}
	}
	step(100, now, 1)                                    // started
	step(100, now.Add(time.Minute), 0)                   // not due: nothing sent
	step(100, now.Add(31*time.Minute+40*time.Second), 1) // regular
	a.Completed(now.Add(40 * time.Minute))
	if due, _ := a.NextDue(); !due.Equal(now.Add(40 * time.Minute)) {
		t.Fatalf("after Completed, due %v, want at once", due.Sub(now))
	}
	step(0, now.Add(40*time.Minute), 1) // completed
	a.Completed(now.Add(41 * time.Minute))
	step(0, now.Add(41*time.Minute), 0) // completed only once
	if err := a.Stop(ctx, c, base); err != nil {
		t.Fatal(err)
	}
	step(0, now.Add(42*time.Minute), 1) // started again; complete, so no completed later
	want := []string{"started", "", "completed", "stopped", "started"}
	if got := et.gotEvents(); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	et.mu.Lock()
	defer et.mu.Unlock()
	if !slices.Equal(et.ids, []string{"", "abc", "abc", "abc", "abc"}) {
		t.Errorf("tracker ids sent %q: want the tracker's id echoed after its first answer", et.ids)
	}
	if et.scrapes != 3 {
		t.Errorf("%d scrapes, want 3: with the first announce, the regular one 30 min on, and after completed", et.scrapes)
	}
}

func TestAnnouncerIntervals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name             string
		interval, minIvl int
		sched            Schedule
		want             time.Duration
	}{
		{"interval", 1800, 0, Schedule{}, 30 * time.Minute},
		{"min interval wins", 120, 600, Schedule{}, 10 * time.Minute},
		{"floor", 5, 0, Schedule{}, time.Minute},
		{"floor lowered", 5, 0, Schedule{MinGap: time.Second}, 5 * time.Second},
		{"no interval", 0, 0, Schedule{DefaultInterval: 7 * time.Minute}, 7 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			et := newEventTracker(t, 0, 0)
			et.interval, et.minIvl = tc.interval, tc.minIvl
			a := NewAnnouncer([][]string{{et.url()}}, tc.sched)
			now := time.Unix(1_000_000, 0)
			if r := a.Announce(context.Background(), loopbackClient(), Request{Port: 1}, now); r.Announced != 1 {
				t.Fatalf("announce: %+v", r)
			}
			due, _ := a.NextDue()
			if d := due.Sub(now); d < tc.want || d > tc.want+tc.want/20+time.Second {
				t.Errorf("next announce in %v, want %v (+5%%)", d, tc.want)
			}
		})
	}
}

func TestAnnouncerBackoff(t *testing.T) {
	t.Parallel()
	et := newEventTracker(t, 0, 0)
	et.fail = true
	a := NewAnnouncer([][]string{{et.url(), deadURL}}, Schedule{RetryBase: 10 * time.Second, MaxRetry: time.Minute})
	c, now := loopbackClient(), time.Unix(1_000_000, 0)
	for i, want := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute} {
		r := a.Announce(context.Background(), c, Request{Port: 1}, now)
		if r.Announced != 0 || len(r.Failed) != 2 {
			t.Fatalf("round %d: %+v, want both trackers failed", i, r)
		}
		if !errors.Is(r.Failed[0].Err, ErrTrackerFailure) && !errors.Is(r.Failed[1].Err, ErrTrackerFailure) {
			t.Errorf("round %d: failures %v lack the tracker's reason", i, r.Failed)
		}
		due, _ := a.NextDue()
		if d := due.Sub(now); d < want || d > want+want/10+time.Second {
			t.Errorf("round %d: retry in %v, want %v (+10%%)", i, d, want)
		}
		now = due
	}
	et.mu.Lock()
	et.fail = false
	et.mu.Unlock()
	if r := a.Announce(context.Background(), c, Request{Port: 1}, now); r.Announced != 1 {
		t.Fatalf("after recovery: %+v", r)
	}
	if due, _ := a.NextDue(); due.Sub(now) < 30*time.Minute {
		t.Errorf("after a success the interval applies again, next in %v", due.Sub(now))
	}
	if got := et.gotEvents(); !slices.Equal(got, []string{"started"}) {
		t.Errorf("events %q: the first answered announce must still be started", got)
	}
}

func TestAnnouncerTiers(t *testing.T) {
	t.Parallel()
	good1, good2, unused := newEventTracker(t, 5, 1), newEventTracker(t, 2, 9), newEventTracker(t, 0, 0)
	good2.peerPort = 7001
	a := NewAnnouncer([][]string{{deadURL, good1.url()}, {good2.url()}, {}, {deadURL}}, Schedule{})
	// Force the dead tracker first in tier 1, as a shuffle may.
	a.tiers[0].urls = []string{deadURL, good1.url()}
	a.tiers = append(a.tiers, &tier{urls: []string{unused.url()}, next: time.Unix(2_000_000_000, 0),
		trackerIDs: map[string]string{}, noScrape: map[string]bool{}})
	if n := len(a.Tiers()); n != 3 {
		t.Fatalf("%d tiers, want 3: the empty tier dropped, the repeated dead URL too (plus the test's own)", n)
	}
	c, now := loopbackClient(), time.Unix(1_000_000, 0)
	r := a.Announce(context.Background(), c, Request{InfoHash: hashA, Port: 1, Left: 1}, now)
	if r.Announced != 2 || len(r.Failed) != 1 || r.Failed[0].URL != deadURL {
		t.Fatalf("result %+v: want tiers 1 and 2 announced, the dead tracker failed", r)
	}
	if !slices.Equal(r.Peers, []netip.AddrPort{ap("127.0.0.1:7000"), ap("127.0.0.1:7001")}) &&
		!slices.Equal(r.Peers, []netip.AddrPort{ap("127.0.0.1:7001"), ap("127.0.0.1:7000")}) {
		t.Errorf("peers %v, want both tiers' peers", r.Peers)
	}
	if tiers := a.Tiers(); tiers[0][0] != good1.url() {
		t.Errorf("tier 1 order %v: the tracker that answered must come first", tiers[0])
	}
	sw := a.Swarm()
	// Scrapes (due with the first announce) say one more of each, and 42
	// completed.
	if sw != (Swarm{Seeders: 6, Leechers: 10, Completed: 42, Known: true}) {
		t.Errorf("swarm %+v, want the best of both tiers' scrapes", sw)
	}
	if err := a.Stop(context.Background(), c, Request{InfoHash: hashA, Port: 1}); err != nil {
		t.Fatal(err)
	}
	for _, et := range []*eventTracker{good1, good2} {
		if got := et.gotEvents(); !slices.Equal(got, []string{"started", "stopped"}) {
			t.Errorf("%s: events %q", et.url(), got)
		}
	}
	if got := unused.gotEvents(); len(got) != 0 {
		t.Errorf("a tier never announced got %q", got)
	}
}

func TestAnnouncerShuffles(t *testing.T) {
	t.Parallel()
	urls := []string{"http://a/announce", "http://b/announce", "http://c/announce", "http://d/announce"}
	orders := map[string]bool{}
	for range 200 {
		orders[fmt.Sprint(NewAnnouncer([][]string{urls}, Schedule{}).Tiers()[0])] = true
	}
	// 24 orders are possible; 200 draws miss more than 4 of them with
	// probability below 1e-12.
	if len(orders) < 20 {
		t.Errorf("%d distinct orders in 200 shuffles of 4 trackers", len(orders))
	}
}
