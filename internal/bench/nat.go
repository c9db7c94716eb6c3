package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/shoalp2p/shoal/internal/netlab"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// The behind-a-router rows: one seeder, behind the lab's UPnP router r1
// (host h1) or on the public segment (s1), and 8 public leechers (s2..s9)
// that dial it: at r1's public address and the port the seeder mapped, or
// at s1. The leechers are `shoal get` processes, TCP only, each capped at
// 16 KiB/s of upload so that the seeder serves nearly every byte. A run is
// all 8 started at once; the figure is 8 × size ÷ the time from the first
// start to the last verified copy. Shoal maps its port itself (UPnP); so
// does qBittorrent-nox (PortForwardingEnabled, UPnP and NAT-PMP), measured
// the same way in the same run. The target: behind the router at least 90%
// of the public figure. Runs alternate which of a client's two seeders
// goes first.

const natLeechers = 8

// natSeeder is one seeder of the rows.
type natSeeder struct {
	client string // "Shoal" or "qBittorrent-nox"
	host   string // "h1" (behind r1) or "s1"
	port   int    // its listen port on host
	addr   string // where leechers dial it
	secs   []float64
	failed string
	skip   string
}

// natBench is the content, the lab and the seeders.
type natBench struct {
	benchContent
	b       *bench
	size    int64
	runs    int
	lab     *netlab.Lab
	seeders []*natSeeder
}

// natRowName names the block's rows in BENCH_ROWS.
const natRowName = "behind a UPnP router"

// runNAT measures the behind-a-router rows (BENCH_NAT_SIZE, default 64
// MiB, 8 MiB in smoke) unless BENCH_ROWS leaves them out.
func (b *bench) runNAT() *natBench {
	if !Selected(natRowName) {
		return nil
	}
	nb := &natBench{b: b, runs: b.cfg.runs, size: 64 << 20}
	if b.cfg.smoke {
		nb.size = 8 << 20
	}
	nb.size = b.opt.envSize(b.t, "BENCH_NAT_SIZE", nb.size)
	for _, c := range []string{"Shoal", "qBittorrent-nox"} {
		for _, h := range []string{"s1", "h1"} {
			nb.seeders = append(nb.seeders, &natSeeder{client: c, host: h})
		}
	}
	if err := nb.setup(); err != nil {
		nb.failAll(err)
		return nb
	}
	for run := 1; run <= nb.runs; run++ {
		for i := 0; i+1 < len(nb.seeders); i += 2 {
			pair := []*natSeeder{nb.seeders[i], nb.seeders[i+1]}
			if run%2 == 0 {
				pair[0], pair[1] = pair[1], pair[0] // public first, then behind first: no order bias
			}
			for _, s := range pair {
				if s.failed == "" && s.skip == "" {
					nb.runOnce(s, run)
				}
			}
		}
	}
	return nb
}

// failAll marks every row n/a (a missing prerequisite) or failed.
func (nb *natBench) failAll(err error) {
	var na benchNA
	for _, s := range nb.seeders {
		if errors.As(err, &na) {
			s.skip = string(na)
		} else if s.failed == "" && s.skip == "" {
			s.failed = err.Error()
		}
	}
	if !errors.As(err, &na) {
		nb.b.t.Errorf("%s: %v", natRowName, err)
	}
}

// setup writes the content and its .torrent, builds the lab and starts
// the four seeders.
func (nb *natBench) setup() error {
	b := nb.b
	if err := netlab.Available(); err != nil {
		if os.Getenv(netlab.RequireEnv) == "1" {
			return err
		}
		return benchNA("netlab: " + err.Error())
	}
	var err error
	if nb.benchContent, err = makeBenchContent(b.t.Context(), b.opt.Shoal, b.root, "nat", nb.size); err != nil {
		return err
	}
	nb.lab = netlab.New(b.t, netlab.Options{PublicHosts: 1 + natLeechers})
	for i, s := range nb.seeders {
		s.port = 42100 + i
		start := nb.startShoal
		if s.client != "Shoal" {
			start = nb.startQbit
		}
		if err := start(s); err != nil {
			var na benchNA
			if errors.As(err, &na) {
				s.skip = string(na)
				continue
			}
			s.failed = err.Error()
			b.t.Errorf("%s: %s seeder on %s: %v", natRowName, s.client, s.host, err)
		}
	}
	return nil
}

// dialAddr is where leechers reach a seeder on host at port: r1's public
// address behind the router (the mapping keeps the port), else the host's.
func (nb *natBench) dialAddr(host string, port int) string {
	ip := nb.lab.Host(host).Addr
	if host == "h1" {
		ip = nb.lab.Router("r1").Addr
	}
	return ip.String() + ":" + strconv.Itoa(port)
}

// startShoal starts `shoal daemon --share` on s.host and, behind the
// router, waits until r1 forwards its port.
func (nb *natBench) startShoal(s *natSeeder) error {
	b, n := nb.b, nb.lab.Host(s.host)
	p, err := b.startLabShoal(n, "daemon", "0.0.0.0:"+strconv.Itoa(s.port), b.scratch("nat-seed"),
		"--share", nb.src, "--share-format", "v1", "--log-level", "info", "--utp", "off")
	if err != nil {
		return err
	}
	if _, err := nb.seederReady(p, "shoal seeder ready on "+s.host, time.Minute); err != nil {
		return err
	}
	s.addr = nb.dialAddr(s.host, s.port)
	return nb.waitMapped(s)
}

// startQbit starts a qBittorrent-nox seeder on s.host that maps its own
// port (UPnP and NAT-PMP on), and waits until it seeds and, behind the
// router, until r1 forwards its port.
func (nb *natBench) startQbit(s *natSeeder) error {
	b, n := nb.b, nb.lab.Host(s.host)
	o := labQbitOptions(n, "TCP")
	o.PortForwarding = true
	q, err := startBenchQbitWith(b.t, nb.torrent, filepath.Dir(nb.src), true, o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := peerclients.Poll(ctx, "qbittorrent seeder ready on "+s.host, q.Done); err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(q.PeerAddr)
	if err != nil {
		return err
	}
	s.port, _ = strconv.Atoi(port)
	s.addr = nb.dialAddr(s.host, s.port)
	return nb.waitMapped(s)
}

// waitMapped waits, for a seeder behind r1, until r1 forwards its TCP port.
func (nb *natBench) waitMapped(s *natSeeder) error {
	if s.host != "h1" {
		return nil
	}
	r1 := nb.lab.Router("r1")
	return peerclients.PollFor(30*time.Second, s.client+"'s port mapped on r1", func() (bool, error) {
		rules, err := r1.Mappings()
		if err != nil {
			return false, err
		}
		for _, r := range rules {
			if strings.Contains(r, "-p tcp") && strings.Contains(r, "--dport "+strconv.Itoa(s.port)+" ") {
				return true, nil
			}
		}
		return false, nil
	})
}

// runOnce starts the 8 leechers at once on s2..s9, each dialing the
// seeder, and records the time to the last verified copy.
func (nb *natBench) runOnce(s *natSeeder, run int) {
	Settle()
	var before int
	if s.host == "h1" {
		before, _ = nb.lab.Router("r1").MappedConnections("tcp", s.port)
	}
	start := time.Now()
	errs := make([]error, natLeechers)
	outs := make([]string, natLeechers)
	var wg sync.WaitGroup
	for i := range natLeechers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = nb.leech(fmt.Sprintf("s%d", i+2), s.addr)
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	err := errors.Join(errs...)
	for _, out := range outs {
		if err == nil && out != "" {
			err = nb.check(out)
		}
		os.RemoveAll(out)
	}
	if err == nil && s.host == "h1" {
		if after, cerr := nb.lab.Router("r1").MappedConnections("tcp", s.port); cerr != nil || after <= before {
			err = fmt.Errorf("no connection came through r1's mapping of port %d (%d before, %d after, %v)", s.port, before, after, cerr)
		}
	}
	nb.b.t.Logf("%s, %s seeder on %s (%s), run %d: %.1f s, %.1f MB/s (%v)", natRowName, s.client, s.host, s.addr, run,
		secs, float64(natLeechers*nb.size)/1e6/secs, err)
	if err != nil {
		s.failed = fmt.Sprintf("run %d: %v", run, err)
		nb.b.t.Errorf("%s: %s seeder on %s: %s", natRowName, s.client, s.host, s.failed)
		return
	}
	s.secs = append(s.secs, secs)
}

// leech runs one `shoal get` on host from seeder and returns its output
// folder.
func (nb *natBench) leech(host, seeder string) (string, error) {
	b, n := nb.b, nb.lab.Host(host)
	out, data := b.scratch("nat-out"), b.scratch("nat-data")
	defer os.RemoveAll(data)
	timeout := time.Duration(float64(natLeechers*nb.size)/1e6*float64(time.Second)) + time.Minute // at least 1 MB/s for the seeder
	p, err := b.startLabShoal(n, "get", "", data, "--quiet", "--port-mapping", "off", "--utp", "off", "--max-up", "16KiB",
		"--out", out, "--timeout", timeout.String(), "--peer", seeder, nb.torrent)
	if err == nil {
		err = p.Wait(timeout + 30*time.Second)
	}
	if err != nil {
		return out, fmt.Errorf("leecher on %s: %w", host, err)
	}
	return out, nil
}

// mbps is a seeder's median upload to the 8 leechers, MB/s.
func (nb *natBench) mbps(s *natSeeder) float64 {
	return float64(natLeechers*nb.size) / 1e6 / Median(s.secs)
}

// print writes the block: per client, public and behind the router.
func (nb *natBench) print(w io.Writer) {
	if nb == nil {
		return
	}
	fmt.Fprintf(w, "\nSeeder %s (netlab: h1 behind r1, miniupnpd; public s1) uploading a %d MiB file to %d public leechers (`shoal get --utp off --max-up 16KiB`, s2..s9, all at once, dialing r1's mapped port or s1); MB/s = %d × size ÷ time to the last verified copy, median of %d\n",
		natRowName, nb.size>>20, natLeechers, natLeechers, nb.runs)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "seeder\t public MB/s\t each run s\t behind UPnP MB/s\t each run s\t behind ÷ public\t target ≥0.90")
	for i := 0; i+1 < len(nb.seeders); i += 2 {
		pub, nat := nb.seeders[i], nb.seeders[i+1]
		fmt.Fprintf(tw, "%s\t %s\t %s\t %s\t %s\t %s\n", pub.client, nb.cell(pub), Join(pub.secs, "%.1f"),
			nb.cell(nat), Join(nat.secs, "%.1f"), nb.compare(pub, nat))
	}
	tw.Flush()
}

func (nb *natBench) cell(s *natSeeder) string {
	switch {
	case s.skip != "":
		return "n/a"
	case len(s.secs) == 0:
		return "FAILED"
	}
	return fmt.Sprintf("%.1f", nb.mbps(s))
}

func (nb *natBench) compare(pub, nat *natSeeder) string {
	for _, s := range []*natSeeder{pub, nat} {
		switch {
		case s.skip != "":
			return "\t " + s.skip
		case s.failed != "":
			return "\t FAILED: " + clip(s.failed, 160)
		}
	}
	r := nb.mbps(nat) / nb.mbps(pub)
	return fmt.Sprintf("%.2f\t %s", r, Mark(r >= 0.9))
}
