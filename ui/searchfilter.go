package ui

import (
	"fmt"
	"path"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/units"
)

// Preference keys of the search filters, which stay set across searches
// and restarts.
const (
	prefMinSize  = "search.filter.minSize"
	prefMaxSize  = "search.filter.maxSize"
	prefFileType = "search.filter.fileType"
)

// typeAny is the file-type choice that hides nothing.
const typeAny = "Any"

// fileTypes are the file-type filter's choices and their extensions.
var fileTypes = []struct {
	name string
	exts []string
}{
	{typeAny, nil},
	{"Video", []string{"mkv", "mp4", "avi", "webm", "mov"}},
	{"Audio", []string{"mp3", "flac", "ogg", "opus", "wav", "m4a"}},
	{"Images", []string{"jpg", "jpeg", "png", "gif", "webp"}},
	{"Documents", []string{"pdf", "epub", "txt", "doc", "docx", "odt"}},
	{"Archives", []string{"zip", "tar", "gz", "xz", "7z", "rar", "iso"}},
}

// hitFilter hides hits outside a size range or of another file type. A
// zero bound is no bound; a hit of unknown size passes the size bounds.
type hitFilter struct {
	min, max int64
	exts     []string // nil: any type
}

// match reports whether h passes the filter: its size is within the bounds
// and its name or one of its files has one of the type's extensions.
func (f hitFilter) match(h engine.Hit) bool {
	if h.Size > 0 && ((f.min > 0 && h.Size < f.min) || (f.max > 0 && h.Size > f.max)) {
		return false
	}
	if f.exts == nil {
		return true
	}
	if hasExt(h.Name, f.exts) {
		return true
	}
	for _, name := range h.Files {
		if hasExt(name, f.exts) {
			return true
		}
	}
	return false
}

func hasExt(name string, exts []string) bool {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(strings.ReplaceAll(name, `\`, "/")), "."))
	for _, e := range exts {
		if ext == e {
			return true
		}
	}
	return false
}

// typeExts returns a file type's extensions, nil for Any or an unknown name.
func typeExts(name string) []string {
	for _, t := range fileTypes {
		if t.name == name {
			return t.exts
		}
	}
	return nil
}

// parseSize reads a size such as "700 MB", "1.5 GiB" or "4096"; empty
// means 0, no bound.
func parseSize(text string) (int64, error) {
	n, err := units.ParseBytes(text)
	if err != nil {
		return 0, fmt.Errorf("size: %w", err)
	}
	return n, nil
}

// filterBar is the row of filter widgets above the hits table.
type filterBar struct {
	prefs    fyne.Preferences
	min, max *widget.Entry
	kind     *widget.Select
	content  fyne.CanvasObject
	current  hitFilter
	changed  func() // run after the filter changed
}

// newFilterBar builds the filters from the saved preferences.
func newFilterBar(prefs fyne.Preferences, changed func()) *filterBar {
	b := &filterBar{prefs: prefs}
	b.min = sizeEntry("min size, e.g. 700 MB", prefs.String(prefMinSize))
	b.max = sizeEntry("max size, e.g. 1.5 GiB", prefs.String(prefMaxSize))
	names := make([]string, len(fileTypes))
	for i, t := range fileTypes {
		names[i] = t.name
	}
	b.kind = widget.NewSelect(names, nil)
	kind := prefs.StringWithFallback(prefFileType, typeAny)
	if typeExts(kind) == nil {
		kind = typeAny
	}
	b.kind.SetSelected(kind)
	b.apply()
	b.changed = changed
	b.min.OnChanged = func(string) { b.edited() }
	b.max.OnChanged = func(string) { b.edited() }
	b.kind.OnChanged = func(string) { b.edited() }
	sizes := container.NewGridWithColumns(2, b.min, b.max)
	b.content = container.NewBorder(nil, nil, widget.NewLabel("Size"),
		container.NewHBox(widget.NewLabel("Type"), b.kind), sizes)
	return b
}

func sizeEntry(hint, text string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(hint)
	e.Validator = func(s string) error { _, err := parseSize(s); return err }
	e.SetText(text)
	return e
}

// edited saves the filters and applies them when they all parse.
func (b *filterBar) edited() {
	if !b.apply() {
		return
	}
	b.prefs.SetString(prefMinSize, strings.TrimSpace(b.min.Text))
	b.prefs.SetString(prefMaxSize, strings.TrimSpace(b.max.Text))
	b.prefs.SetString(prefFileType, b.kind.Selected)
	if b.changed != nil {
		b.changed()
	}
}

// apply reads the widgets into current; false if a size does not parse.
func (b *filterBar) apply() bool {
	lo, err1 := parseSize(b.min.Text)
	hi, err2 := parseSize(b.max.Text)
	if err1 != nil || err2 != nil {
		return false
	}
	b.current = hitFilter{min: lo, max: hi, exts: typeExts(b.kind.Selected)}
	return true
}
