package ui

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
)

// closeCounter is a dialog's reader that counts its closes.
type closeCounter struct {
	fyne.URIReadCloser
	closes int
}

func (c *closeCounter) Close() error {
	c.closes++
	return c.URIReadCloser.Close()
}

// TestOpenedFile: the shared file-open callback hands on the chosen
// file's URI with its reader closed, shows a failure as failing to op,
// and does nothing on a cancel.
func TestOpenedFile(t *testing.T) {
	u, _ := newTestUI(t)
	var got []fyne.URI
	cb := u.openedFile("open the thing", func(uri fyne.URI) { got = append(got, uri) })

	cb(nil, nil) // cancelled
	if len(got) != 0 || u.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("a cancel handed on %v or opened a dialog", got)
	}

	cb(nil, errors.New("no such folder"))
	if len(got) != 0 {
		t.Fatalf("a failure handed on %v", got)
	}
	assertDialog(t, u, "Could not open the thing")

	path := filepath.Join(t.TempDir(), "a.torrent")
	if err := os.WriteFile(path, []byte("d4:infod4:name1:aee"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := storage.Reader(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	rc := &closeCounter{URIReadCloser: r}
	cb(rc, nil)
	if len(got) != 1 || got[0].Path() != path {
		t.Fatalf("handed on %v, want %s", got, path)
	}
	if rc.closes != 1 {
		t.Errorf("reader closed %d times, want once", rc.closes)
	}
}
