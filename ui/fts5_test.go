//go:build sqlite_fts5

package ui

// haveFTS5 reports whether the test binary's SQLite has FTS5, which the
// engine's supernode index needs (build with -tags sqlite_fts5).
const haveFTS5 = true
