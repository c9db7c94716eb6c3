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
// made-up words, and 1–5 file paths. SHOAL_DHT_BENCH_ENTRIES sets the
// size (default 100,000; `make bench` runs the default). The setup runs
// once; b.N counts query rounds.
func BenchmarkDHTIndexScale(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SHOAL_DHT_BENCH_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "index.db")
	s, err := NewSupernode(SupernodeConfig{Addr: "127.0.0.1:1", IndexPath: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	words := benchWords(20_000)
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(words)-1))
	rss0 := rssBytes()
	start := time.Now()
	const batch = 500
	for i := 0; i < n; i += batch {
		entries := make([]DHTEntry, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			entries = append(entries, benchEntry(j, words, zipf, rng))
		}
		if err := s.IndexDHT(ctx, entries, n); err != nil {
			b.Fatal(err)
		}
	}
	insert := time.Since(start)
	rss1 := rssBytes()
	if _, err := s.idx.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	disk := fileSize(path) + fileSize(path+"-wal")
	// Queries: one or two words, as users type them.
	var times []time.Duration
	b.ResetTimer()
	for range b.N {
		for range 200 {
			q := words[zipf.Uint64()]
			if rng.IntN(2) == 0 {
				q += " " + words[zipf.Uint64()][:3]
			}
			t0 := time.Now()
			if _, err := s.idx.search(ctx, q, 50); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(t0))
		}
	}
	b.StopTimer()
	slices.Sort(times)
	p := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(n), "entries")
	b.ReportMetric(float64(n)/insert.Seconds(), "inserts/s")
	b.ReportMetric(float64(disk)/float64(n), "disk-B/torrent")
	b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/torrent")
	b.ReportMetric(p(0.5), "query-p50-ms")
	b.ReportMetric(p(0.95), "query-p95-ms")
	b.ReportMetric(0, "ns/op")
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
