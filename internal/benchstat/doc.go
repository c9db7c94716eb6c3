// Package benchstat turns a bench's measured runs into the figures and
// words of its tables: medians and percentiles, the runs side by side, and
// whether a target was met. It measures nothing itself and knows nothing
// of the engine, so every bench (the app's `make bench` tables, the
// engine's in-process swarms, the overlay and DHT simulations) reports its
// figures the same way.
//
// Medians, not means: the benches run on a shared, noisy machine, and one
// slow run should move the figure no more than one fast run does.
package benchstat
