// Package sim runs many real overlay nodes (supernodes and leaves from
// package overlay, talking over TCP on 127.0.0.1 in one process) over a
// Zipf-distributed catalogue of shared files, and measures search: recall,
// time to first and last hit, messages and bytes per query, load per
// supernode, and recovery after supernodes die. Like the overlay it
// exercises, it implements no BEP; the files it shares are stand-ins for
// BEP 3 torrents (infohash, name, size, paths).
package sim
