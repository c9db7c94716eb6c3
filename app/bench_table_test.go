package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shoalp2p/shoal/engine/enginebench"
	benchrun "github.com/shoalp2p/shoal/internal/bench"
	benchstat "github.com/shoalp2p/shoal/internal/bench"
)

// The in-process swarm rows (c) and (d), and the table.

// swarmSpecs are (c): one seed at 8 MB/s and 16 leechers at 4 MB/s upload;
// (d): one seed at 4 MB/s, 8 reciprocating leechers at 2 MB/s and one
// free-rider (same engine and cap, but it never unchokes anyone).
func (b *bench) swarmSpecs() (swarm, free enginebench.SwarmSpec) {
	swarm = enginebench.SwarmSpec{Size: b.cfg.swarmSize, Leechers: 16, SeedUp: 8e6, LeecherUp: 4e6}
	free = enginebench.SwarmSpec{Size: b.cfg.freeSize, Leechers: 9, FreeRiders: 1, SeedUp: 4e6, LeecherUp: 2e6}
	// Time enough for the seed alone to serve everyone, and then some.
	for _, s := range []*enginebench.SwarmSpec{&swarm, &free} {
		s.Timeout = 2*time.Duration(float64(s.Leechers*s.Size)/float64(s.SeedUp)*float64(time.Second)) + time.Minute
	}
	return swarm, free
}

func (b *bench) runSwarms() {
	swarm, free := b.swarmSpecs()
	for r := 0; r < b.cfg.runs; r++ {
		b.swarm = append(b.swarm, benchSwarmRun{swarm, enginebench.RunSwarm(b.t, swarm)})
		b.free = append(b.free, benchSwarmRun{free, enginebench.RunSwarm(b.t, free)})
	}
}

// mbps is a sample's rate in MB/s (10⁶ bytes).
func (b *bench) mbps(s benchSample) float64 { return float64(b.cfg.size) / 1e6 / s.secs }

func (b *bench) rowMBps(r *benchRow) float64 {
	var v []float64
	for _, s := range r.samples {
		v = append(v, b.mbps(s))
	}
	return benchstat.Median(v)
}

// fastestOther is the best median MB/s among the one-to-one rows but r.
func (b *bench) fastestOther(r *benchRow) float64 {
	best := 0.0
	for _, o := range b.rows[:5] {
		if o != r && len(o.samples) > 0 {
			best = max(best, b.rowMBps(o))
		}
	}
	return best
}

// print writes the table: one block, every figure from this run.
func (b *bench) print(w io.Writer) {
	fmt.Fprintf(w, "\n=== Shoal bench (%s) %s — %d MiB file, %d KiB pieces, median of %d run(s), MB = 10⁶ bytes; %d CPUs, load %s at start, %s at end\n",
		map[bool]string{true: "smoke", false: "make bench"}[b.cfg.smoke], b.started.Format(time.RFC3339),
		b.cfg.size>>20, b.piece>>10, b.cfg.runs, runtime.NumCPU(), b.load, benchrun.LoadAvg())
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "row\t MB/s\t each run\t leecher CPU s\t leecher peak RSS MiB\t ÷ fastest other\t target or note")
	shoalRow := b.rows[0]
	for i, r := range b.rows {
		if i == 5 {
			b.printSHA1(tw, shoalRow)
		}
		b.printRow(tw, i, r)
	}
	tw.Flush()
	b.lossy.print(w)
	b.nat.print(w)
	b.printSwarms(w)
}

func (b *bench) printRow(tw io.Writer, i int, r *benchRow) {
	switch {
	case r.na != "":
		fmt.Fprintf(tw, "%s\t n/a\t\t\t\t\t %s\n", r.name, r.na)
		return
	case len(r.samples) == 0:
		fmt.Fprintf(tw, "%s\t FAILED\t\t\t\t\t %.160s\n", r.name, r.failed)
		return
	}
	var each []string
	var cpus, rsss []float64
	for _, s := range r.samples {
		each = append(each, fmt.Sprintf("%.1f", b.mbps(s)))
		cpus = append(cpus, s.cpu.Seconds())
		rsss = append(rsss, float64(s.rss)/(1<<20))
	}
	rate := b.rowMBps(r)
	ratio, target := "", ""
	switch {
	case r.beside != nil:
		ratio = fmt.Sprintf("%.2f× %s", rate/b.rowMBps(r.beside), r.beside.name)
		target = "same run"
		if r.atLeast > 0 {
			target = fmt.Sprintf("≥%.2f× %s", r.atLeast, benchstat.Mark(rate >= r.atLeast*b.rowMBps(r.beside)))
		}
	case r.reference:
		target = "the next rows' reference"
	case i == 0:
		ratio = fmt.Sprintf("%.2f×", rate/b.fastestOther(r))
		target = fmt.Sprintf("≥3× other %s; RSS ≤100 MiB %s", benchstat.Mark(rate >= 3*b.fastestOther(r)), benchstat.Mark(benchstat.Median(rsss) <= 100))
	case i < 5:
		ratio = fmt.Sprintf("%.2f×", rate/b.fastestOther(r))
	default: // (b)
		ratio = fmt.Sprintf("%.0f%% of ideal 100 MB/s", rate)
		target = "≥90% " + benchstat.Mark(rate >= 90)
	}
	if r.failed != "" {
		target += " (a later run FAILED)"
	}
	fmt.Fprintf(tw, "%s\t %.1f\t %s\t %.2f\t %.0f\t %s\t %s\n", r.name, rate, strings.Join(each, ", "),
		benchstat.Median(cpus), benchstat.Median(rsss), ratio, target)
}

func (b *bench) printSHA1(tw io.Writer, shoalRow *benchRow) {
	var each []string
	for _, v := range b.sha {
		each = append(each, fmt.Sprintf("%.0f", v))
	}
	limit := benchstat.Median(b.sha)
	pct, target := "", ""
	if len(shoalRow.samples) > 0 {
		p := 100 * b.rowMBps(shoalRow) / limit
		pct, target = fmt.Sprintf("Shoal→Shoal = %.0f%% of it", p), "≥50% "+benchstat.Mark(p >= 50)
	}
	fmt.Fprintf(tw, "Go crypto/sha1, same file (1 core)\t %.0f\t %s\t\t\t %s\t %s\n", limit, strings.Join(each, ", "), pct, target)
}

func (b *bench) printSwarms(w io.Writer) {
	if len(b.swarm) > 0 {
		s := b.swarm[0].spec
		var all []float64
		for _, r := range b.swarm {
			all = append(all, r.res.All.Seconds())
		}
		bound := s.LowerBound().Seconds()
		fmt.Fprintf(w, "(c) swarm, 1 seed (%.0f MB/s up) + %d leechers (%.0f MB/s up each), %d MiB: all done in %.1f s (runs %s); lower bound %.1f s; %.2f× the bound (target ≤1.25× %s)\n",
			float64(s.SeedUp)/1e6, s.Leechers, float64(s.LeecherUp)/1e6, s.Size>>20, benchstat.Median(all), benchstat.Join(all, "%.1f"),
			bound, benchstat.Median(all)/bound, benchstat.Mark(benchstat.Median(all)/bound <= 1.25))
	}
	if len(b.free) > 0 {
		s := b.free[0].spec
		var fr, rec, ratio []float64
		var up, filtered int64
		for _, r := range b.free {
			f, m, u := r.res.FreeRider(s)
			fr, rec, ratio = append(fr, f/1e6), append(rec, m/1e6), append(ratio, f/m)
			up, filtered = max(up, u), max(filtered, r.res.FilteredPieceBytes)
		}
		fmt.Fprintf(w, "(d) free-rider among %d reciprocators (seed %.0f MB/s, peers %.0f MB/s up), %d MiB: download rates while peers compete: free-rider %.2f MB/s, reciprocators' median %.2f MB/s, ratio %.2f (runs %s); free-rider uploaded %d B (engine), %d B through its filter\n",
			s.Leechers-s.FreeRiders, float64(s.SeedUp)/1e6, float64(s.LeecherUp)/1e6, s.Size>>20,
			benchstat.Median(fr), benchstat.Median(rec), benchstat.Median(ratio), benchstat.Join(ratio, "%.2f"), up, filtered)
	}
	fmt.Fprintln(w, "÷ fastest other: the row's MB/s over the best other one-to-one row. MB/s = size ÷ wall time from leecher start to verified completion.")
}
