package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestDownloadFolderSetting: a folder chosen in Settings takes new
// downloads, survives a restart, and loses to Config.DownloadDir
// (--download-dir); a relative path is refused with words.
func TestDownloadFolderSetting(t *testing.T) {
	cfg := enginetest.Config(t)
	node := enginetest.Start(t, cfg)
	if got, want := node.DownloadDir(), filepath.Join(cfg.DataDir, "downloads"); got != want {
		t.Fatalf("default download folder %q, want %q", got, want)
	}
	chosen := filepath.Join(t.TempDir(), "My Downloads")
	s := node.Settings()
	s.DownloadDir = chosen
	if err := node.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(chosen); err != nil || !fi.IsDir() {
		t.Fatalf("chosen folder not made: %v", err)
	}
	s.DownloadDir = "relative/dir"
	if err := node.SetSettings(s); err == nil || !strings.Contains(err.Error(), "not a full path") {
		t.Fatalf("relative folder: %v", err)
	}
	node.Stop()
	again := enginetest.Start(t, cfg)
	if got := again.DownloadDir(); got != chosen {
		t.Fatalf("after restart %q, want %q", got, chosen)
	}
	again.Stop()
	cfg.DownloadDir = t.TempDir()
	forced := enginetest.Start(t, cfg)
	if got := forced.DownloadDir(); got != cfg.DownloadDir {
		t.Fatalf("with Config.DownloadDir %q, got %q", cfg.DownloadDir, got)
	}
}
