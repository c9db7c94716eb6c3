package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/shoalp2p/shoal/engine"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "", want: 0},
		{in: "4096", want: 4096},
		{in: "700 MB", want: 700e6},
		{in: "700MiB", want: 700 << 20},
		{in: "1.5 GiB", want: 3 << 29},
		{in: "1,5 gb", want: 1.5e9},
		{in: "2k", want: 2048},
		{in: " 3 TB ", want: 3e12},
		{in: "12 parsecs", bad: true},
		{in: "MB", bad: true},
		{in: "-5 MB", bad: true},
		{in: "1e30 TB", bad: true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
			t.Errorf("parseSize(%q) = %d, %v; want %d, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"", "700 MB", "1.5 GiB", "2k", "x", "1e30 TB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseSize(s); err == nil && n < 0 {
			t.Fatalf("parseSize(%q) = %d", s, n)
		}
	})
}

// Hits for the filter tests, with distinct source counts so the rank is fixed.
var (
	hitMovie = engine.Hit{InfoHash: hash(0x01), Name: "Big Movie", Size: 1400 << 20,
		Files: []string{"Big Movie/movie.MKV", "Big Movie/subs.srt"}, Sources: []string{"a", "b", "c", "d"}}
	hitAlbum = engine.Hit{InfoHash: hash(0x02), Name: "album.zip", Size: 90 << 20,
		Sources: []string{"a", "b", "c"}}
	hitSong = engine.Hit{InfoHash: hash(0x03), Name: "song.flac", Size: 30 << 20, Sources: []string{"a", "b"}}
	hitBook = engine.Hit{InfoHash: hash(0x04), Name: "book.epub", Size: 2 << 20, Sources: []string{"a"}}
)

// searchAll runs a search that returns the four filter-test hits.
func searchAll(t *testing.T, u *UI, f *fakeEngine, words string) {
	t.Helper()
	stream, _ := startSearch(t, u, f, words)
	for _, h := range []engine.Hit{hitBook, hitSong, hitAlbum, hitMovie} {
		stream <- h
	}
	close(stream)
	settleSearch(u)
}

func TestSearchFiltersHideRows(t *testing.T) {
	u, f := newTestUI(t)
	searchAll(t, u, f, "stuff")
	all := []string{hitMovie.Name, hitAlbum.Name, hitSong.Name, hitBook.Name}
	if got := searchRowNames(u); !slices.Equal(got, all) {
		t.Fatalf("unfiltered rows = %q, want %q", got, all)
	}
	fb := u.search.filters
	steps := []struct {
		name     string
		do       func()
		want     []string
		infoWant string
	}{
		{"min 50 MB", func() { test.Type(fb.min, "50 MB") }, []string{hitMovie.Name, hitAlbum.Name}, "2 results, 2 hidden by filters."},
		{"max 1 GiB", func() { test.Type(fb.max, "1 GiB") }, []string{hitAlbum.Name}, "1 result, 3 hidden by filters."},
		{"bad max keeps the last filter", func() { test.Type(fb.max, "x") }, []string{hitAlbum.Name}, "1 result, 3 hidden by filters."},
		{"no sizes", func() { fb.min.SetText(""); fb.max.SetText("") }, all, "4 results."},
		{"video via a file", func() { fb.kind.SetSelected("Video") }, []string{hitMovie.Name}, "1 result, 3 hidden by filters."},
		{"audio", func() { fb.kind.SetSelected("Audio") }, []string{hitSong.Name}, "1 result, 3 hidden by filters."},
		{"archives", func() { fb.kind.SetSelected("Archives") }, []string{hitAlbum.Name}, "1 result, 3 hidden by filters."},
		{"documents", func() { fb.kind.SetSelected("Documents") }, []string{hitBook.Name}, "1 result, 3 hidden by filters."},
		{"images", func() { fb.kind.SetSelected("Images") }, nil, "0 results, 4 hidden by filters."},
	}
	for _, st := range steps {
		st.do()
		if got := searchRowNames(u); !slices.Equal(got, st.want) {
			t.Errorf("%s: rows = %q, want %q", st.name, got, st.want)
		}
		if got := u.search.info.Text; got != st.infoWant {
			t.Errorf("%s: info = %q, want %q", st.name, got, st.infoWant)
		}
	}
}

func TestSearchFilteredDownloadUsesTheShownRow(t *testing.T) {
	u, f := newTestUI(t)
	searchAll(t, u, f, "stuff")
	u.search.filters.kind.SetSelected("Documents")
	u.search.downloadRow(0)
	settle(u)
	f.lock(func() {
		if len(f.downloads) != 1 || f.downloads[0].Name != hitBook.Name {
			t.Fatalf("downloads = %+v, want the book", f.downloads)
		}
	})
}

func TestSearchFiltersStaySet(t *testing.T) {
	a := test.NewTempApp(t)
	f := newFake()
	u := New(a, f)
	queueHops(u)
	u.win.Resize(fyne.NewSize(1000, 650))
	t.Cleanup(func() { u.cancel(); settleSearch(u); u.win.Close() })
	test.Type(u.search.filters.min, "10 MB")
	u.search.filters.kind.SetSelected("Audio")
	searchAll(t, u, f, "first")
	if got := searchRowNames(u); !slices.Equal(got, []string{hitSong.Name}) {
		t.Fatalf("first search rows = %q", got)
	}
	test.Type(u.search.entry, " again")
	searchAll(t, u, f, "")
	if got := searchRowNames(u); !slices.Equal(got, []string{hitSong.Name}) {
		t.Errorf("second search rows = %q, want the filters kept", got)
	}

	// A new window on the same app (as after a restart) reads them back.
	f2 := newFake()
	u2 := New(a, f2)
	queueHops(u2)
	t.Cleanup(func() { u2.cancel(); settleSearch(u2); u2.win.Close() })
	if got := u2.search.filters.min.Text; got != "10 MB" {
		t.Errorf("restored min = %q", got)
	}
	if got := u2.search.filters.kind.Selected; got != "Audio" {
		t.Errorf("restored type = %q", got)
	}
	searchAll(t, u2, f2, "third")
	if got := searchRowNames(u2); !slices.Equal(got, []string{hitSong.Name}) {
		t.Errorf("rows after restart = %q, want %q", got, hitSong.Name)
	}
}

func TestHitFilterMatch(t *testing.T) {
	t.Parallel()
	unknown := engine.Hit{Name: "mystery.mp4"}
	if !(hitFilter{min: 1 << 30}).match(unknown) {
		t.Error("a hit of unknown size is hidden by a size bound")
	}
	if (hitFilter{exts: typeExts("Audio")}).match(unknown) {
		t.Error("an mp4 passes the Audio filter")
	}
	if !(hitFilter{exts: typeExts("Video")}).match(engine.Hit{Name: "x", Files: []string{`dir\clip.WebM`}}) {
		t.Error("a file's extension is not matched")
	}
}
