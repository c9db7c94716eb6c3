package storage

import (
	"testing"

	"github.com/anacrolix/torrent/metainfo"
)

// TestContentLeavesPaddingOut: a hybrid-style info with BEP 47 padding
// (attr "p", and BitComet's named padding file) counts its files'
// bytes and number only, and ContentBytes takes each piece's padding off
// the pieces asked about.
func TestContentLeavesPaddingOut(t *testing.T) {
	const pl = 16 << 10
	info := &metainfo.Info{Name: "album", PieceLength: pl, Files: []metainfo.FileInfo{
		{Path: []string{"a.flac"}, Length: pl + 100},
		{Path: []string{".pad", "0"}, Length: pl - 100, ExtendedFileAttrs: metainfo.ExtendedFileAttrs{Attr: "p"}},
		{Path: []string{"b.txt"}, Length: 10},
		{Path: []string{"_____padding_file_0_"}, Length: pl - 10},
		{Path: []string{"c.bin"}, Length: 3 * pl},
	}}
	info.Pieces = make([]byte, 20*6)
	if got, want := ContentLength(info), int64(pl+100+10+3*pl); got != want {
		t.Errorf("ContentLength %d, want %d", got, want)
	}
	if got := ContentFiles(info); got != 3 {
		t.Errorf("ContentFiles %d, want 3", got)
	}
	l, err := NewLayout(info)
	if err != nil {
		t.Fatal(err)
	}
	if l.ContentLength != ContentLength(info) || l.ContentFiles != 3 || l.TotalLength != 6*pl {
		t.Errorf("layout: content %d bytes in %d files, piece space %d", l.ContentLength, l.ContentFiles, l.TotalLength)
	}
	all := func(int) bool { return true }
	if got := l.ContentBytes(l.TotalLength, all); got != l.ContentLength {
		t.Errorf("ContentBytes of every piece %d, want %d", got, l.ContentLength)
	}
	// Piece 1 holds a.flac's last 100 bytes and its padding; piece 2 b.txt and the BitComet padding.
	if got := l.ContentBytes(pl, func(i int) bool { return i == 1 }); got != 100 {
		t.Errorf("ContentBytes of piece 1 %d, want 100", got)
	}
	if got := l.ContentBytes(2*pl, func(i int) bool { return i == 1 || i == 2 }); got != 110 {
		t.Errorf("ContentBytes of pieces 1 and 2 %d, want 110", got)
	}
}
