package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/shoalp2p/shoal/engine/overlay"
)

// WaitReady waits until the overlay has converged: every live leaf has
// min(2, live supernodes) links, every live supernode knows all the others
// through adverts and holds the latest advert of each with its table, every
// supernode's own advert describes its table, links and leaves as they
// are, and the keyword tables have stopped growing for quiet (the leaves'
// shares have landed). All but the last are states, not timings: a
// refresh advert in flight or a busy machine only delays the moment they
// hold, and a view that never repairs keeps the network not ready.
func (n *Network) WaitReady(ctx context.Context, quiet time.Duration) error {
	var lastKeys int
	stableSince, lastLog := time.Now(), time.Now()
	for {
		r := n.readiness()
		if r.keys != lastKeys {
			lastKeys, stableSince = r.keys, time.Now()
		}
		if r.ready() && time.Since(stableSince) >= quiet {
			return nil
		}
		if n.cfg.Logf != nil && time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			n.cfg.Logf("not ready: %s; keyword tables unchanged for %v%s", r, time.Since(stableSince).Round(time.Millisecond), n.logSummary())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sim: not ready: %s: %w", r, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readyState is how far the network is from converged.
type readyState struct {
	supers, want      int // live supernodes, links each leaf should have
	short             int // leaves with fewer than want links
	knowing, minKnown int // supernodes that know all others; fewest known
	stale, views      int // advert views behind their origin's latest (or without its table), of all
	behind            int // supernodes whose own advert is due for a change
	keys              int // keyword-table keys over all supernodes
	example           string
}

func (r readyState) ready() bool {
	return r.short == 0 && r.knowing == r.supers && r.stale == 0 && r.behind == 0
}

func (r readyState) String() string {
	return fmt.Sprintf("%d leaves with fewer than %d links; %d/%d supernodes know all others (fewest known %d); %d of %d advert views stale%s; %d supernodes with an advert due",
		r.short, r.want, r.knowing, r.supers, r.minKnown, r.stale, r.views, r.example, r.behind)
}

// readiness looks at every live node.
func (n *Network) readiness() readyState {
	live := n.liveSupers()
	r := readyState{supers: len(live), want: min(2, len(live)), minKnown: len(live)}
	for _, nd := range live {
		st := nd.sn.Stats()
		r.keys += st.TableKeys
		r.minKnown = min(r.minKnown, st.Supernodes)
		if st.Supernodes == len(live)-1 {
			r.knowing++
		}
		if !nd.sn.AdvertCurrent() {
			r.behind++
		}
	}
	for _, nd := range n.nodes {
		if nd.sn == nil && nd.alive.Load() && len(nd.leaf.Supernodes()) < r.want {
			r.short++
		}
	}
	var ex []string
	r.stale, r.views, ex = n.staleViews(3)
	if len(ex) > 0 {
		r.example = " (" + strings.Join(ex, ", ") + ")"
	}
	return r
}

// logSummary lists the most frequent log records since the last call, if
// they are counted.
func (n *Network) logSummary() string {
	if n.logs == nil {
		return ""
	}
	return n.logs.take(12)
}

func (n *Network) liveSupers() []*node {
	var out []*node
	for _, nd := range n.supers {
		if nd.alive.Load() {
			out = append(out, nd)
		}
	}
	return out
}

// StaleViews counts, over every pair of live supernodes, the views of the
// other's advert that are older than its latest or lack its table.
func (n *Network) StaleViews() (stale, total int) {
	stale, total, _ = n.staleViews(0)
	return stale, total
}

// staleViews is StaleViews, with up to examples stale pairs described.
func (n *Network) staleViews(examples int) (stale, total int, ex []string) {
	live := n.liveSupers()
	latest := make(map[string]uint64, len(live))
	for _, nd := range live {
		latest[nd.addr] = nd.sn.AdvertSeq()
	}
	for _, nd := range live {
		views := nd.sn.KnownAdverts()
		for _, o := range live {
			if o == nd {
				continue
			}
			total++
			if v := views[o.addr]; v.Seq < latest[o.addr] || !v.TableKnown {
				stale++
				if len(ex) < examples {
					ex = append(ex, staleExample(nd.addr, o.addr, v, latest[o.addr]))
				}
			}
		}
	}
	return stale, total, ex
}

// Outcome is what one query found.
type Outcome struct {
	Query       Query
	Want        []int // matching files with an online source
	Found       int   // of Want, how many came back in time
	SingleWant  int   // of Want, files with exactly one online source
	SingleFound int
	First, Last time.Duration // to the first and the last new file (0: none)
	Err         error
	Progress    overlay.Progress // the search's own account of its end
	Missed      Missed           // why the files of Want not found were missed
}

// Missed sorts the online files a search did not find by where their
// sources stood when it ended: no source linked to a live supernode
// (Orphaned); none of their sources' supernodes asked (NotAsked); asked but
// silent, though one had the query (Slow) or none had it (Lost); asked and
// answered without them (Answered).
type Missed struct {
	Orphaned, NotAsked, Slow, Lost, Answered int
}

// Add returns the sum of m and o.
func (m Missed) Add(o Missed) Missed {
	return Missed{m.Orphaned + o.Orphaned, m.NotAsked + o.NotAsked, m.Slow + o.Slow, m.Lost + o.Lost, m.Answered + o.Answered}
}

// String implements fmt.Stringer.
func (m Missed) String() string {
	return fmt.Sprintf("missed: %d orphaned, %d not asked, %d asked and silent with the query, %d asked but never reached, %d answered without",
		m.Orphaned, m.NotAsked, m.Slow, m.Lost, m.Answered)
}

// classifyMissed fills o.Missed for the files of o.Want not in found.
func (n *Network) classifyMissed(o *Outcome, found map[int]bool, sq *overlay.Query) {
	asked, answered := sq.Supernodes()
	isAsked, isAnswered := setOf(asked), setOf(answered)
	for _, f := range o.Want {
		if found[f] {
			continue
		}
		linked, ask, ans, saw := false, false, false, false
		for _, s := range n.holderSupernodes(f) {
			nd := n.byAddr[s]
			if nd == nil || !nd.alive.Load() {
				continue
			}
			linked = true
			ask = ask || isAsked[s]
			ans = ans || isAnswered[s]
			saw = saw || isAsked[s] && nd.sn.SawQuery(sq.ID())
		}
		switch {
		case !linked:
			o.Missed.Orphaned++
		case ans:
			o.Missed.Answered++
		case saw:
			o.Missed.Slow++
		case ask:
			o.Missed.Lost++
		default:
			o.Missed.NotAsked++
		}
	}
}

// holderSupernodes lists the supernodes the live sources of file f are
// linked to (a supernode's own shares are in its own index).
func (n *Network) holderSupernodes(f int) []string {
	var out []string
	for _, id := range n.Cat.Files[f].Replicas {
		nd := n.nodes[id]
		if !nd.alive.Load() {
			continue
		}
		if nd.sn != nil {
			out = append(out, nd.addr)
		}
		out = append(out, nd.leaf.Supernodes()...)
	}
	return out
}

func setOf(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// RunQueries starts qs at rate queries per second (all at once if rate
// is 0), each from a random live node and for at most timeout, and waits
// for them all.
func (n *Network) RunQueries(ctx context.Context, qs []Query, rate float64, timeout time.Duration) []Outcome {
	out := make([]Outcome, len(qs))
	var wg sync.WaitGroup
	start := time.Now()
	rng := n.newRand()
	for i, q := range qs {
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		}
		from := n.randomLive(rng)
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = n.runQuery(ctx, from, q, timeout)
		}()
	}
	wg.Wait()
	return out
}

func (n *Network) randomLive(rng *rand.Rand) *node {
	for {
		nd := n.nodes[rng.IntN(len(n.nodes))]
		if nd.alive.Load() {
			return nd
		}
	}
}

// runQuery searches from one node and scores the answer against the
// catalogue.
func (n *Network) runQuery(ctx context.Context, from *node, q Query, timeout time.Duration) Outcome {
	o := Outcome{Query: q}
	online := map[int]int{} // file -> live sources
	for _, f := range n.Cat.Matching(q.Words) {
		if k := n.liveReplicas(f); k > 0 {
			o.Want = append(o.Want, f)
			online[f] = k
			if k == 1 {
				o.SingleWant++
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	sq, err := from.leaf.Query(ctx, q.Words)
	if err != nil {
		o.Err = err
		return o
	}
	seen := map[int]bool{}
	for h := range sq.Hits() {
		f, ok := n.Cat.byHash[h.InfoHash]
		if !ok || seen[f] {
			continue
		}
		seen[f] = true
		o.Last = time.Since(start)
		if o.First == 0 {
			o.First = o.Last
		}
		if k, want := online[f]; want {
			o.Found++
			if k == 1 {
				o.SingleFound++
			}
		}
	}
	o.Progress = sq.Progress()
	if o.Found < len(o.Want) {
		n.classifyMissed(&o, seen, sq)
	}
	return o
}

func (n *Network) liveReplicas(f int) int {
	k := 0
	for _, nd := range n.Cat.Files[f].Replicas {
		if n.nodes[nd].alive.Load() {
			k++
		}
	}
	return k
}

// Queries makes count queries, alternately by popularity and uniform.
func (n *Network) Queries(count int) []Query {
	cum := n.Cat.replicaCum()
	rng := n.newRand()
	out := make([]Query, count)
	for i := range out {
		out[i] = n.Cat.NewQuery(rng, i%2 == 0, cum)
	}
	return out
}

// traffic sums what every leaf and every supernode has sent.
func (n *Network) traffic() (leaves, supers overlay.Traffic) {
	for _, nd := range n.nodes {
		leaves = leaves.Add(nd.leaf.Traffic())
		if nd.sn != nil {
			supers = supers.Add(nd.sn.Stats().Sent)
		}
	}
	return leaves, supers
}

// received returns the query counters of every live supernode.
func (n *Network) received() map[*node]overlay.Stats {
	out := map[*node]overlay.Stats{}
	for _, nd := range n.liveSupers() {
		out[nd] = nd.sn.Stats()
	}
	return out
}

// errNoQueries reports an empty run.
var errNoQueries = errors.New("sim: no queries")

// Measure runs count queries at rate per second and reports on them.
func (n *Network) Measure(ctx context.Context, count int, rate float64, timeout time.Duration) (Report, error) {
	if count == 0 {
		return Report{}, errNoQueries
	}
	qs := n.Queries(count)
	l0, s0 := n.traffic()
	r0, start := n.received(), time.Now()
	outs := n.RunQueries(ctx, qs, rate, timeout)
	elapsed := time.Since(start)
	l1, s1 := n.traffic()
	r1 := n.received()
	rep := n.report(outs)
	rep.Elapsed, rep.Rate = elapsed, rate
	rep.addTraffic(l1.Sub(l0), s1.Sub(s0), len(outs))
	rep.addLoad(r0, r1, elapsed, n.liveSupers(), len(outs))
	return rep, nil
}

// staleExample describes one stale view.
func staleExample(at, of string, v overlay.AdvertView, latest uint64) string {
	switch {
	case v.Seq == 0:
		return fmt.Sprintf("%s has no advert of %s", at, of)
	case v.Seq < latest:
		return fmt.Sprintf("%s holds %s's advert %d behind", at, of, latest-v.Seq)
	}
	return fmt.Sprintf("%s lacks %s's table", at, of)
}
