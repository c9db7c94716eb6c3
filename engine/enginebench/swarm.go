package enginebench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/internal/bench"
)

// SwarmSpec describes an in-process swarm experiment under upload caps: one
// seed and Leechers leechers that all start at once. The last FreeRiders of
// the leechers never upload: peers reach them only through a ChokeFilter,
// so to everyone else they choke forever (a BitThief-style free-rider run
// by the same engine, with the same caps, as the others).
type SwarmSpec struct {
	Size       int   // content bytes
	Leechers   int   // N, including the free-riders
	FreeRiders int   // how many of the leechers never upload
	SeedUp     int64 // the seed's upload cap, bytes/s
	LeecherUp  int64 // each leecher's upload cap, bytes/s
	Timeout    time.Duration
	// Trace, if set, receives one line a second: the upload rate of the
	// seed and of each leecher over that second, and each leecher's progress.
	Trace      io.Writer
	TraceSlots bool // add each leecher's unchoked/of-them-interested peer counts
}

// LowerBound is the shortest possible time for every leecher to finish:
// max(F/U_seed, N·F/(U_seed + N·U_peer)) (Kumar and Ross, "Peer-assisted
// file distribution: the minimum distribution time").
func (s SwarmSpec) LowerBound() time.Duration {
	f, n := float64(s.Size), float64(s.Leechers)
	secs := max(f/float64(s.SeedUp), n*f/(float64(s.SeedUp)+n*float64(s.LeecherUp)))
	return time.Duration(secs * float64(time.Second))
}

// SwarmResult is what one run measured.
type SwarmResult struct {
	// Elapsed is each leecher's time from its own start to verified
	// completion, in leecher order (free-riders last).
	Elapsed []time.Duration
	// All is the time from the first start until the last leecher finished.
	All time.Duration
	// Uploaded is what each leecher's engine counted as uploaded.
	Uploaded []int64
	// FilteredPieceBytes is piece payload seen leaving free-riders through
	// their filters (0 unless a filter is bypassed).
	FilteredPieceBytes int64
	// ContentionRate is each leecher's download rate up to the moment half
	// of the reciprocating leechers had finished: the period in which peers
	// compete for each other's uploads, before finished leechers seed to
	// anyone who is left. A leecher already done by then has its whole-run
	// rate here.
	ContentionRate []float64
}

// Rate is leecher i's average download rate in bytes/s.
func (r SwarmResult) Rate(size, i int) float64 {
	return float64(size) / r.Elapsed[i].Seconds()
}

// FreeRider returns the first free-rider's download rate, the median rate
// of the leechers that reciprocate (bytes/s), and what the free-rider's
// engine counted as uploaded.
//
// Rates are taken while peers still compete (ContentionRate): tit-for-tat
// can only act while there is something to trade; afterwards finished
// leechers seed to everyone, free-riders included.
func (r SwarmResult) FreeRider(spec SwarmSpec) (rate, reciprocators float64, uploaded int64) {
	honest := spec.Leechers - spec.FreeRiders
	rates := make([]float64, 0, honest)
	for i := range honest {
		rates = append(rates, r.ContentionRate[i])
	}
	return r.ContentionRate[honest], bench.Median(rates), r.Uploaded[honest]
}

// RunSwarm runs one experiment and stops every engine it started before it
// returns (their folders are removed too, so repeated runs do not fill the
// disk). It fails the test if a leecher does not finish within Timeout.
func RunSwarm(t testing.TB, spec SwarmSpec) SwarmResult {
	t.Helper()
	root, err := os.MkdirTemp("", "shoal-swarm-")
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*enginetest.Node
	defer func() {
		for _, n := range nodes {
			n.Stop()
		}
		os.RemoveAll(root)
	}()
	start := func(name string, up int64) *enginetest.Node {
		cfg := enginetest.Config(t)
		cfg.DataDir, cfg.UploadLimit = filepath.Join(root, name), up
		cfg.ShareFormat = new(engine.FormatV1) // the swarm's torrent is v1 (writeTorrent)
		n := enginetest.Start(t, cfg)
		nodes = append(nodes, n)
		return n
	}
	seed := start("seed", spec.SeedUp)
	src := enginetest.RandomFile(t, filepath.Join(root, "content"), "swarm.bin", spec.Size)
	torrent, ih := writeTorrent(t, root, src)
	if got, err := seed.ShareSync(context.Background(), src, nil); err != nil || got != ih {
		t.Fatalf("enginetest: seed shares %s (%v), want %s", got, err, ih)
	}
	leechers := make([]*enginetest.Node, spec.Leechers)
	for i := range leechers {
		leechers[i] = start(fmt.Sprintf("leecher%02d", i), spec.LeecherUp)
	}
	return runLeechers(t, spec, seed, leechers, torrent, ih)
}

// runLeechers starts the downloads and waits until all are complete. Each
// leecher dials the seed and every leecher started before it; the
// free-riders start in the middle of the order, so they get neither the
// first pick of the seed nor the last, and every connection between a
// free-rider and another leecher passes through a ChokeFilter.
func runLeechers(t testing.TB, spec SwarmSpec, seed *enginetest.Node, leechers []*enginetest.Node, torrent string, ih engine.InfoHash) SwarmResult {
	t.Helper()
	honest := len(leechers) - spec.FreeRiders
	res := SwarmResult{Elapsed: make([]time.Duration, len(leechers)), Uploaded: make([]int64, len(leechers)),
		ContentionRate: make([]float64, len(leechers))}
	began := make([]time.Time, len(leechers))
	var filters []*ChokeFilter
	first := time.Now()
	var started []int
	for _, i := range startOrder(honest, len(leechers)) {
		peers := []string{seed.PeerAddr()}
		if i >= honest { // the seed too, or its peer exchange would name the others' real addresses
			f := NewChokeFilter(t, seed.PeerAddr(), false)
			filters = append(filters, f)
			peers[0] = f.Addr()
		}
		for _, j := range started {
			addr, iFree, jFree := leechers[j].PeerAddr(), i >= honest, j >= honest
			if iFree != jFree {
				f := NewChokeFilter(t, addr, jFree)
				filters = append(filters, f)
				addr = f.Addr()
			}
			peers = append(peers, addr)
		}
		began[i] = time.Now()
		if _, err := leechers[i].Download(context.Background(), engine.DownloadRequest{Source: torrent, Peers: peers}); err != nil {
			t.Fatalf("enginetest: leecher %d: %v", i, err)
		}
		started = append(started, i)
	}
	stopTrace := startTrace(spec, seed, leechers, ih, first)
	waitAll(t, spec, leechers, ih, began, res.Elapsed, res.ContentionRate)
	stopTrace()
	res.All = time.Since(first)
	time.Sleep(1100 * time.Millisecond) // engines count uploads once a second
	for i, n := range leechers {
		tr, _ := enginetest.Transfer(n.Snapshot(), ih)
		res.Uploaded[i] = tr.Uploaded
	}
	for _, f := range filters {
		res.FilteredPieceBytes += f.PieceBytes()
	}
	return res
}

// startOrder is the first half of the honest leechers, the free-riders
// (indexes honest..n-1), then the other honest ones.
func startOrder(honest, n int) []int {
	var order []int
	for i := range honest / 2 {
		order = append(order, i)
	}
	for i := honest; i < n; i++ {
		order = append(order, i)
	}
	for i := honest / 2; i < honest; i++ {
		order = append(order, i)
	}
	return order
}

// waitAll polls the leechers until each holds all the content, recording
// when each finished.
func waitAll(t testing.TB, spec SwarmSpec, leechers []*enginetest.Node, ih engine.InfoHash, began []time.Time, elapsed []time.Duration, contention []float64) {
	t.Helper()
	deadline := time.Now().Add(spec.Timeout)
	left := len(leechers)
	honest := len(leechers) - spec.FreeRiders
	recorded := false
	for left > 0 {
		if !recorded && honestDone(elapsed[:honest]) >= (honest+1)/2 {
			recordContention(spec, leechers, ih, began, elapsed, contention)
			recorded = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("enginetest: swarm: %d of %d leechers unfinished after %v", left, len(leechers), spec.Timeout)
		}
		time.Sleep(50 * time.Millisecond)
		for i, n := range leechers {
			if elapsed[i] != 0 {
				continue
			}
			if tr, ok := enginetest.Transfer(n.Snapshot(), ih); ok && tr.Size == int64(spec.Size) && tr.Have == tr.Size {
				elapsed[i] = time.Since(began[i])
				left--
			}
		}
	}
}

func honestDone(elapsed []time.Duration) int {
	n := 0
	for _, e := range elapsed {
		if e != 0 {
			n++
		}
	}
	return n
}

// recordContention notes each leecher's rate so far (whole-run rate for
// those already done).
func recordContention(spec SwarmSpec, leechers []*enginetest.Node, ih engine.InfoHash, began []time.Time, elapsed []time.Duration, contention []float64) {
	for i, n := range leechers {
		if elapsed[i] != 0 {
			contention[i] = float64(spec.Size) / elapsed[i].Seconds()
			continue
		}
		tr, _ := enginetest.Transfer(n.Snapshot(), ih)
		contention[i] = float64(tr.Have) / time.Since(began[i]).Seconds()
	}
}

// writeTorrent makes dir/swarm.torrent, v1, for src with the piece length
// Share picks, so its infohash is the seed's (which shares v1).
func writeTorrent(t testing.TB, dir, src string) (string, engine.InfoHash) {
	t.Helper()
	mi, err := storage.Create(context.Background(), src, storage.CreateOptions{Format: storage.V1Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "swarm.torrent")
	enginetest.WriteTorrent(t, mi, path)
	return path, engine.InfoHash(mi.HashInfoBytes())
}

// startTrace writes spec.Trace's lines until the returned func is called.
func startTrace(spec SwarmSpec, seed *enginetest.Node, leechers []*enginetest.Node, ih engine.InfoHash, first time.Time) (stop func()) {
	if spec.Trace == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		nodes := append([]*enginetest.Node{seed}, leechers...)
		last := make([]int64, len(nodes))
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var ups, haves strings.Builder
			var sum float64
			for i, n := range nodes {
				snap := n.Snapshot()
				up := snap.Ratio.SessionUploaded
				rate := float64(up-last[i]) / 1e6
				last[i] = up
				sum += rate
				fmt.Fprintf(&ups, " %4.1f", rate)
				if tr, ok := enginetest.Transfer(snap, ih); ok && tr.Size > 0 {
					fmt.Fprintf(&haves, " %3d", 100*tr.Have/tr.Size)
					if spec.TraceSlots {
						u, in := 0, 0
						for _, p := range tr.PeerDetails {
							if !p.Choked {
								u++
								if p.Interested {
									in++
								}
							}
						}
						fmt.Fprintf(&haves, "/%d:%d", u, in)
					}
				}
			}
			fmt.Fprintf(spec.Trace, "%5.1fs up MB/s%s (sum %5.1f) | have%%%s\n", time.Since(first).Seconds(), ups.String(), sum, haves.String())
		}
	}()
	return func() { close(done); <-finished }
}
