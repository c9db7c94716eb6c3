package overlay

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
)

// BenchmarkLocalPut10k measures what a node's own library of 10,000 items
// costs to register in its in-process supernode's index at start
// (Supernode.putLocal through index.put), file-backed as in the engine.
func BenchmarkLocalPut10k(b *testing.B) { benchLocalPut(b, localEntries(10000, false)) }

// BenchmarkLocalPut10kV2 is BenchmarkLocalPut10k with hybrid shares: each
// entry also has a v2 infohash and one pieces root, which the index keeps
// in entry_hashes for search by hash.
func BenchmarkLocalPut10kV2(b *testing.B) { benchLocalPut(b, localEntries(10000, true)) }

// localEntries are n single-file shares, with v2 hashes if v2.
func localEntries(n int, v2 bool) []Entry {
	entries := make([]Entry, n)
	for i := range entries {
		binary.BigEndian.PutUint32(entries[i].InfoHash[:], uint32(i))
		entries[i].Name = fmt.Sprintf("item-%05d.bin", i)
		entries[i].Size = 16 << 10
		entries[i].Files = []string{entries[i].Name}
		if v2 {
			binary.BigEndian.PutUint32(entries[i].V2[:], uint32(i)|1<<31)
			var root [32]byte
			binary.BigEndian.PutUint32(root[:], uint32(i)|1<<30)
			entries[i].Roots = [][32]byte{root}
		}
	}
	return entries
}

func benchLocalPut(b *testing.B, entries []Entry) {
	for b.Loop() {
		b.StopTimer()
		x, err := openIndex(filepath.Join(b.TempDir(), "index.db"), slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := x.put(context.Background(), localLeafID, "127.0.0.1:1", entries, localLeafQuota); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		x.close()
		b.StartTimer()
	}
}
