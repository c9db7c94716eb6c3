package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestUserDownloadDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "cfg"))
	if got := userDownloadDir(); got != filepath.Join(home, "Downloads") {
		t.Fatalf("without user-dirs.dirs: %q, want ~/Downloads", got)
	}
	os.MkdirAll(filepath.Join(home, "cfg"), 0o755)
	for _, tc := range []struct{ line, want string }{
		{`XDG_DOWNLOAD_DIR="$HOME/Téléchargements"`, filepath.Join(home, "Téléchargements")},
		{`XDG_DOWNLOAD_DIR="/srv/incoming"`, "/srv/incoming"},
		{`XDG_DOWNLOAD_DIR="$HOME/"`, filepath.Join(home, "Downloads")}, // turned off
		{`XDG_DOWNLOAD_DIR="relative"`, filepath.Join(home, "Downloads")},
		{`XDG_MUSIC_DIR="$HOME/Music"`, filepath.Join(home, "Downloads")},
	} {
		body := "# written by xdg-user-dirs-update\n" + tc.line + "\n"
		if err := os.WriteFile(filepath.Join(home, "cfg", "user-dirs.dirs"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := userDownloadDir(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.line, got, tc.want)
		}
	}
}
