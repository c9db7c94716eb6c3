package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/internal/bench"
)

// Report sums up one batch of queries.
type Report struct {
	Nodes, Supernodes  int
	Queries, Failed    int // Failed: Search refused (no supernode linked)
	Pairs, Found       int // (query, matching online file) pairs, and found ones
	SinglePairs        int // pairs whose file has exactly one online source
	SingleFound        int
	PopPairs, PopFound int // queries whose target was picked by popularity
	UniPairs, UniFound int // ... picked uniformly
	FirstP50, FirstP95 time.Duration
	LastP50, LastP95   time.Duration
	// Per query, in frames: leaf to supernode queries, supernode to
	// supernode queries, hit frames; bytes of all of them.
	LeafQueryMsgs, SuperQueryMsgs, HitMsgs, Bytes float64
	LeavesMean                                    float64
	LeavesMax                                     int
	QPSMean, QPSMax                               float64 // queries received per second per supernode
	// Per query: supernodes it reached (origin and relays included), that
	// searched their index (their entries could match), and that had hits.
	Reached, Searched, Matched float64
	TableKeys, TableBytes      float64         // mean distinct keys and bitmap size of supernode keyword tables
	Dropped                    overlay.Traffic // frames dropped on full queues, in all
	MaxPairs                   int             // matching files of the broadest query
	Elapsed                    time.Duration
	Rate                       float64 // queries started per second
	Relays                     float64 // per query: supernodes on its tree only to pass it on
}

// Recall is Found / Pairs (1 when there was nothing to find).
func (r Report) Recall() float64 { return ratio(r.Found, r.Pairs) }

// SingleRecall is the recall over files with one online source.
func (r Report) SingleRecall() float64 { return ratio(r.SingleFound, r.SinglePairs) }

// Messages is the query frames per query, leaf to supernode included.
func (r Report) Messages() float64 { return r.LeafQueryMsgs + r.SuperQueryMsgs }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// report scores the outcomes of a batch.
func (n *Network) report(outs []Outcome) Report {
	r := Report{Nodes: len(n.nodes), Supernodes: len(n.liveSupers()), Queries: len(outs)}
	var first, last []time.Duration
	for _, o := range outs {
		if o.Err != nil {
			r.Failed++
		}
		r.Pairs += len(o.Want)
		r.MaxPairs = max(r.MaxPairs, len(o.Want))
		r.Found += o.Found
		r.SinglePairs += o.SingleWant
		r.SingleFound += o.SingleFound
		if o.Query.ByPop {
			r.PopPairs, r.PopFound = r.PopPairs+len(o.Want), r.PopFound+o.Found
		} else {
			r.UniPairs, r.UniFound = r.UniPairs+len(o.Want), r.UniFound+o.Found
		}
		if o.First > 0 && len(o.Want) > 0 {
			first = append(first, o.First)
			last = append(last, o.Last)
		}
	}
	r.FirstP50, r.FirstP95 = bench.Percentile(first, 0.5), bench.Percentile(first, 0.95)
	r.LastP50, r.LastP95 = bench.Percentile(last, 0.5), bench.Percentile(last, 0.95)
	return r
}

// addTraffic divides what leaves and supernodes sent by the query count.
// Supernodes send query frames only to each other, leaves only to
// supernodes; hit frames go from supernodes to supernodes and leaves.
func (r *Report) addTraffic(leaves, supers overlay.Traffic, queries int) {
	q := float64(max(queries, 1))
	r.Dropped = leaves.Add(supers)
	r.LeafQueryMsgs = float64(leaves.QueryFrames) / q
	r.SuperQueryMsgs = float64(supers.QueryFrames) / q
	r.HitMsgs = float64(supers.HitFrames) / q
	r.Bytes = float64(leaves.QueryBytes+supers.QueryBytes+supers.HitBytes) / q
}

func (r *Report) addLoad(before, after map[*node]overlay.Stats, elapsed time.Duration, live []*node, queries int) {
	total := 0
	for _, nd := range live {
		l := nd.sn.Leaves()
		total += l
		r.LeavesMax = max(r.LeavesMax, l)
		b, a := before[nd], after[nd]
		qps := float64(a.QueriesReceived-b.QueriesReceived) / elapsed.Seconds()
		r.QPSMean += qps
		r.QPSMax = max(r.QPSMax, qps)
		q := float64(max(queries, 1))
		r.Reached += float64(a.QueriesReceived-b.QueriesReceived) / q
		r.Searched += float64(a.QueriesAnswered-b.QueriesAnswered) / q
		r.Matched += float64(a.QueriesMatched-b.QueriesMatched) / q
		r.Relays += float64(a.RelaysPlanned-b.RelaysPlanned) / q
	}
	for _, nd := range live {
		st := after[nd]
		r.TableKeys += float64(st.TableKeys) / float64(len(live))
		if st.TableBits > 0 {
			r.TableBytes += float64(int(1)<<st.TableBits/8) / float64(len(live))
		}
	}
	if len(live) > 0 {
		r.LeavesMean = float64(total) / float64(len(live))
		r.QPSMean /= float64(len(live))
	}
}

// String formats the report as a few aligned lines.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nodes %d, supernodes %d, queries %d at %.0f/s (%d refused), %.1fs\n", r.Nodes, r.Supernodes, r.Queries, r.Rate, r.Failed, r.Elapsed.Seconds())
	fmt.Fprintf(&b, "  recall %.4f (%d/%d pairs); single-copy %.4f (%d/%d); popular-target %.4f, uniform-target %.4f\n",
		r.Recall(), r.Found, r.Pairs, r.SingleRecall(), r.SingleFound, r.SinglePairs, ratio(r.PopFound, r.PopPairs), ratio(r.UniFound, r.UniPairs))
	d := r.Dropped
	fmt.Fprintf(&b, "  broadest query %d files; frames dropped on full queues: %d queries, %d hits, %d adverts, %d other\n",
		r.MaxPairs, d.DroppedQueries, d.DroppedHits, d.DroppedAdverts, d.DroppedOther)
	fmt.Fprintf(&b, "  first hit p50 %v p95 %v; last hit p50 %v p95 %v\n",
		r.FirstP50.Round(time.Millisecond/10), r.FirstP95.Round(time.Millisecond/10), r.LastP50.Round(time.Millisecond/10), r.LastP95.Round(time.Millisecond/10))
	fmt.Fprintf(&b, "  per query: %.2f query msgs (%.2f leaf->supernode + %.2f supernode->supernode = %.1f%% of supernodes), %.2f hit msgs, %.0f bytes\n",
		r.Messages(), r.LeafQueryMsgs, r.SuperQueryMsgs, 100*r.Messages()/float64(max(r.Supernodes, 1)), r.HitMsgs, r.Bytes)
	fmt.Fprintf(&b, "  supernodes per query: reached %.2f (origin, %.2f relays, the rest targets), searched their index %.2f, had hits %.2f\n",
		r.Reached, r.Relays, r.Searched, r.Matched)
	fmt.Fprintf(&b, "  per supernode: leaves mean %.1f max %d; queries/s mean %.1f max %.1f; keyword table %.0f keys, %.0f KiB\n",
		r.LeavesMean, r.LeavesMax, r.QPSMean, r.QPSMax, r.TableKeys, r.TableBytes/1024)
	return b.String()
}
