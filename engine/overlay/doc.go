// Package overlay is Shoal's supernode search overlay, modelled on the
// FastTrack (Kazaa) and Gnutella2 ultrapeer/leaf designs. No BEP covers it:
// it is Shoal's own protocol, and what it finds are BEP 3 infohashes plus the
// BitTorrent peer addresses (host:port) that hold them.
//
// Roles. A Leaf registers what it shares (infohash, name, size, file paths)
// with a few Supernodes and sends its searches to one of them. A Supernode
// keeps the shares of its leaves in an SQLite FTS5 index and answers
// queries from it. Leaf shares are transient (dropped at start and at every
// role change; leaves register again), but entries indexed from the
// BitTorrent DHT stay in the file across restarts and role changes, and
// their keys are recounted into the keyword table when the file is
// reopened (in the background: the table's readers wait for the count); a file of another schema version, or one SQLite finds damaged,
// is replaced by an empty index. With SupernodeConfig.Auto a node starts as a
// leaf and its role changes at run time (roles.go): supernodes that fill up
// or know too few others invite a capable, reachable, long-running leaf to
// promote itself (reachability is checked by a "probe" connection back to
// the leaf), a node that finds no supernode promotes itself, and a
// supernode left with too few leaves steps down and sends them elsewhere.
//
// Keyword tables and adverts. A supernode summarises the entries of its
// leaves as a keyword table (a Bloom filter, two bits per key, over the
// prefixes of every term SQLite's tokenizer makes of them; see keywords.go)
// and broadcasts an advert through the supernode graph: table (whole, or
// the bits changed since the last advert), neighbour list and load, under a
// growing sequence number. Every supernode so knows every other's table
// and links. Adverts go down two breadth-first trees rooted at their origin
// (broadcast.go), so each supernode gets a copy or two rather than one per
// link; neighbours exchange digests (origin, seq) when they link and every
// 15 seconds, and a supernode that missed a change asks for the whole
// table ("tablereq").
//
// Routing, not flooding. The supernode a leaf asks (the query's origin)
// turns the words into table keys, finds every supernode within MaxHops
// whose table holds all of them, and sends the query along a tree of
// shortest paths to exactly those ("route" pairs in the query). Relays pass
// each child its subtree and re-plan when a child link has gone; supernodes
// that cannot match receive nothing. Hits travel back along the reverse
// path to the origin, which streams them to the leaf. A query UUID seen
// before is dropped.
//
// Knowing when a search is over (answers.go). The origin tells the leaf
// the supernodes the query went to: a hits frame with "asked" (itself and
// its delivery tree), sent as soon as it has planned the tree. Every
// supernode that processes the query, relays included, sends a hits frame
// with "answered" (its address) after its hits, back along the same path,
// so a mark never overtakes the hits it closes. The leaf's search is done
// as soon as every asked supernode has answered, or at LeafConfig's
// AnswerTimeout (5 s by default) when some do not: a search costs the
// time of its slowest answer instead of a fixed wait. A supernode that
// gets a leaf's query it already saw (through another supernode) answers
// "asked" with itself only; an "error" frame naming the query (rate limit,
// bad words) ends it as refused. Older peers ignore the two fields, and
// their searches end at the timeout.
//
// Links. A leaf keeps links to two supernodes. Both index its shares, but
// only the primary puts them into its keyword table and gets its searches;
// the standby takes over with one "mode" frame when the primary dies, and
// running searches are sent again.
//
// Wire format. The overlay shares the node's BitTorrent TCP port: the engine
// peeks the first byte (19 starts a BitTorrent handshake) and hands every
// other connection to Supernode.ServeConn with nothing consumed. The dialer
// first writes Magic ("SHOAL-OVERLAY/1\n"), then both sides exchange frames:
// a 4-byte big-endian payload length (at most MaxFrameSize) followed by one
// JSON object (encoding/json, chosen over bencode so that frames stay
// readable in captures and tests). The first frame from the dialer is a
// "hello" naming its role; the answer is "welcome" or an "error" frame
// ("full" carries other supernode addresses so a leaf can move on). After
// that: "share" (leaf adds/removes entries), "mode" (leaf: standby or
// primary), "query", "hits", "advert", "digest" and "tablereq" (between
// supernodes), "ping" (sent whenever a side has been quiet for 3 s, so a
// link whose peer vanished without closing it ends after 12 s of silence)
// and "error". A malformed or
// oversized frame ends that one link, after an error frame to the peer.
//
// Dial-back (dialback.go). A node asks any supernode to test whether others
// can reach it: a hello with role "dialback", a port and a nonce. The
// helper dials the asker's observed IP (never an address from the message)
// at that port with a "probe" hello carrying the nonce, and answers
// "welcome" or a "dialback_failed" error, both naming the address dialled
// ("target"). The asker believes it is reachable only when its nonce came
// in. Helpers dial at most 3 times per source IP and 60 times overall per
// minute, 8 at once.
//
// DHT entries. On a supernode, the engine's DHT indexer (engine/dhtindex)
// adds torrents learnt from the BitTorrent DHT, their metadata checked
// against the infohash, with Supernode.IndexDHT (dht.go): same FTS5 table
// and keyword table as leaf shares, under leaf id -1 and source "dht", with
// the swarm size and when each was first and last seen alive in a side
// table. Entries whose swarm stays empty expire (ExpireDHT) and a size cap
// evicts the least recently alive, smallest swarms first. A hit for such an
// entry carries DHT and Swarm ("dht" and "swarm" in hits frames) beside
// whatever leaf sources it also has.
//
// Searches before writes (gate.go). The index has one SQLite connection.
// A search waiting for it goes before any waiting write, and runs all its
// statements before a write can start; writes are short (share additions
// go in transactions of 16 entries). A standby leaf is welcomed, and a
// leaf's mode change applied, without waiting for the write lock. So a
// supernode that takes over the leaves of dead ones, and with them a burst
// of share writes, still answers searches within the answer timeout.
//
// Search results. Leaf.Query (and Leaf.Search, its hits only) streams Hits
// as they arrive, with Progress counting the supernodes asked and answered; hits for the same
// infohash from several supernodes are merged: each Hit sent carries the
// union of every source seen so far for its infohash, and a later Hit for an
// infohash supersedes the earlier one.
//
// Search by hash (hashsearch.go). Entries carry their BEP 52 v2 infohash
// and their files' pieces roots ("v2" and "roots" in share frames; older
// supernodes ignore them). A query that is one hash (40 hex digits: a v1
// infohash or a v2 one cut to 20 bytes; 64: a v2 infohash or a pieces
// root; 68: a btmh multihash) is looked up in the entries table and its
// entry_hashes side table instead of FTS5, and each hash adds one key of
// its own to the keyword table, so hash queries are routed like words
// without the prefix keys that would make hex-looking words match every
// table. Index files of version 1 are migrated, keeping their DHT entries.
//
// Locks. Each lock guards one structure's state; every one is a leaf
// (nothing else is taken under it, no I/O, no callback, channel sends only
// with select/default) except these, outer first:
//   - Supernode.routeMu → Supernode.mu and advertStore.mu: graph rebuilds
//     the route cache under routeMu from the neighbour list and the
//     adverts; neither of those is ever held while routeMu is taken.
//   - Supernode.ownMu → keyCounts.mu: nextAdvert reads the keys under
//     ownMu. The neighbour list and leaf count an advert describes are read
//     before ownMu is taken (advertView), so ownMu never nests Supernode.mu.
//   - index.wmu → dbGate → SQLite, then index.umu and keyCounts.mu: wmu
//     serialises writers so that the key counts follow the rows, and it
//     is held across the write's transactions (put lets searches in
//     between chunks through the gate, not by releasing wmu). Searches
//     take only the gate, never wmu. dbGate.mu is held only inside enter
//     and leave. newStandby takes umu alone, without wmu. A reopened index
//     counts its kept entries' keys on a goroutine that holds wmu
//     throughout (recountBehind) and counts once the supernode runs or a
//     writer or reader needs it (startCount, before any wait); until it
//     is done the keyword table's readers wait on a channel
//     (keyCounts.whole), with no lock held:
//     nextAdvert reads the counters (advertView) before it takes ownMu.
//   - link.wmu is held across one conn.Write (a frame, or the batch of
//     queued frames writeQueued joins), under a write deadline: it
//     serialises the link's writer goroutine with the direct writes of a
//     welcome or a last error frame. Frames are encoded before it is taken.
//
// Supernode.mu, Leaf.mu, advertStore.mu, routeTable.mu, DialBack.mu,
// Query.mu and fewRows.mu take nothing under them (fewEntries counts the
// rows with fewRows.mu released). Links are closed, frames queued
// (link.trySend never blocks), the index written, the Finder's cache told
// (rememberChanged) and roles changed (activate, deactivate) with them
// released; Leaf.mu is held while queueing frames to its own links with
// trySend and while logging a failed dial.
//
// The locks above are internal/locks mutexes, so `make locks` checks their
// order with go-deadlock, except three kept plain: dbGate.mu (a
// sync.Cond's), link.wmu (one per connection, held across its write) and
// index.wmu, which recountBehind takes on one goroutine and releases on
// another, where go-deadlock would charge the first with holding it.
package overlay
