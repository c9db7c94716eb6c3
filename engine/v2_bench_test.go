package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
)

// BenchmarkShoalToShoalV1 and BenchmarkShoalToShoalV2 move the same 64 MiB
// file (1 MiB pieces) from one Shoal node to another in this process, from
// a v1-only and from a v2-only .torrent: the cost of SHA-256 Merkle
// verification against SHA-1 on an otherwise identical transfer. MB/s is
// the leecher's, from Download to every piece verified.
func BenchmarkShoalToShoalV1(b *testing.B) { benchShoalPair(b, storage.V1Only) }

func BenchmarkShoalToShoalV2(b *testing.B) { benchShoalPair(b, storage.V2Only) }

func benchShoalPair(b *testing.B, format storage.Format) {
	const size = 64 << 20
	src := enginetest.RandomFile(b, b.TempDir(), "bench.bin", size)
	mi, err := storage.Create(context.Background(), src, storage.CreateOptions{PieceLength: 1 << 20, Format: format}, nil)
	if err != nil {
		b.Fatal(err)
	}
	torrent := filepath.Join(b.TempDir(), "bench.torrent")
	enginetest.WriteTorrent(b, mi, torrent)
	seeder := enginetest.Start(b, enginetest.Config(b))
	ctx := context.Background()
	ih, err := seeder.Download(ctx, engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(src)})
	if err != nil {
		b.Fatal(err)
	}
	benchWait(b, seeder, ih)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		leecher := enginetest.Start(b, enginetest.Config(b))
		if _, err := leecher.Download(ctx, engine.DownloadRequest{Source: torrent, Dir: b.TempDir(), Peers: []string{seeder.PeerAddr()}}); err != nil {
			b.Fatal(err)
		}
		benchWait(b, leecher, ih)
		b.StopTimer()
		leecher.Stop()
		b.StartTimer()
	}
}

func benchWait(b *testing.B, n *enginetest.Node, ih engine.InfoHash) {
	b.Helper()
	enginetest.WaitFor(b, "transfer", 2*time.Minute, func() bool {
		tr, ok := enginetest.Transfer(n.Snapshot(), ih)
		return ok && tr.Size > 0 && tr.Have == tr.Size
	})
}
