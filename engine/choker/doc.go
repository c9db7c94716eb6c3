// Package choker decides which peers a transfer uploads to: BEP 3's
// tit-for-tat with an optimistic unchoke, as in Bram Cohen's "Incentives
// Build Robustness in BitTorrent". Every round (10 s) the interested peers
// that upload fastest to us are unchoked; one more, rotated every third round
// (30 s), is unchoked at random so newcomers get a chance. When we are a
// seed, nobody uploads to us, so peers take turns instead (libtorrent's
// round-robin seeding): the regular slots go to the peers that have waited
// longest since they were last unchoked, by how fast we upload to them
// among equals. A peer that downloads fastest, a free-rider perhaps, cannot
// keep a seed to itself. A peer's remembered credit (what it gave us across
// sessions) breaks ties, and free-riders (take, never give) rank last.
package choker
