package bench

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
)

// Table is `make bench` (app's TestBenchTable): one table, every row
// measured in this run on this machine. SHOAL_BENCH=1 runs it at full
// size (BENCH_SIZE, default 1GiB; BENCH_RUNS runs, default 5, medians
// shown); SHOAL_BENCH=smoke runs every row once on small files so the
// harness keeps working (make test). Nothing here asserts a speed: the
// machine is shared and noisy. Rows fail only when a transfer fails.
func Table(t *testing.T, o Options) {
	cfg := benchConfigFor(t, o, Begin(t))
	b := newBench(t, o, cfg)
	b.header()
	defer b.print(os.Stdout) // also after a fatal error: what was measured
	b.runPairs()
	b.lossy = b.runLossy()
	b.nat = b.runNAT()
	if !Picking() && o.Swarms != nil {
		o.Swarms.Run(t, cfg.swarmSize, cfg.freeSize, cfg.runs)
	}
}

// Options is what a bench's entry point, a test in app, passes in: what
// this package may not import itself (internal/ never imports engine or
// app, see app's TestImportDirection).
type Options struct {
	// Shoal is the shoal binary the rows run (app's TestMain builds it).
	Shoal string
	// ParseSize reads a byte count such as 1GiB or 64MiB (BENCH_SIZE and
	// kin): app's parseRate, on engine/units.
	ParseSize func(string) (int64, error)
	// Swarms are the table's in-process rows, nil to leave them out.
	Swarms Swarms
	// Torrent makes the .torrent of one file as Shoal shares it, and its
	// infohash: the idle library's Transmission state (engine/storage).
	Torrent func(path string) (metainfo []byte, infohash [20]byte, err error)
	// X starts a private X server for the GUI rows and returns its display
	// and the environment a window on it runs with.
	X func(t *testing.T) (display string, env []string)
	// FyneFloor is the folder of the empty Fyne window's main package, the
	// floor under the GUI rows (go build runs on it).
	FyneFloor string
}

// Swarms are the table's in-process rows, (c) a capped swarm against its
// lower bound and (d) a free-rider among reciprocators: Shoal engines in
// this process, which this package may not import. engine/enginebench
// has them (SwarmRows); the entry point passes them in.
type Swarms interface {
	// Run measures the rows runs times, on swarmSize and freeSize bytes.
	Run(t *testing.T, swarmSize, freeSize, runs int)
	// Print writes the rows' lines below the table.
	Print(w io.Writer)
}

// benchConfig is what the environment asks for.
type benchConfig struct {
	smoke     bool
	size      int64 // (a) and (b) content
	runs      int
	swarmSize int           // (c)
	freeSize  int           // (d)
	probe     time.Duration // how long Transmission→Transmission may try
}

// benchConfigFor is the smoke configuration or, for the full run, the
// sizes and runs the environment asks for.
func benchConfigFor(t *testing.T, o Options, smoke bool) benchConfig {
	if smoke {
		return benchConfig{smoke: true, size: 16 << 20, runs: 1, swarmSize: 2 << 20, freeSize: 2 << 20, probe: 10 * time.Second}
	}
	c := benchConfig{size: 1 << 30, swarmSize: 64 << 20, freeSize: 32 << 20, probe: 20 * time.Second}
	c.size = o.envSize(t, "BENCH_SIZE", c.size)
	c.swarmSize = int(o.envSize(t, "BENCH_SWARM_SIZE", int64(c.swarmSize)))
	c.freeSize = int(o.envSize(t, "BENCH_FREERIDER_SIZE", int64(c.freeSize)))
	c.runs = Runs(t, 5)
	return c
}

// envSize reads a byte count such as 1GiB or 64MiB (ParseSize's units).
func (o Options) envSize(t testing.TB, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := o.ParseSize(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a size such as 1GiB", name, v)
	}
	return n
}

// benchSample is one measured leecher run.
type benchSample struct {
	secs float64       // wall time from leecher start to verified completion
	cpu  time.Duration // leecher user+system CPU
	rss  int64         // leecher peak RSS, bytes
}

// benchRow collects one table row's runs.
type benchRow struct {
	name    string
	run     func() (benchSample, error)
	samples []benchSample
	na      string // why it could not be measured
	failed  string
	beside  *benchRow // the row this one is compared with (its "÷" column), if not the clients
	atLeast float64   // the target for rate ÷ beside's, if any
	// reference: a row that later rows are compared with (beside), with
	// no target of its own.
	reference bool
}

// bench is one `make bench` run: the content, its .torrent and the rows.
type bench struct {
	benchContent // the same .torrent for every client (no tracker)
	t            *testing.T
	cfg          benchConfig
	root         string // scratch space
	v2           string // a v2-only .torrent of the content (the v2 row)
	piece        int64
	rows         []*benchRow
	opt          Options
	sha          []float64 // crypto/sha1 MB/s per run
	started      time.Time
	load         string
	lossy        *lossyBench // the lossy-link rows, nil if not run
	nat          *natBench   // the behind-a-router rows, nil if not run
}

func newBench(t *testing.T, o Options, cfg benchConfig) *bench {
	b := &bench{t: t, cfg: cfg, opt: o, root: t.TempDir(), started: time.Now(), load: LoadAvg()}
	var err error
	if b.benchContent, err = makeBenchContent(t.Context(), o.Shoal, b.root, "bench", cfg.size); err != nil {
		t.Fatal(err)
	}
	b.piece = benchPieceLength(cfg.size)
	b.v2 = filepath.Join(b.root, "bench-v2.torrent")
	if _, stderr, err := runShoal(t.Context(), o.Shoal, "create", "--v2", "--piece-length", fmt.Sprint(b.piece), "-o", b.v2, b.src); err != nil {
		t.Fatalf("shoal create --v2: %v %s", err, stderr)
	}
	b.rows = []*benchRow{
		{name: "Shoal → Shoal", run: b.shoalPair},
		{name: "aria2 → aria2", run: b.aria2Pair},
		{name: "qBittorrent → qBittorrent", run: b.qbitPair},
		{name: "Transmission → Transmission", run: b.transmissionPair},
		{name: "Transmission → Shoal", run: b.transmissionShoal},
		{name: "4 Shoal seeders, 25 MB/s each → Shoal", run: b.cappedFour},
	}
	// Rows compared with an earlier row of the same run, not with the clients.
	b.rows = append(b.rows, &benchRow{name: "Shoal → Shoal, RC4 (--encryption require)", run: b.shoalPairRC4, beside: b.rows[0]})
	qbitUTP := &benchRow{name: "qBittorrent → qBittorrent, uTP only", run: b.qbitPairUTP, beside: b.rows[2]}
	b.rows = append(b.rows, qbitUTP, &benchRow{name: "Shoal → Shoal, uTP (--utp only)", run: b.shoalPairUTP, beside: qbitUTP})
	// v1 and v2 with the same kind of seeder (`shoal get --seed`: a share is v1).
	getV1 := &benchRow{name: "Shoal → Shoal, v1 .torrent, seeder shoal get --seed", run: func() (benchSample, error) { return b.shoalPairGet(b.torrent) }, beside: b.rows[0]}
	b.rows = append(b.rows, getV1, &benchRow{name: "Shoal → Shoal, v2-only (SHA-256 Merkle), same seeder", run: func() (benchSample, error) { return b.shoalPairGet(b.v2) }, beside: getV1, atLeast: 0.80})
	// One row per seeder client (issue 14): a Shoal leecher beside that
	// client's own leecher from the same kind of fresh seeder, in the same
	// run (Transmission's own leecher never dials loopback peers:
	// TestBenchTransmissionSeeds puts aria2 beside Shoal instead).
	libtorrent := &benchRow{name: "libtorrent → libtorrent", run: b.libtorrentPair, reference: true}
	b.rows = append(b.rows,
		&benchRow{name: "aria2 → Shoal", run: b.aria2Shoal, beside: b.rows[1], atLeast: 1},
		&benchRow{name: "qBittorrent → Shoal", run: b.qbitShoal, beside: b.rows[2], atLeast: 1},
		libtorrent,
		&benchRow{name: "libtorrent → Shoal", run: b.libtorrentShoal, beside: libtorrent, atLeast: 1})
	for _, r := range b.rows {
		if !Selected(r.name) {
			r.na = "not selected (BENCH_ROWS)"
		}
	}
	return b
}

// benchPieceLength is the piece length `shoal daemon --share` picks (storage's
// automatic choice: 256 KiB to 4 MiB, about 1500 pieces; 1 MiB for 1 GiB).
// The .torrent every client loads must have it, or the Shoal seeder would
// serve another infohash; newBench's seeders check that it matches.
func benchPieceLength(size int64) int64 {
	pl := int64(256 << 10)
	for pl < 4<<20 && size/pl > 1500 {
		pl *= 2
	}
	return pl
}

// benchContent is a file of random bytes, its SHA-1, and a v1 .torrent of
// it (no tracker) that `shoal create` made with the piece length `shoal
// daemon --share` picks, so a Shoal seeder serves the same infohash.
type benchContent struct {
	src     string // the content file
	torrent string
	ih      metainfo.Hash
	sum     [sha1.Size]byte
}

// makeBenchContent writes size bytes as root/name/shoal-name.bin and its
// .torrent as root/name.torrent, made by `shoal create` (the binary bin).
func makeBenchContent(ctx context.Context, bin, root, name string, size int64) (benchContent, error) {
	c := benchContent{src: filepath.Join(root, name, "shoal-"+name+".bin"), torrent: filepath.Join(root, name+".torrent")}
	if err := WriteContent(c.src, size); err != nil {
		return c, err
	}
	sum, err := SHA1File(c.src)
	if err != nil {
		return c, err
	}
	c.sum = sum
	out, stderr, err := runShoal(ctx, bin, "create", "--v1", "--piece-length", fmt.Sprint(benchPieceLength(size)), "-o", c.torrent, c.src)
	if err != nil {
		return c, fmt.Errorf("shoal create: %w %s", err, stderr)
	}
	mi, err := metainfo.LoadFromFile(c.torrent)
	if err != nil || !strings.HasPrefix(out, mi.HashInfoBytes().HexString()) {
		return c, fmt.Errorf("shoal create wrote %q: %v", out, err)
	}
	c.ih = mi.HashInfoBytes()
	return c, nil
}

// check checks the copy a leecher wrote into dir.
func (c benchContent) check(dir string) error {
	return CheckCopy(filepath.Join(dir, filepath.Base(c.src)), c.sum)
}

// runPairs measures the one-to-one rows and SHA-1, interleaved run by run
// so that a busy minute on the shared machine hits every row alike.
func (b *bench) runPairs() {
	for r := 0; r < b.cfg.runs; r++ {
		b.sha = append(b.sha, b.hashRate())
		for _, row := range b.rows {
			if row.na != "" || row.failed != "" {
				continue
			}
			Settle()
			s, err := row.run()
			var na benchNA
			switch {
			case errors.As(err, &na):
				row.na = string(na)
			case err != nil:
				row.failed = err.Error()
				b.t.Errorf("%s, run %d: %v", row.name, r+1, err)
			default:
				row.samples = append(row.samples, s)
			}
		}
	}
}

// hashRate is Go's crypto/sha1 over the whole file, in MB/s (1 MB = 10⁶ B):
// the machine's limit for a v1 transfer, measured beside the rows.
func (b *bench) hashRate() float64 {
	start := time.Now()
	if _, err := SHA1File(b.src); err != nil {
		b.t.Fatal(err)
	}
	return float64(b.cfg.size) / 1e6 / time.Since(start).Seconds()
}

// verify checks a leecher's copy against the content, then removes dir.
func (b *bench) verify(dir string) error {
	defer os.RemoveAll(dir)
	return b.check(dir)
}

// scratch makes a fresh folder for one run.
func (b *bench) scratch(name string) string {
	dir, err := os.MkdirTemp(b.root, name+"-")
	if err != nil {
		b.t.Fatal(err)
	}
	return dir
}

// timeout bounds one transfer: at least 2 MB/s, plus start-up.
func (b *bench) timeout() time.Duration {
	return time.Duration(float64(b.cfg.size)/2e6*float64(time.Second)) + time.Minute
}

func (b *bench) header() {
	b.t.Logf("bench: %s, %d-byte file, %d-byte pieces, %d run(s), %d CPUs, load %s",
		map[bool]string{true: "smoke", false: "full"}[b.cfg.smoke], b.cfg.size, b.piece, b.cfg.runs, runtime.NumCPU(), b.load)
}

// runShoal runs the shoal binary bin with args to its end.
func runShoal(ctx context.Context, bin string, args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}
