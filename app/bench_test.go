package main

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestBenchTable is `make bench`: one table, every row measured in this
// run on this machine. SHOAL_BENCH=1 runs it at full size (BENCH_SIZE,
// default 1GiB; BENCH_RUNS runs, default 5, medians shown);
// SHOAL_BENCH=smoke runs every row once on small files so the harness
// keeps working (make test). Nothing here asserts a speed: the machine is
// shared and noisy. Rows fail only when a transfer fails.
func TestBenchTable(t *testing.T) {
	cfg := benchConfigFromEnv(t)
	if lang := os.Getenv("LANG"); lang == "" || lang == "POSIX" || strings.HasPrefix(lang, "C") {
		t.Setenv("LANG", "en_US.UTF-8") // Fyne, linked into every shoal child, warns about "C"
	}
	b := newBench(t, cfg)
	b.header()
	defer b.print(os.Stdout) // also after a fatal error: what was measured
	b.runPairs()
	b.lossy = b.runLossy()
	b.nat = b.runNAT()
	if os.Getenv("BENCH_ROWS") == "" {
		b.runSwarms()
	}
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

func benchConfigFromEnv(t *testing.T) benchConfig {
	mode := os.Getenv("SHOAL_BENCH")
	switch mode {
	case "":
		t.Skip("set SHOAL_BENCH=1 (make bench) or SHOAL_BENCH=smoke")
	case "smoke":
		return benchConfig{smoke: true, size: 16 << 20, runs: 1, swarmSize: 2 << 20, freeSize: 2 << 20, probe: 10 * time.Second}
	}
	c := benchConfig{size: 1 << 30, runs: 5, swarmSize: 64 << 20, freeSize: 32 << 20, probe: 20 * time.Second}
	c.size = benchEnvSize(t, "BENCH_SIZE", c.size)
	c.swarmSize = int(benchEnvSize(t, "BENCH_SWARM_SIZE", int64(c.swarmSize)))
	c.freeSize = int(benchEnvSize(t, "BENCH_FREERIDER_SIZE", int64(c.freeSize)))
	if v := os.Getenv("BENCH_RUNS"); v != "" {
		if _, err := fmt.Sscan(v, &c.runs); err != nil || c.runs < 1 {
			t.Fatalf("BENCH_RUNS=%q: want a positive number", v)
		}
	}
	return c
}

// benchEnvSize reads a byte count such as 1GiB or 64MiB (parseRate's units).
func benchEnvSize(t *testing.T, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := parseRate(v)
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
}

// bench is one `make bench` run: the content, its .torrent and the rows.
type bench struct {
	t       *testing.T
	cfg     benchConfig
	root    string // scratch space
	src     string // the content file
	torrent string // the same .torrent for every client (no tracker)
	v2      string // a v2-only .torrent of the content (the v2 row)
	ih      metainfo.Hash
	piece   int64
	sum     [sha1.Size]byte
	rows    []*benchRow
	sha     []float64 // crypto/sha1 MB/s per run
	swarm   []benchSwarmRun
	free    []benchSwarmRun
	started time.Time
	load    string
	lossy   *lossyBench // the lossy-link rows, nil if not run
	nat     *natBench   // the behind-a-router rows, nil if not run
}

func newBench(t *testing.T, cfg benchConfig) *bench {
	b := &bench{t: t, cfg: cfg, root: t.TempDir(), started: time.Now(), load: benchLoadAvg()}
	dir := filepath.Join(b.root, "content")
	b.src = filepath.Join(dir, "shoal-bench.bin")
	if err := writeBenchContent(b.src, cfg.size); err != nil {
		t.Fatal(err)
	}
	b.piece = benchPieceLength(cfg.size)
	b.torrent = filepath.Join(b.root, "bench.torrent")
	out, stderr, err := shoal(t.Context(), "create", "--v1", "--piece-length", fmt.Sprint(b.piece), "-o", b.torrent, b.src)
	if err != nil {
		t.Fatalf("shoal create: %v %s", err, stderr)
	}
	mi, err := metainfo.LoadFromFile(b.torrent)
	if err != nil || !strings.HasPrefix(out, mi.HashInfoBytes().HexString()) {
		t.Fatalf("shoal create wrote %q: %v", out, err)
	}
	b.ih = mi.HashInfoBytes()
	b.v2 = filepath.Join(b.root, "bench-v2.torrent")
	if _, stderr, err := shoal(t.Context(), "create", "--v2", "--piece-length", fmt.Sprint(b.piece), "-o", b.v2, b.src); err != nil {
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
	if only := os.Getenv("BENCH_ROWS"); only != "" { // e.g. BENCH_ROWS="Shoal → Shoal|uTP" for a quick look
		for _, r := range b.rows {
			if !slices.ContainsFunc(strings.Split(only, "|"), func(s string) bool { return strings.Contains(r.name, s) }) {
				r.na = "not selected (BENCH_ROWS)"
			}
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

// writeBenchContent writes size pseudo-random bytes (ChaCha8: fast, incompressible).
func writeBenchContent(path string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(rand.Uint32())
	}
	if _, err := io.CopyN(f, rand.NewChaCha8(seed), size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
			benchSettle()
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

// hashRate is Go's crypto/sha1 over the whole file, in MB/s (1 MB = 10⁶ B),
// and remembers the digest the leechers' copies are checked against.
func (b *bench) hashRate() float64 {
	start := time.Now()
	sum, err := benchSHA1File(b.src)
	if err != nil {
		b.t.Fatal(err)
	}
	b.sum = sum
	return float64(b.cfg.size) / 1e6 / time.Since(start).Seconds()
}

func benchSHA1File(path string) ([sha1.Size]byte, error) {
	var sum [sha1.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// verify checks a leecher's copy against the content, then removes dir.
func (b *bench) verify(dir string) error {
	defer os.RemoveAll(dir)
	got, err := benchSHA1File(filepath.Join(dir, filepath.Base(b.src)))
	if err != nil {
		return fmt.Errorf("leecher's copy: %w", err)
	}
	if got != b.sum {
		return errors.New("leecher's copy differs from the content")
	}
	return nil
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

// benchSettle lets the machine go quiet before a timed run: the page cache
// the last run dirtied is written back (a client that writes through the
// cache leaves up to a GiB for the kernel to flush, which would otherwise
// land on the next row's time), and exited processes are gone.
func benchSettle() {
	syscall.Sync()
	deadline := time.Now().Add(30 * time.Second)
	for benchDirtyBytes() > 64<<20 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second)
}

// benchDirtyBytes is the page cache waiting to be written (Dirty plus
// Writeback in /proc/meminfo); 0 if unknown.
func benchDirtyBytes() int64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var total int64
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "Dirty:" || f[0] == "Writeback:") {
			var kib int64
			fmt.Sscan(f[1], &kib)
			total += kib << 10
		}
	}
	return total
}

func benchLoadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(raw))[:3], " ")
}

func (b *bench) header() {
	b.t.Logf("bench: %s, %d-byte file, %d-byte pieces, %d run(s), %d CPUs, load %s",
		map[bool]string{true: "smoke", false: "full"}[b.cfg.smoke], b.cfg.size, b.piece, b.cfg.runs, runtime.NumCPU(), b.load)
}

// benchSwarmRun is one in-process swarm run's figures.
type benchSwarmRun struct {
	spec enginetest.SwarmSpec
	res  enginetest.SwarmResult
}
