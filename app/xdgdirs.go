package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// userDownloadDir is the user's Downloads folder: XDG_DOWNLOAD_DIR from
// $XDG_CONFIG_HOME/user-dirs.dirs (written by xdg-user-dirs-update, and
// translated on many desktops: "Téléchargements"), else ~/Downloads. Empty
// when there is no home folder: the engine then uses the data folder.
func userDownloadDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" {
		cfg = filepath.Join(home, ".config")
	}
	if dir := xdgDir(filepath.Join(cfg, "user-dirs.dirs"), "XDG_DOWNLOAD_DIR", home); dir != "" {
		return dir
	}
	return filepath.Join(home, "Downloads")
}

// xdgDir reads one NAME="$HOME/..." line of a user-dirs.dirs file; it
// returns "" when the file or the line is missing, or names the home
// folder itself (which is how a user turns a folder off).
func xdgDir(file, name, home string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || key != name {
			continue
		}
		val = strings.Trim(val, `"`)
		if rest, ok := strings.CutPrefix(val, "$HOME"); ok {
			val = home + rest
		}
		if !filepath.IsAbs(val) || filepath.Clean(val) == filepath.Clean(home) {
			return ""
		}
		return filepath.Clean(val)
	}
	return ""
}
