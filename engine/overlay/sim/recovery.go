package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shoalp2p/shoal/engine/overlay"
)

// Batch is the recall of the queries started at one moment after a kill.
type Batch struct {
	At      time.Duration // since the kill
	Pairs   int
	Recall  float64
	Queries int
	Empty   int // queries with matching online files that got no hit at all
	Failed  int // Search refused
	// What the searches said of their end: supernodes asked per query
	// (mean), searches that ended at the answer timeout, and those that
	// had not ended when the harness stopped waiting.
	Asked    float64
	TimedOut int
	Unended  int
	Missed   Missed // why the files not found were missed, summed
}

// KillAndRecover kills frac of the live supernodes at once, then every
// `every` starts size queries spread over that interval (each for at most
// timeout) until window has passed. It returns how many supernodes died,
// every batch, the start of the first batch from which every batch reached
// target (-1: never), and what the survivors lost on the way meanwhile.
func (n *Network) KillAndRecover(ctx context.Context, frac float64, size int, every, window, timeout time.Duration, target float64) (int, []Batch, time.Duration, Losses) {
	killed := n.KillSupernodes(frac)
	start, before := time.Now(), n.Losses()
	if n.cfg.AfterKill != nil {
		time.AfterFunc(time.Second, n.cfg.AfterKill)
	}
	var (
		mu      sync.Mutex
		batches []Batch
		wg      sync.WaitGroup
	)
	for at := time.Duration(0); at <= window; at += every {
		if d := time.Until(start.Add(at)); d > 0 {
			time.Sleep(d)
		}
		qs := n.Queries(size)
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs := n.RunQueries(ctx, qs, float64(size)/every.Seconds(), timeout)
			r := n.report(outs)
			b := Batch{At: at, Pairs: r.Pairs, Recall: r.Recall(), Queries: len(outs), Failed: r.Failed}
			for _, o := range outs {
				if len(o.Want) > 0 && o.First == 0 {
					b.Empty++
				}
				b.Asked += float64(o.Progress.Asked) / float64(len(outs))
				if o.Progress.TimedOut {
					b.TimedOut++
				}
				if o.Err == nil && !o.Progress.Done {
					b.Unended++
				}
				b.Missed = b.Missed.Add(o.Missed)
			}
			mu.Lock()
			batches = append(batches, b)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sortBatches(batches)
	return killed, batches, recoveredAt(batches, target), n.Losses().Sub(before)
}

func sortBatches(bs []Batch) {
	for i := 1; i < len(bs); i++ {
		for j := i; j > 0 && bs[j].At < bs[j-1].At; j-- {
			bs[j], bs[j-1] = bs[j-1], bs[j]
		}
	}
}

// recoveredAt is the start of the first batch from which every batch
// reached target, -1 if the last one did not.
func recoveredAt(bs []Batch, target float64) time.Duration {
	at := time.Duration(-1)
	for i := len(bs) - 1; i >= 0 && bs[i].Recall >= target; i-- {
		at = bs[i].At
	}
	return at
}

// Losses sums, over the live supernodes, what queries lost on their way:
// targets they could not be passed on to, hit frames whose reverse path
// was gone, subtrees re-planned, and frames dropped on full queues.
type Losses struct {
	TargetsLost, HitsUnroutable, Repaired uint64
	Dropped                               overlay.Traffic
}

// Sub returns l minus an earlier reading e.
func (l Losses) Sub(e Losses) Losses {
	d := l.Dropped
	d.DroppedQueries -= e.Dropped.DroppedQueries
	d.DroppedHits -= e.Dropped.DroppedHits
	d.DroppedAdverts -= e.Dropped.DroppedAdverts
	d.DroppedOther -= e.Dropped.DroppedOther
	return Losses{l.TargetsLost - e.TargetsLost, l.HitsUnroutable - e.HitsUnroutable, l.Repaired - e.Repaired, d}
}

// String implements fmt.Stringer.
func (l Losses) String() string {
	d := l.Dropped
	return fmt.Sprintf("targets lost %d, hit frames unroutable %d, subtrees re-planned %d; dropped on full queues: %d queries, %d hits, %d adverts, %d other",
		l.TargetsLost, l.HitsUnroutable, l.Repaired, d.DroppedQueries, d.DroppedHits, d.DroppedAdverts, d.DroppedOther)
}

// Losses sums the losses of the live supernodes, the leaves' dropped
// frames included.
func (n *Network) Losses() Losses {
	var l Losses
	for _, nd := range n.liveSupers() {
		st := nd.sn.Stats()
		l.TargetsLost += st.TargetsLost
		l.HitsUnroutable += st.HitsUnroutable
		l.Repaired += st.RoutesRepaired
		l.Dropped = l.Dropped.Add(st.Sent)
	}
	for _, nd := range n.nodes {
		if nd.alive.Load() {
			l.Dropped = l.Dropped.Add(nd.leaf.Traffic())
		}
	}
	return l
}
