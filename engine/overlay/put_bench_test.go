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
func BenchmarkLocalPut10k(b *testing.B) {
	entries := make([]Entry, 10000)
	for i := range entries {
		binary.BigEndian.PutUint32(entries[i].InfoHash[:], uint32(i))
		entries[i].Name = fmt.Sprintf("item-%05d.bin", i)
		entries[i].Size = 16 << 10
		entries[i].Files = []string{entries[i].Name}
	}
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
