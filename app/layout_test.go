package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/shoalp2p/shoal/"

// TestImportDirection enforces the design's one-way imports: app → ui,
// engine, assets; ui → engine (public types) but never internal; engine and
// internal never import Fyne, ui or app.
func TestImportDirection(t *testing.T) {
	rules := map[string][]string{
		"engine":   {"fyne.io/", module + "ui", module + "app", module + "assets"},
		"internal": {"fyne.io/", module + "ui", module + "app", module + "engine", module + "assets"},
		"ui":       {module + "internal", module + "app"},
		"assets":   {"fyne.io/", module + "ui", module + "app", module + "engine", module + "internal"},
	}
	checked := 0
	for dir, banned := range rules {
		for file, imports := range importsUnder(t, filepath.Join("..", dir)) {
			checked++
			for _, imp := range imports {
				for _, b := range banned {
					if under(imp, b) {
						t.Errorf("%s imports %s, which %s/ must not", file, imp, dir)
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d files checked; the walk is broken", checked)
	}
}

// under reports whether import path imp is prefix or lies below it.
func under(imp, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return imp == prefix || strings.HasPrefix(imp, prefix+"/")
}

// TestTopLevelLayout keeps the repository's top level as the design fixes it.
func TestTopLevelLayout(t *testing.T) {
	allowed := map[string]bool{"app": true, "ui": true, "engine": true, "assets": true, "internal": true,
		"go.mod": true, "go.sum": true, "FyneApp.toml": true, "README.md": true, "Makefile": true, "LICENSE": true,
		"shoal": true} // the built binary (git-ignored)
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".test") {
			continue // dotfiles; test binaries left by go test -c
		}
		if !allowed[name] {
			t.Errorf("top-level entry %q is outside the agreed layout", name)
		}
	}
}

// importsUnder parses every .go file (tests included) below root.
func importsUnder(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[path] = append(out[path], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
