package overlay

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDHTIndexScale measures the DHT index at scale through the real
// insert path (Supernode.IndexDHT into the file-backed FTS5 index): insert
// rate, bytes per torrent on disk and in RSS, and FTS query time p50/p95.
// Entries are synthetic: names of 3–6 words drawn (Zipf) from 20,000
// made-up words, and 1–5 file paths. Sizes: 100,000 entries, and
// 1,000,000 as well with SHOAL_BENCH=1 (`make bench`);
// SHOAL_DHT_BENCH_ENTRIES (comma-separated) sets others. Each size's
// index is built once; b.N counts rounds of 200 queries.
func BenchmarkDHTIndexScale(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("SHOAL_BENCH") != "" {
		sizes = append(sizes, 1_000_000)
	}
	if v := os.Getenv("SHOAL_DHT_BENCH_ENTRIES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
				sizes = append(sizes, n)
			}
		}
	}
	built := map[int]*benchIndex{}
	defer func() {
		for _, x := range built {
			x.close()
		}
	}()
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchDHTIndex(b, n, built) })
	}
}

// benchIndex is one size's built index, kept across the benchmark's runs
// (the testing package calls a benchmark with b.N = 1 first).
type benchIndex struct {
	s               *Supernode
	words           []string
	insert          time.Duration
	rssGrowth, disk int64
	close           func()
}

// benchDHTIndex queries the index of n entries in built, building it on
// the first call.
func benchDHTIndex(b *testing.B, n int, built map[int]*benchIndex) {
	x, ok := built[n]
	if !ok {
		x = buildBenchIndex(b, n)
		built[n] = x
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(x.words)-1))
	// Queries: one or two words, as users type them: a whole word, and
	// half the time the first three letters of another.
	var times []time.Duration
	b.ResetTimer()
	for range b.N {
		for range 200 {
			q := x.words[zipf.Uint64()]
			if rng.IntN(2) == 0 {
				q += " " + x.words[zipf.Uint64()][:3]
			}
			t0 := time.Now()
			if _, err := x.s.idx.search(ctx, q, 50); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(t0))
		}
	}
	b.StopTimer()
	slices.Sort(times)
	p := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(n), "entries")
	b.ReportMetric(float64(n)/x.insert.Seconds(), "inserts/s")
	b.ReportMetric(float64(x.disk)/float64(n), "disk-B/torrent")
	b.ReportMetric(float64(x.rssGrowth)/float64(n), "rss-B/torrent")
	b.ReportMetric(p(0.5), "query-p50-ms")
	b.ReportMetric(p(0.95), "query-p95-ms")
	b.ReportMetric(0, "ns/op")
}

// buildBenchIndex indexes n synthetic entries in a new file-backed index,
// 500 at a time, and measures the insert time, disk and RSS.
func buildBenchIndex(b *testing.B, n int) *benchIndex {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "shoal-dhtbench-")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "index.db")
	s, err := NewSupernode(SupernodeConfig{Addr: "127.0.0.1:1", IndexPath: path})
	if err != nil {
		b.Fatal(err)
	}
	x := &benchIndex{s: s, words: benchWords(20_000)}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(x.words)-1))
	rss0 := rssBytes()
	start := time.Now()
	const batch = 500
	for i := 0; i < n; i += batch {
		entries := make([]DHTEntry, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			entries = append(entries, benchEntry(j, x.words, zipf, rng))
		}
		if err := s.IndexDHT(ctx, entries, n); err != nil {
			b.Fatal(err)
		}
	}
	x.insert = time.Since(start)
	x.rssGrowth = rssBytes() - rss0
	if _, err := s.idx.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	x.disk = fileSize(path) + fileSize(path+"-wal")
	x.close = func() {
		s.Close()
		os.RemoveAll(dir)
	}
	return x
}

// benchWords makes n distinct pronounceable words.
func benchWords(n int) []string {
	cons, vows := "bcdfghjklmnprstvz", "aeiou"
	out := make([]string, 0, n)
	seen := map[string]bool{}
	rng := rand.New(rand.NewPCG(3, 4))
	for len(out) < n {
		var sb strings.Builder
		for range 2 + rng.IntN(3) {
			sb.WriteByte(cons[rng.IntN(len(cons))])
			sb.WriteByte(vows[rng.IntN(len(vows))])
		}
		if w := sb.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

func benchEntry(i int, words []string, zipf *rand.Zipf, rng *rand.Rand) DHTEntry {
	var name []string
	for range 3 + rng.IntN(4) {
		name = append(name, words[zipf.Uint64()])
	}
	var ih [20]byte
	copy(ih[:], fmt.Sprintf("%020d", i))
	e := DHTEntry{Entry: Entry{InfoHash: ih, Name: strings.Join(name, " "), Size: rng.Int64N(1 << 34)}, Swarm: 1 + rng.IntN(50)}
	for f := range 1 + rng.IntN(5) {
		e.Files = append(e.Files, fmt.Sprintf("%s/%02d %s.%s", name[0], f, words[zipf.Uint64()], []string{"mkv", "mp3", "pdf", "iso"}[f%4]))
	}
	return e
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// rssBytes reads the resident set size (Linux; 0 elsewhere).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
