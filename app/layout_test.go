package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
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

// TestTopLevelLayout keeps the repository's top level as the design fixes
// it. It checks what git tracks (stray local files do not count); outside a
// git checkout it checks the folder.
func TestTopLevelLayout(t *testing.T) {
	allowed := map[string]bool{"app": true, "ui": true, "engine": true, "assets": true, "internal": true,
		"go.mod": true, "go.sum": true, "FyneApp.toml": true, "README.md": true, "Makefile": true, "LICENSE": true}
	names := trackedTopLevel(t)
	if len(names) < len(allowed)-1 {
		t.Fatalf("only %d top-level entries found: %v", len(names), names)
	}
	for _, name := range names {
		if !strings.HasPrefix(name, ".") && !allowed[name] {
			t.Errorf("top-level entry %q is outside the agreed layout", name)
		}
	}
}

func trackedTopLevel(t *testing.T) []string {
	out, err := exec.Command("git", "-C", "..", "ls-tree", "--name-only", "HEAD").Output()
	if err == nil {
		return strings.Fields(string(out))
	}
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".test") && e.Name() != "shoal" {
			names = append(names, e.Name())
		}
	}
	return names
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
