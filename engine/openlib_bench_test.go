package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkOpenLibrary is Open on a data folder of 1,000 shared single
// files, v1 and hybrid: the work a start does per library item before the
// daemon's ready line and the window (each Open is followed by a short
// Run, as the lock and the database are released by Run's end).
func BenchmarkOpenLibrary(b *testing.B) {
	for _, format := range []TorrentFormat{FormatV1, FormatHybrid} {
		b.Run(format.String(), func(b *testing.B) {
			cfg := Config{DataDir: b.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true, ShareFormat: &format}
			shareFiles(b, cfg, 1000)
			for b.Loop() {
				e, err := Open(cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				runOnce(b, e)
				b.StartTimer()
			}
		})
	}
}

// shareFiles opens an engine on cfg, shares n small files and stops it.
func shareFiles(b *testing.B, cfg Config, n int) {
	e, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	src := b.TempDir()
	for i := range n {
		path := filepath.Join(src, fmt.Sprintf("item-%05d.txt", i))
		if err := os.WriteFile(path, []byte(fmt.Sprintf("library item %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		if _, err := e.ShareSync(context.Background(), path, nil); err != nil {
			b.Fatal(err)
		}
	}
	runOnce(b, e)
}
