// Package enginebench runs experiments on real Shoal engines in one
// process, for `make bench` and for the tests that check their outcome:
//
//   - RunSwarm: one seed and N leechers under upload caps, timed against
//     the lower bound of Kumar and Ross ("Peer-assisted file distribution:
//     the minimum distribution time"), optionally with BitThief-style
//     free-riders made by a ChokeFilter, a relay that drops the unchoke
//     and allowed-fast messages (BEP 3, BEP 6) one side sends, so the
//     same engine under the same caps never uploads; SwarmRows are the
//     two rows of `make bench`'s table built on it;
//   - StartDHTSim: a loopback BitTorrent DHT (BEP 5) of many Shoal DHT
//     nodes, real aria2 and libtorrent seeders and Shoal supernodes that
//     index it through BEP 51 samples, measured for indexing time, recall
//     and crawl rate.
//
// The rest of `make bench` (the shoal binary and other clients run as
// processes, and the tables) is internal/bench. It cannot import this
// package (internal/ never imports engine), so app's TestBenchTable
// passes SwarmRows to it as its Swarms.
//
// Engines come from engine/enginetest (loopback-only, free ports,
// temporary folders, stopped when the test ends); the figures are turned
// into words by internal/bench. Nothing here asserts a speed: callers
// print the figures, and tests check only what does not depend on the
// machine's load.
package enginebench
