package bench

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// The table: the rows measured here, then the lossy-link, behind-a-router
// and in-process blocks.

// mbps is a sample's rate in MB/s (10⁶ bytes).
func (b *bench) mbps(s benchSample) float64 { return float64(b.cfg.size) / 1e6 / s.secs }

func (b *bench) rowMBps(r *benchRow) float64 {
	var v []float64
	for _, s := range r.samples {
		v = append(v, b.mbps(s))
	}
	return Median(v)
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
		b.cfg.size>>20, b.piece>>10, b.cfg.runs, runtime.NumCPU(), b.load, LoadAvg())
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
	if b.opt.Swarms != nil {
		b.opt.Swarms.Print(w)
	}
	fmt.Fprintln(w, "÷ fastest other: the row's MB/s over the best other one-to-one row. MB/s = size ÷ wall time from leecher start to verified completion.")
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
			target = fmt.Sprintf("≥%.2f× %s", r.atLeast, Mark(rate >= r.atLeast*b.rowMBps(r.beside)))
		}
	case r.reference:
		target = "the next rows' reference"
	case i == 0:
		ratio = fmt.Sprintf("%.2f×", rate/b.fastestOther(r))
		target = fmt.Sprintf("≥3× other %s; RSS ≤100 MiB %s", Mark(rate >= 3*b.fastestOther(r)), Mark(Median(rsss) <= 100))
	case i < 5:
		ratio = fmt.Sprintf("%.2f×", rate/b.fastestOther(r))
	default: // (b)
		ratio = fmt.Sprintf("%.0f%% of ideal 100 MB/s", rate)
		target = "≥90% " + Mark(rate >= 90)
	}
	if r.failed != "" {
		target += " (a later run FAILED)"
	}
	fmt.Fprintf(tw, "%s\t %.1f\t %s\t %.2f\t %.0f\t %s\t %s\n", r.name, rate, strings.Join(each, ", "),
		Median(cpus), Median(rsss), ratio, target)
}

func (b *bench) printSHA1(tw io.Writer, shoalRow *benchRow) {
	var each []string
	for _, v := range b.sha {
		each = append(each, fmt.Sprintf("%.0f", v))
	}
	limit := Median(b.sha)
	pct, target := "", ""
	if len(shoalRow.samples) > 0 {
		p := 100 * b.rowMBps(shoalRow) / limit
		pct, target = fmt.Sprintf("Shoal→Shoal = %.0f%% of it", p), "≥50% "+Mark(p >= 50)
	}
	fmt.Fprintf(tw, "Go crypto/sha1, same file (1 core)\t %.0f\t %s\t\t\t %s\t %s\n", limit, strings.Join(each, ", "), pct, target)
}
