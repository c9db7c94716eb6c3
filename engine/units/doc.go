// Package units formats and parses byte sizes and byte rates, the one
// place where Shoal turns numbers of bytes into words and back. The UI,
// the CLI and the benches all use it.
//
// Printing uses binary prefixes with three significant digits ("1.50 KiB",
// "15.3 MiB", "153 GiB"), as qBittorrent and Transmission show sizes.
// Parsing accepts what people type: "700 MB" (decimal), "1.5 GiB" and a
// bare "2k" (binary), upper or lower case, a decimal comma, and an
// optional "/s" for rates.
//
// github.com/dustin/go-humanize was considered and not used: its
// ParseBytes reads a bare "K" as 1,000 where Shoal's flags and filters
// have always read it as 1,024, and its IBytes prints one decimal ("1.5
// KiB", "15 MiB") where the tables want three significant digits.
package units
