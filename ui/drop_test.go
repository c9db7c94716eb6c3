package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
)

func TestDropOpensTorrentsAndMagnetFilesAndSharesTheRest(t *testing.T) {
	u, f := newTestUI(t)
	dir := t.TempDir()
	const link = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=ubuntu"
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	torrent := write("Ubuntu.TORRENT", "d4:infod4:name1:xee") // the engine judges the content
	saved := write("link.txt", "\n  "+link+"\r\n")
	notes := write("notes.txt", "magnet links start with magnet:? but this is prose")
	binary := write("blob.bin", "magnet:?xt=urn:btih:00\x00\x01")
	big := write("big.txt", link+"\n"+strings.Repeat("x", maxLinkFile))
	folder := filepath.Join(dir, "album")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	var uris []fyne.URI
	for _, p := range []string{torrent, saved, notes, binary, big, folder} {
		uris = append(uris, storage.NewFileURI(p))
	}
	u.onDropped(fyne.NewPos(300, 200), uris)
	settle(u)
	f.lock(func() {
		var got []string
		for _, d := range f.downloads {
			got = append(got, d.Source)
		}
		slices.Sort(got) // each link is added on a goroutine of its own
		want := []string{torrent, link}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("downloads = %q, want %q", got, want)
		}
		if want := []string{notes, binary, big, folder}; !slices.Equal(f.shares, want) {
			t.Errorf("shares = %q, want %q", f.shares, want)
		}
	})
}

func FuzzMagnetInFile(f *testing.F) {
	for _, s := range []string{"magnet:?xt=urn:btih:00", "\n magnet:?a=b \n", "magnet:? a", "x\x00", ""} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "f.txt")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		got := magnetInFile(p)
		if got != "" && (!strings.HasPrefix(strings.ToLower(got), "magnet:?") || strings.ContainsFunc(got, unicode.IsSpace) || strings.ContainsRune(got, 0)) {
			t.Errorf("magnetInFile(%q) = %q", body, got)
		}
	})
}
