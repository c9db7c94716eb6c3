package ui

import (
	"cmp"

	"github.com/shoalp2p/shoal/engine"
)

// The Search and Library tables both begin with the same three columns
// about a torrent: its name, total size and file count. They are defined
// once, here, so that the two tables show and sort them alike; each
// table's own columns follow.
const (
	colName = iota
	colSize
	colFiles
)

// torrentColumns returns the Name, Size and Files columns, the name
// column nameWidth wide and giving way down to nameMin.
func torrentColumns(nameWidth, nameMin float32) []column {
	return []column{
		colName:  {title: "Name", width: nameWidth, min: nameMin, kind: cellText, stretch: true, sortable: true},
		colSize:  {title: "Size", width: 90, kind: cellNumber, sortable: true},
		colFiles: {title: "Files", width: 60, kind: cellNumber, sortable: true},
	}
}

// torrentFacts is what the shared columns show of one torrent.
type torrentFacts struct {
	name  string
	size  int64
	files int
}

func hitFacts(h engine.Hit) torrentFacts {
	return torrentFacts{name: h.Name, size: h.Size, files: len(h.Files)}
}

func itemFacts(it engine.LibraryItem) torrentFacts {
	return torrentFacts{name: it.Name, size: it.Size, files: it.Files}
}

// compare compares a and b by the shared column col; 0 for any other
// column.
func (a torrentFacts) compare(col int, b torrentFacts) int {
	switch col {
	case colName:
		return compareNames(a.name, b.name)
	case colSize:
		return cmp.Compare(a.size, b.size)
	case colFiles:
		return cmp.Compare(a.files, b.files)
	}
	return 0
}
