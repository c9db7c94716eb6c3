// Package benchrun holds what every `make bench` measurement needs around
// the measuring itself: the mode and rows the environment asks for
// (SHOAL_BENCH, BENCH_RUNS, BENCH_ROWS), a machine settled before each
// timed run, content to move and a check of every copy, and a running
// process's figures read from /proc. The benches themselves (app/bench_*)
// spawn real clients and say what each row means; this package knows
// nothing of Shoal's engine, so the rows of every client are measured by
// the same code.
//
// Nothing here asserts a speed. The machine is shared and noisy, so
// Settle waits for the page cache the last run dirtied to be written back
// before the next run starts: a client that writes through the cache
// leaves up to a GiB for the kernel to flush, which would otherwise land
// on the next row's time.
package benchrun
