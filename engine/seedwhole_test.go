package engine

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSkippedFilesNotASeed: a download with a file skipped is complete
// (every wanted piece) but not whole, so its DHT announces do not carry
// BEP 33's seed flag (whole); the sharing end, which has every piece, is
// whole. With the seed flag set on Complete alone, other nodes' scrapes
// counted such a download among the seeds.
func TestSkippedFilesNotASeed(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "Album")
	for _, name := range []string{"a.flac", "b.flac", "c.flac"} {
		b := make([]byte, 1<<20)
		rand.Read(b)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seed, _ := openRunning(t, Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	ih, err := seed.ShareSync(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	leech, _ := openRunning(t, Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	// The file is skipped before the leecher knows the seeder: skipped
	// after, its pieces may have arrived in between (a loaded machine,
	// -race), and the download is then rightly whole.
	if _, err := leech.Download(ctx, DownloadRequest{Source: ih.String()}); err != nil {
		t.Fatal(err)
	}
	if err := leech.SetTransferOptions(ih, TransferOptions{SkipFiles: []int{1}}); err != nil {
		t.Fatal(err)
	}
	peer, _, _ := seed.Addrs()
	if err := leech.AddPeers(ih, peer); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the wanted files", 60*time.Second, func() bool {
		tr, err := leech.lookup(ih)
		return err == nil && tr.madeSwarm() != nil && tr.madeSwarm().Complete()
	})
	tr, _ := leech.lookup(ih)
	if whole(tr.madeSwarm()) {
		t.Fatal("a download with a file skipped counts as whole: it would announce itself as a seed")
	}
	st, _ := seed.lookup(ih)
	if sw := st.madeSwarm(); !whole(sw) {
		t.Fatal("the sharing end does not count as whole")
	}
}
