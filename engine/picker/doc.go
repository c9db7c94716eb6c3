// Package picker chooses which blocks to request from which peer (BEP 3
// piece selection as libtorrent and Transmission do it): a few random pieces
// first, then rarest-first across connected peers (or in order, when
// sequential), partial pieces finished before new ones start, and an
// endgame that requests the last blocks from several peers at once.
//
// It owns piece availability and the state of every block in flight, in
// 16 KiB blocks (BlockSize); it hashes nothing. Its owner verifies each
// piece and reports the outcome (MarkHave, MarkFailed, or Refetch for a v2
// piece whose bad blocks are known), and skips the pieces of unwanted
// files with SetWanted. A block is asked of one peer at a time, except
// one stuck StealAfter on a slow peer (one more peer) and, in the endgame
// (every missing block already requested), any missing block (up to two
// more), because duplicate requests cost the swarm upload bandwidth.
//
// A Picker is not safe for concurrent use; its owner (one transfer) guards it.
package picker
