package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/shoalp2p/shoal/internal/lossylink"
	"github.com/shoalp2p/shoal/internal/netlab"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// The lossy-link rows: a seeder set of real clients on host A of a
// netlab.Lossy lab (a qBittorrent-nox seeder and a Shoal seeder), and on
// host B a Shoal leecher and a qBittorrent-nox leecher, one after the
// other, each dialing both seeders, through a link shaped by lossylink
// (one-way delay, random loss each way, a rate cap with a 100 ms queue).
// Rows: each link shape × TCP only, then uTP only; each the median of the
// runs, the two leechers interleaved run by run. Both times run from the
// leecher's process start (so both pay their start-up); qBittorrent's time
// from the moment it was given the peers is shown beside it.

// lossyShape is one link setting of the table.
type lossyShape struct {
	name string
	cfg  lossylink.Config
}

// lossyShapes are the two links, both capped at BENCH_LOSSY_RATE
// (default 40 Mbit/s).
func lossyShapes(rate int64) []lossyShape {
	return []lossyShape{
		{"50 ms RTT, 0% loss", lossylink.Config{Delay: 25 * time.Millisecond, Rate: rate}},
		{"100 ms RTT, 0.5% loss", lossylink.Config{Delay: 50 * time.Millisecond, Loss: 0.005, Rate: rate}},
	}
}

// lossyRow is one (shape, transport) row: both leechers' runs.
type lossyRow struct {
	shape        lossyShape
	utp          bool
	shoal, qbit  []float64 // seconds to a verified copy
	qbitPeers    []float64 // qBittorrent's seconds from being given the peers
	failed, skip string
}

func (r *lossyRow) name() string {
	return fmt.Sprintf("lossy link %s, %s", r.shape.name, map[bool]string{false: "TCP", true: "uTP"}[r.utp])
}

// lossyBench is the content and the lab for the rows.
type lossyBench struct {
	benchContent
	b       *bench
	size    int64
	rate    int64
	runs    int
	lab     *netlab.Lossy
	seeders []string // host:port on A: qBittorrent's, then Shoal's
	rows    []*lossyRow
	yield   *yieldResult // the LEDBAT yield row, if run
}

// lossyConfig reads BENCH_LOSSY_SIZE (default 32 MiB, 4 MiB in smoke)
// and BENCH_LOSSY_RATE in bits/s (default 40 Mbit/s).
func (b *bench) lossyConfig() (size, rate int64) {
	size, rate = 32<<20, 40e6
	if b.cfg.smoke {
		size = 4 << 20
	}
	size = b.opt.envSize(b.t, "BENCH_LOSSY_SIZE", size)
	if v := os.Getenv("BENCH_LOSSY_RATE"); v != "" {
		if _, err := fmt.Sscan(v, &rate); err != nil || rate <= 0 {
			b.t.Fatalf("BENCH_LOSSY_RATE=%q: want bits per second, such as 40000000", v)
		}
	}
	return size, rate
}

// runLossy measures the lossy-link rows (unless BENCH_ROWS leaves them
// out) and returns them for printing.
func (b *bench) runLossy() *lossyBench {
	lb := &lossyBench{b: b, runs: b.cfg.runs}
	lb.size, lb.rate = b.lossyConfig()
	for _, sh := range lossyShapes(lb.rate) {
		if b.cfg.smoke && sh.cfg.Loss > 0 {
			continue // smoke keeps the harness working; the lossy shape is slow
		}
		for _, utp := range []bool{false, true} {
			lb.rows = append(lb.rows, &lossyRow{shape: sh, utp: utp})
		}
	}
	lb.rows = slices.DeleteFunc(lb.rows, func(r *lossyRow) bool { return !Selected(r.name()) })
	// Smoke's file is too small to overlap the TCP flow; BENCH_ROWS can still ask.
	wantYield := Selected(yieldRowName) && (Picking() || !b.cfg.smoke)
	if len(lb.rows) == 0 && !wantYield {
		return nil
	}
	if err := lb.setup(); err != nil {
		var na benchNA
		if errors.As(err, &na) {
			for _, r := range lb.rows {
				r.skip = string(na)
			}
			return lb
		}
		b.t.Errorf("lossy link: %v", err)
		for _, r := range lb.rows {
			r.failed = err.Error()
		}
		return lb
	}
	for _, r := range lb.rows {
		lb.runRow(r)
	}
	if wantYield {
		lb.runYield()
	}
	return lb
}

// setup writes the content and its .torrent, builds the lab and starts
// the seeders on A.
func (lb *lossyBench) setup() error {
	b := lb.b
	var err error
	if lb.benchContent, err = makeBenchContent(b.t.Context(), b.opt.Shoal, b.root, "lossy", lb.size); err != nil {
		return err
	}
	lb.lab = netlab.NewLossy(b.t, lossyShapes(lb.rate)[0].cfg)
	q, err := startBenchQbitWith(b.t, lb.torrent, filepath.Dir(lb.src), true, labQbitOptions(lb.lab.A, "Both"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := peerclients.Poll(ctx, "qbittorrent seeder ready", q.Done); err != nil {
		return err
	}
	addr, err := lb.shoalSeeder()
	if err != nil {
		return err
	}
	lb.seeders = []string{q.PeerAddr, addr}
	b.t.Logf("lossy link: %d-byte file, seeders %v on %s", lb.size, lb.seeders, lb.lab.A.Addr)
	return nil
}

// shoalSeeder starts `shoal daemon --share` on A and returns its peer address.
func (lb *lossyBench) shoalSeeder() (string, error) {
	b := lb.b
	p, err := b.startLabShoal(lb.lab.A, "daemon", "", b.scratch("lossy-seed"), "--share", lb.src, "--share-format", "v1")
	if err != nil {
		return "", err
	}
	ready, err := lb.seederReady(p, "shoal seeder ready on the lossy lab", time.Minute)
	return ready.PeerAddr, err
}

// timeout bounds one transfer: at least 100 kB/s, plus start-up.
func (lb *lossyBench) timeout() time.Duration {
	return time.Duration(float64(lb.size)/1e5*float64(time.Second)) + time.Minute
}

// runRow sets the link's shape and runs both leechers, interleaved.
func (lb *lossyBench) runRow(r *lossyRow) {
	if err := lb.lab.Link.SetConfig(r.shape.cfg); err != nil {
		r.failed = err.Error()
		return
	}
	for run := 1; run <= lb.runs && r.failed == ""; run++ {
		for _, leech := range []struct {
			name string
			f    func(*lossyRow) (float64, error)
			into *[]float64
		}{{"Shoal", lb.shoalLeech, &r.shoal}, {"qBittorrent", lb.qbitLeech, &r.qbit}} {
			Settle()
			ab0, ba0 := lb.lab.Link.Stats()
			secs, err := leech.f(r)
			ab, ba := lb.lab.Link.Stats()
			lb.b.t.Logf("%s, %s run %d: %.1f s (%v); link A→B %d packets, %d lost, %d overflowed; B→A %d packets, %d lost, %d overflowed",
				r.name(), leech.name, run, secs, err, ab.Packets-ab0.Packets, ab.Lost-ab0.Lost, ab.Overflow-ab0.Overflow,
				ba.Packets-ba0.Packets, ba.Lost-ba0.Lost, ba.Overflow-ba0.Overflow)
			if err != nil {
				r.failed = fmt.Sprintf("%s run %d: %v", leech.name, run, err)
				lb.b.t.Errorf("%s: %s", r.name(), r.failed)
				break
			}
			*leech.into = append(*leech.into, secs)
		}
	}
}

// shoalLeech runs `shoal get` on B from both seeders.
func (lb *lossyBench) shoalLeech(r *lossyRow) (float64, error) {
	b, host, utp := lb.b, lb.lab.B, r.utp
	out, data := b.scratch("lossy-shoal-out"), b.scratch("lossy-shoal-data")
	defer os.RemoveAll(data)
	defer os.RemoveAll(out)
	args := []string{"--quiet", "--out", out, "--timeout", lb.timeout().String(), "--utp", map[bool]string{false: "off", true: "only"}[utp]}
	for _, s := range lb.seeders {
		args = append(args, "--peer", s)
	}
	p, err := b.startLabShoal(host, "get", "", data, append(args, lb.torrent)...)
	if err == nil {
		err = p.Wait(lb.timeout() + 30*time.Second)
	}
	if err != nil {
		return 0, err
	}
	return p.Ended().Sub(p.Started).Seconds(), lb.check(out)
}

// qbitLeech runs a qBittorrent-nox leecher on B, gives it both seeders
// through its Web API and waits for a complete, checked copy.
func (lb *lossyBench) qbitLeech(r *lossyRow) (float64, error) {
	b, host, utp := lb.b, lb.lab.B, r.utp
	out := b.scratch("lossy-qbit-out")
	defer os.RemoveAll(out)
	q, err := startBenchQbitWith(b.t, lb.torrent, out, false, labQbitOptions(host, map[bool]string{false: "TCP", true: "UTP"}[utp]))
	if err != nil {
		return 0, err
	}
	defer q.Proc.Stop(15 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), lb.timeout())
	defer cancel()
	if err := peerclients.Poll(ctx, "qbittorrent leecher loaded", q.Loaded); err != nil {
		return 0, err
	}
	if err := q.AddPeers(lb.ih, lb.seeders...); err != nil {
		return 0, err
	}
	added := time.Now()
	if err := peerclients.Poll(ctx, "qbittorrent leecher completes", q.Done); err != nil {
		return 0, err
	}
	secs := time.Since(q.Proc.Started).Seconds()
	r.qbitPeers = append(r.qbitPeers, time.Since(added).Seconds())
	q.Proc.Stop(15 * time.Second)
	return secs, lb.check(out)
}

// print writes the lossy-link block of the table.
func (lb *lossyBench) print(w io.Writer) {
	if lb == nil {
		return
	}
	fmt.Fprintf(w, "\nLossy link (userspace lossylink between two namespaces; cap %.0f Mbit/s each way, 100 ms queue), %d MiB, seeders on A: qBittorrent-nox (TCP and uTP) + Shoal; leechers on B one at a time, each dialing both; seconds to a verified copy, median of %d\n",
		float64(lb.rate)/1e6, lb.size>>20, lb.runs)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "row\t Shoal s\t each run\t qBittorrent s\t each run\t qBittorrent from peers given\t Shoal ÷ qBittorrent\t target ≤0.9×")
	for _, r := range lb.rows {
		switch {
		case r.skip != "":
			fmt.Fprintf(tw, "%s\t n/a\t\t\t\t\t\t %s\n", r.name(), r.skip)
		case len(r.shoal) == 0 || len(r.qbit) == 0:
			fmt.Fprintf(tw, "%s\t FAILED\t %s\t\t %s\t\t\t %.160s\n", r.name(), Join(r.shoal, "%.1f"), Join(r.qbit, "%.1f"), r.failed)
		default:
			s, q := Median(r.shoal), Median(r.qbit)
			note := Mark(s <= 0.9*q)
			if r.failed != "" {
				note += " (a later run FAILED: " + r.failed + ")"
			}
			fmt.Fprintf(tw, "%s\t %.1f\t %s\t %.1f\t %s\t %s\t %.2f×\t %s\n", r.name(), s, Join(r.shoal, "%.1f"), q, Join(r.qbit, "%.1f"),
				Join(r.qbitPeers, "%.1f"), s/q, note)
		}
	}
	tw.Flush()
	lb.printYield(w)
}
