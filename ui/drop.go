package ui

import (
	"bytes"
	"io"
	"os"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
)

// maxLinkFile is the largest text file read for a magnet link: a link
// saved from a browser is a few hundred bytes, and anything much bigger is
// a document to share.
const maxLinkFile = 64 << 10

// onDropped opens every dropped .torrent file and every small text file
// holding a magnet link for download, and shares everything else.
func (u *UI) onDropped(_ fyne.Position, uris []fyne.URI) {
	var share []fyne.URI
	for _, uri := range uris {
		if link, ok := droppedLink(uri); ok {
			u.Add(link)
			continue
		}
		share = append(share, uri)
	}
	u.share(share...)
}

// droppedLink is the download source a dropped item stands for: the path
// of a .torrent file, or the magnet link in a small text file.
func droppedLink(uri fyne.URI) (string, bool) {
	if uri.Scheme() != "file" {
		return "", false
	}
	path := uri.Path()
	if strings.EqualFold(uri.Extension(), ".torrent") {
		return path, true
	}
	link := magnetInFile(path)
	return link, link != ""
}

// magnetInFile returns the magnet link a small text file holds, alone on
// its first non-empty line, or "".
func magnetInFile(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() || st.Size() > maxLinkFile {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(f, maxLinkFile))
	if err != nil || bytes.IndexByte(b, 0) >= 0 {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(strings.ToLower(line), "magnet:?") || strings.ContainsFunc(line, unicode.IsSpace) {
		return ""
	}
	return line
}
