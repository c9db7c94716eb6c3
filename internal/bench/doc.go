// Package bench is `make bench`: the harness that runs the shoal binary
// and real clients (aria2, qBittorrent-nox, Transmission, libtorrent,
// opentracker) as processes, times them, and prints the tables with
// their medians, ratios and targets.
//
//   - Table: one seeder to one leecher on loopback for every client and
//     Shoal beside each (table.go, pairs.go, clients.go), Go's SHA-1 as
//     the machine's limit, capped seeders, the lossy-link rows and the
//     LEDBAT yield row in a two-namespace lab (lossy.go, yield.go), and a
//     seeder behind a UPnP router in the namespace lab (nat.go);
//   - IdleLibrary: a large library at rest, Shoal beside Transmission,
//     and the GUI under Xvfb beside an empty Fyne window (idle.go,
//     gui.go);
//   - TransmissionSeeds and HolePunch, run by hand.
//
// Around the measuring it holds what every bench needs: the mode and rows
// the environment asks for (SHOAL_BENCH, BENCH_RUNS, BENCH_ROWS), a
// machine settled before each timed run, content to move and a check of
// every copy, a running process's figures read from /proc, and the
// medians, percentiles and target marks of the tables (also used by the
// in-process benches of engine/enginebench and engine/overlay/sim).
//
// Why the entry points are tests in app: internal/ must not import
// engine, ui or app (app's TestImportDirection), yet some rows need them.
// The swarm rows run Shoal engines in this process (engine/enginebench's
// SwarmRows), the idle library's Transmission state needs .torrents made
// as engine/storage makes them, sizes are parsed by engine/units, and the
// shoal binary and the Xvfb helpers are app's test fixtures. app's
// bench_test.go, which may import both sides, passes them in as Options;
// everything that only runs processes and reads what they print lives
// here.
//
// Nothing here asserts a speed. The machine is shared and noisy, so
// Settle waits for the page cache the last run dirtied to be written back
// before the next run starts: a client that writes through the cache
// leaves up to a GiB for the kernel to flush, which would otherwise land
// on the next row's time. Rows run interleaved, run by run, so that a
// busy minute hits every row alike, and figures are medians, not means:
// one slow run should move a figure no more than one fast run does. A row
// fails only when a transfer fails; one that cannot run here (a client
// not installed, no namespace lab) reads n/a with the reason.
package bench
