// Package dhtindex makes Shoal's DHT node useful to indexers and makes a
// supernode one: it answers BEP 51 sample_infohashes from the node's peer
// store, and (on supernodes) learns infohashes from the get_peers and
// announce_peer queries it receives and from a polite BEP 51 crawl of the
// keyspace near its own node ID, fetches each torrent's info dictionary
// over BEP 9 from peers found with get_peers, checks it hashes to the
// infohash, and hands name, paths and sizes to the search index.
//
// Answering. anacrolix/dht v2 parses BEP 51 answers but does not answer
// the query. Responder.Hook is the server's OnQuery hook: it answers
// sample_infohashes itself, on the server's own socket, with "samples" (at
// most MaxSamples infohashes drawn at random from the peer store and kept
// for one "interval"; while the store holds fewer than MaxSamples the
// sample is the whole store, redrawn at every query, and the interval
// answered is 30 s), "num" (how many the store holds), "interval" and the
// eight nodes of the routing table closest to the target ("nodes" or
// "nodes6", by the query's family or BEP 32 "want"). The library calls the
// hook with its lock held, so the answer is built on another goroutine.
// Answers are rate-limited so that spoofed queries cannot make the node an
// amplifier. Each DHT server (IPv4, IPv6) gets its own hook over one shared
// Responder.
package dhtindex
