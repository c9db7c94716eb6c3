package swarm

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkLoopbackTransfer moves a file from one seed to one leecher over
// loopback TCP in one process, hashing and writing every piece.
func BenchmarkLoopbackTransfer(b *testing.B) {
	const size = 128 << 20
	path, info := makeContent(b, size, 1<<20)
	ih := infoHash(info)
	pieces := len(mustInfoTB(b, info).Pieces) / 20
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		seed := startNode(b, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: filepath.Dir(path), Have: allHave(pieces)})
		l := startNode(b, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: b.TempDir()})
		l.s.AddPeers(seed.addr)
		waitFor(b, "transfer", 5*time.Minute, l.s.Complete)
		cancel()
		<-l.s.Done()
		<-seed.s.Done()
	}
}
