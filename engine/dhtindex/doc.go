// Package dhtindex makes Shoal's DHT node useful to indexers and makes a
// supernode one: it answers BEP 51 sample_infohashes from the node's peer
// store, and (on supernodes) learns infohashes from the get_peers and
// announce_peer queries it receives and from a polite BEP 51 crawl of the
// keyspace near its own node ID, fetches each torrent's info dictionary
// over BEP 9 from peers found with get_peers, checks it hashes to the
// infohash, and hands name, paths and sizes to the search index.
//
// Holders. A node whose BEP 51 sample names an infohash holds announces
// for it: the crawl remembers it with the candidate (at most maxHolders),
// and FindPeers asks it directly beside the get_peers traversal. A
// traversal may spend all its time on dead nodes nearer the infohash
// (stale contacts, nodes long gone); the one round trip to the holder
// finds the swarm all the same.
//
// Answering. anacrolix/dht v2 parses BEP 51 answers but does not answer
// the query. Responder.Hook is the server's OnQuery hook: it answers
// sample_infohashes itself, on the server's own socket, with "samples" (at
// most MaxSamples infohashes from the peer store, kept for one "interval";
// the engine's store walks its infohashes in order from one sample to the
// next, and the interval shrinks as the store grows (down to 30 s), so
// that an indexer asking once per interval sees the whole store within
// DefaultInterval; while the store holds fewer than MaxSamples the
// sample is the whole store, redrawn at every query, and the interval
// answered is 30 s), "num" (how many the store holds), "interval" and the
// eight nodes of the routing table closest to the target ("nodes" or
// "nodes6", by the query's family or BEP 32 "want"). The library calls the
// hook with its lock held, so the answer is built on another goroutine.
// Answers are rate-limited so that spoofed queries cannot make the node an
// amplifier. Each DHT server (IPv4, IPv6) gets its own hook over one shared
// Responder.
//
// Scrapes. Attach adds BEP 33 to a server (scrape.go): get_peers with
// scrape=1 is answered with Bloom filters of the IPs of the store's seeds
// and downloaders (from announce_peer's seed flag).
//
// Sharing out the crawl. With IndexerConfig.Region, each supernode's BEP
// 51 crawl asks only the DHT nodes whose IDs are closer (XOR) to its own
// position than to any other crawling supernode's, and draws its targets
// there: N supernodes ask disjoint sets of nodes and together cover the
// keyspace. Supernodes know each other by overlay address (from adverts),
// not by DHT node ID, so the engine places each at the SHA-1 of its
// overlay address. The crawl waits CrawlDelay (20 s in the engine) after a
// supernode starts, so that it knows the others before asking anyone.
//
// Locks. Each of the package's locks guards one structure and is a leaf:
// intake.mu (the queue and its counters), crawlState.mu (when each DHT
// node may be asked again), Indexer.fetchMu (fetches per IP), Responder.mu
// (the current sample), scrapeConn.mu (scrape answers waiting for the
// library's reply) and ServerRef.mu. Nothing is called, sent or written
// with one of them held: the crawl reads the routing table and the region
// before taking its lock and sends sample_infohashes after releasing it,
// the Responder asks its SampleSource and the scrape its ScrapeSource (the
// engine's peer store, which has a lock of its own) with their locks
// released, and the intake wakes its fetchers with a send that never
// blocks. The DHT library calls the OnQuery hook, and through it Observe
// (the engine's Indexer.Offer) and the scrape's filters, with the server's
// lock held, so the order there is the DHT server's lock → ServerRef.mu,
// intake.mu, the peer store and scrapeConn.mu; nothing here calls into the
// server while holding a lock of its own, and BEP 51 answers, which read
// the routing table, are built on another goroutine.
package dhtindex
