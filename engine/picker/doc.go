// Package picker chooses which blocks to request from which peer (BEP 3
// piece selection as libtorrent and Transmission do it): a few random pieces
// first, then rarest-first across connected peers, partial pieces finished
// before new ones start, and an endgame that requests the last blocks from
// several peers at once.
//
// A Picker is not safe for concurrent use; its owner (one transfer) guards it.
package picker
