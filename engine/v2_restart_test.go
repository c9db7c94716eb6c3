package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
)

// logCount counts the log records with each message.
type logCount struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *logCount) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCount) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[r.Message]++
	return nil
}
func (c *logCount) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCount) WithGroup(string) slog.Handler      { return c }
func (c *logCount) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[msg]
}

// Log messages the restart test watches for.
const (
	msgFetchLayers   = "fetching piece layers from peers"
	msgLayersDamaged = "saved piece layers damaged; fetching them again from peers"
)

// TestV2MagnetRestartUsesSavedLayers downloads a v2-only torrent from a
// btmh magnet link, slowly, stops the leecher once the fetched piece
// layers are saved and part of the data is in, and starts it again on the
// same data folder: it finishes without asking any peer for piece layers.
// Then the saved layer file is damaged (one hash byte flipped, the file
// still valid bencode) and the download resumed again: the damage is
// found, the layer fetched again and the file rewritten good, and every
// byte is right; no honest peer is banned.
func TestV2MagnetRestartUsesSavedLayers(t *testing.T) {
	c := singleFile(t, "big.bin", 160*(32<<10)-999)
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{PieceLength: 32 << 10, Format: storage.V2Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "v2.torrent")
	enginetest.WriteTorrent(t, mi, torrent)
	seed := enginetest.Start(t, enginetest.Config(t))
	ih, err := seed.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(c.root)})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, seed, ih, 60*time.Second)
	v2 := sha256.Sum256(mi.InfoBytes)
	magnet := "magnet:?xt=urn:btmh:1220" + hex.EncodeToString(v2[:])
	dataDir, dl := t.TempDir(), t.TempDir()
	layersFile := filepath.Join(dataDir, "piece-layers", hex.EncodeToString(ih[:]))

	// 1: slowly, until the layers are saved and some data is in.
	logs := &logCount{n: map[string]int{}}
	cfg := enginetest.Config(t)
	cfg.DataDir, cfg.Logger, cfg.DownloadLimit = dataDir, slog.New(logs), 256<<10
	leech := enginetest.Start(t, cfg)
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: magnet, Dir: dl, Peers: []string{seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	waitLayersSaved(t, dataDir, ih)
	enginetest.WaitFor(t, "some data", 60*time.Second, func() bool {
		tr, _ := enginetest.Transfer(leech.Snapshot(), ih)
		return tr.Have > 0
	})
	leech.Stop()
	if tr, _ := enginetest.Transfer(leech.Snapshot(), ih); tr.Have == tr.Size {
		t.Fatalf("the download finished before it was stopped (%d bytes): nothing is resumed", tr.Size)
	}
	if n := logs.count(msgFetchLayers); n != 1 {
		t.Fatalf("first run: piece layers fetched %d times, want 1", n)
	}
	saved, err := os.ReadFile(layersFile)
	if err != nil {
		t.Fatal(err)
	}

	// 2: restarted, it uses the saved layers.
	logs2 := &logCount{n: map[string]int{}}
	cfg.Logger, cfg.DownloadLimit = slog.New(logs2), 2<<20
	leech2 := enginetest.Start(t, cfg)
	enginetest.WaitFor(t, "a resumed download", 30*time.Second, func() bool {
		tr, ok := enginetest.Transfer(leech2.Snapshot(), ih)
		return ok && tr.Have > 0 && tr.Have < tr.Size
	})
	leech2.Stop()
	if n := logs2.count(msgFetchLayers) + logs2.count(msgLayersDamaged); n != 0 {
		t.Fatalf("restart with good saved layers: layers fetched or found damaged %d times, want 0", n)
	}

	// 3: the saved file damaged, it is not trusted.
	var enc map[string]string
	if err := bencode.Unmarshal(saved, &enc); err != nil || len(enc) != 1 {
		t.Fatalf("saved layers: %d layers, %v", len(enc), err)
	}
	for root, layer := range enc {
		b := []byte(layer)
		b[len(b)/2] ^= 0x40
		enc[root] = string(b)
	}
	damaged, err := bencode.Marshal(enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layersFile, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	logs3 := &logCount{n: map[string]int{}}
	cfg.Logger, cfg.DownloadLimit = slog.New(logs3), 0
	leech3 := enginetest.Start(t, cfg)
	waitAll(t, leech3, ih, 60*time.Second)
	c.checkCopy(t, dl)
	if logs3.count(msgLayersDamaged) != 1 || logs3.count(msgFetchLayers) != 1 {
		t.Fatalf("restart with a damaged layer: damage found %d times, layers fetched %d times; want 1 and 1",
			logs3.count(msgLayersDamaged), logs3.count(msgFetchLayers))
	}
	enginetest.WaitFor(t, "the layer file rewritten good", 20*time.Second, func() bool {
		b, err := os.ReadFile(layersFile)
		return err == nil && string(b) == string(saved)
	})
	if tr, _ := enginetest.Transfer(leech3.Snapshot(), ih); len(tr.Banned) != 0 {
		t.Fatalf("honest seeder banned: %+v", tr.Banned)
	}
}
