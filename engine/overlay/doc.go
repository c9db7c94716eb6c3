// Package overlay is Shoal's supernode search overlay, modelled on the
// FastTrack (Kazaa) and Gnutella2 ultrapeer/leaf designs. No BEP covers it:
// it is Shoal's own protocol, and what it finds are BEP 3 infohashes plus the
// BitTorrent peer addresses (host:port) that hold them.
//
// Roles. A Leaf registers what it shares (infohash, name, size, file paths)
// with a few Supernodes and sends its searches to them. A Supernode keeps the
// shares of its leaves in a transient SQLite FTS5 index, answers queries from
// it, and forwards each query to its neighbour supernodes with one hop fewer.
// Hits travel back along the reverse path to the supernode that took the
// query from the leaf, which streams them to the leaf. Supernodes drop a
// query whose UUID they have already seen, so loops in the supernode graph
// cost one duplicate frame, never a second answer.
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
// that: "share" (leaf adds/removes entries), "query", "hits", "ping" (sent
// whenever a side has been quiet for a second, so a dead link is noticed
// within a few seconds) and "error". A malformed or oversized frame ends that
// one link, after an error frame to the peer.
//
// Search results. Leaf.Search streams Hits as they arrive; hits for the same
// infohash from several supernodes are merged: each Hit sent carries the
// union of every source seen so far for its infohash, and a later Hit for an
// infohash supersedes the earlier one.
package overlay
