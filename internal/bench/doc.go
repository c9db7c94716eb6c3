// Package bench holds what every `make bench` measurement needs around
// the measuring itself, and turns the measured runs into the figures and
// words of its tables:
//
//   - the mode and rows the environment asks for (SHOAL_BENCH,
//     BENCH_RUNS, BENCH_ROWS), a machine settled before each timed run,
//     content to move and a check of every copy, and a running process's
//     figures read from /proc;
//   - medians and percentiles, the runs side by side, and whether a
//     target was met.
//
// Nothing here asserts a speed. The machine is shared and noisy, so
// Settle waits for the page cache the last run dirtied to be written back
// before the next run starts: a client that writes through the cache
// leaves up to a GiB for the kernel to flush, which would otherwise land
// on the next row's time. Medians, not means: one slow run should move a
// figure no more than one fast run does.
package bench
