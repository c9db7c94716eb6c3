package sim

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSimSmall runs 100 nodes (4 supernodes) in go test: recall, routing
// and recovery after a supernode dies.
func TestSimSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	if _, err := RaiseFileLimit(); err != nil {
		t.Fatal(err)
	}
	// A search ends by itself once every supernode asked has answered;
	// the leaves' answer timeout and the measurement's cap only bound one
	// that never ends, so that recall counts what the overlay finds and
	// not how fast a loaded machine (-race, other tests) delivers it.
	// Latency is reported apart (first hit p50/p95). The leaves' default
	// answer timeout (5 s) ended searches before the cap did, and on a
	// starved machine (-race, load 15-20) searches gave up on answers
	// still coming: recall 0.94, 0.64 and 0.87 in 3 of 9 runs. In a copy
	// of this test at that load every miss was a search timed out at 5 s;
	// with a 60 s answer timeout all of 16 runs found 770 of 770, the
	// slowest (first hit p50 8.6 s) its last hit 23.5 s after its search
	// began.
	const searchCap = 60 * time.Second
	n, err := Start(Config{Nodes: 100, Seed: 1, AnswerTimeout: searchCap})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx := context.Background()
	readyCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := n.WaitReady(readyCtx, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	rep, err := n.Measure(ctx, 150, 30, searchCap)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	if rep.Recall() < 0.99 || rep.SingleRecall() < 0.99 || rep.Failed > 0 {
		t.Errorf("recall %.4f, single-copy %.4f, %d refused", rep.Recall(), rep.SingleRecall(), rep.Failed)
	}
	// Flooding sends every query to every other supernode.
	if flood := float64(rep.Supernodes - 1); rep.SuperQueryMsgs >= flood {
		t.Errorf("%.2f supernode query messages per query: no better than flooding (%.0f)", rep.SuperQueryMsgs, flood)
	}
	killed, batches, rec, losses := n.KillAndRecover(ctx, 0.25, 20, time.Second, 12*time.Second, 2*time.Second, 0.99)
	t.Logf("killed %d supernodes; recall back to 99%% after %v; batches %+v; %s", killed, rec, batches, losses)
	if killed != 1 || rec < 0 || rec > 10*time.Second {
		t.Errorf("killed %d, recovered after %v", killed, rec)
	}
}

// TestSimScale is the benchmark mode: SHOAL_SIM=1 runs 100, 1,000 and
// 3,000 nodes (or the sizes in SHOAL_SIM_NODES, comma-separated) and
// prints every figure.
func TestSimScale(t *testing.T) {
	if os.Getenv("SHOAL_SIM") == "" {
		t.Skip("set SHOAL_SIM=1 to run the large simulations")
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("open-file limit %d", limit)
	sizes := os.Getenv("SHOAL_SIM_NODES")
	if sizes == "" {
		sizes = "100,1000,3000"
	}
	for _, s := range strings.Split(sizes, ",") {
		nodes, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprint(nodes), func(t *testing.T) { runScale(t, nodes) })
	}
}

func runScale(t *testing.T, nodes int) {
	if busy := envInt("SHOAL_SIM_LOAD", 0); busy > 0 {
		stopLoad := cpuLoad(busy)
		defer stopLoad()
		t.Logf("CPU load beside the simulation: %d busy goroutines", busy)
	}
	stopProfile := profile(t, "SHOAL_SIM_CPUPROFILE", nodes, "start")
	start := time.Now()
	debug.SetGCPercent(400) // the harness has memory to spare; fewer collections
	cfg := Config{Nodes: nodes, Seed: uint64(nodes), Logf: t.Logf, JoinRate: envInt("SHOAL_SIM_JOIN_RATE", 200),
		CountLogs: os.Getenv("SHOAL_SIM_LOGS") != ""}
	if path := os.Getenv("SHOAL_SIM_GOROUTINES"); path != "" {
		cfg.AfterKill = func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("goroutine").WriteTo(f, 1)
				f.Close()
			}
		}
	}
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx := context.Background()
	readyCtx, cancel := context.WithTimeout(ctx, time.Duration(envInt("SHOAL_SIM_READY_SECONDS", 600))*time.Second)
	defer cancel()
	if err := n.WaitReady(readyCtx, 2*time.Second); err != nil {
		stopProfile()
		if path := os.Getenv("SHOAL_SIM_GOROUTINES"); path != "" {
			if f, err := os.Create(path + ".notready"); err == nil {
				pprof.Lookup("goroutine").WriteTo(f, 1)
				f.Close()
			}
		}
		t.Fatal(err)
	}
	stale, total := n.StaleViews()
	ready := time.Since(start).Round(time.Millisecond)
	t.Logf("%d nodes, %d files, ready in %v; stale advert views %d of %d", nodes, len(n.Cat.Files), ready, stale, total)
	// As in TestSimSmall, a search ends by itself once every supernode
	// asked has answered (or the overlay's own answer timeout has passed);
	// the cap only bounds a lost one, so that recall counts what the
	// overlay finds, not how fast a loaded machine delivers it. Latency is
	// reported apart (first hit p50/p95).
	queryCap := time.Duration(envInt("SHOAL_SIM_QUERY_TIMEOUT_MS", 10000)) * time.Millisecond
	rep, err := n.Measure(ctx, envInt("SHOAL_SIM_QUERIES", 1000), float64(envInt("SHOAL_SIM_RATE", 20)), queryCap)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	stale, total = n.StaleViews()
	t.Logf("stale advert views after the queries: %d of %d", stale, total)
	stopProfile()
	stopProfile = profile(t, "SHOAL_SIM_CPUPROFILE", nodes, "kill")
	defer stopProfile()
	n.logSummary() // count from the kill on
	killed, batches, rec, losses := n.KillAndRecover(ctx, 0.2, 40, time.Second, 15*time.Second, time.Duration(envInt("SHOAL_SIM_KILL_TIMEOUT_MS", 10000))*time.Millisecond, 0.99)
	t.Logf("killed %d of %d supernodes at once; recall back to >= 99%% for good after %v", killed, rep.Supernodes, rec)
	for _, b := range batches {
		t.Logf("  +%4.1fs recall %.4f (%d pairs; %d queries, %d found nothing, %d refused; %.1f supernodes asked per query, %d ended at the answer timeout, %d unended; %s)",
			b.At.Seconds(), b.Recall, b.Pairs, b.Queries, b.Empty, b.Failed, b.Asked, b.TimedOut, b.Unended, b.Missed)
	}
	t.Logf("on the way since the kill: %s", losses)
	if s := n.logSummary(); s != "" {
		t.Logf("log records since the last report:%s", s)
	}
	stale, total = n.StaleViews()
	t.Logf("stale advert views at the end: %d of %d", stale, total)
	// The two figures, on one line for make bench.
	recovered := "never (within the window)"
	if rec >= 0 {
		recovered = rec.String()
	}
	t.Logf("BENCH overlay %d nodes, %d busy goroutines beside, load average %s: recall %.4f (target >= 0.995); after losing %d of %d supernodes, back to >= 99%% for good after %s (target <= 5s); ready in %v; stale advert views at the end %d of %d",
		nodes, envInt("SHOAL_SIM_LOAD", 0), loadAverage(), rep.Recall(), killed, rep.Supernodes, recovered, ready, stale, total)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// profile writes a CPU profile to $env.nodes.phase until the returned
// function is called, if env names a path.
func profile(t *testing.T, env string, nodes int, phase string) func() {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(fmt.Sprintf("%s.%d.%s", path, nodes, phase))
	if err != nil {
		t.Fatal(err)
	}
	pprof.StartCPUProfile(f)
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// cpuLoad keeps n goroutines busy (the CPU load a real machine has beside
// Shoal) until the returned function is called.
func cpuLoad(n int) func() {
	stop := make(chan struct{})
	var sink atomic.Uint64
	for range n {
		go func() {
			x := uint64(1)
			for {
				select {
				case <-stop:
					sink.Add(x)
					return
				default:
				}
				for range 10_000 {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
		}()
	}
	return func() { close(stop) }
}

// loadAverage is the machine's 1-minute load average, for the report (a
// shared machine's load changes every figure).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b) + " unknown")[0]
}
