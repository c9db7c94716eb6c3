// Package wire is Shoal's codec for the BitTorrent peer wire protocol.
//
// It implements the framing and messages of BEP 3 (handshake and core
// messages), BEP 6 (Fast extension: HaveAll, HaveNone, Reject, Suggest,
// AllowedFast), BEP 10 (extension protocol handshake), BEP 9 (ut_metadata),
// BEP 11 (ut_pex), BEP 52 (the v2 reserved bit and the hash request,
// hashes and hash reject messages) and BEP 55 (ut_holepunch), plus the
// BEP 5 Port message. It is a pure codec: it opens no sockets and starts no
// goroutines.
//
// The hot path (Request, Have and Piece messages) neither allocates when
// decoding with a Decoder nor when encoding with the Append functions into a
// reused buffer. Everything that comes from a peer is bounded before it is
// parsed: message lengths by the Decoder's limit, bencoded payloads by fixed
// size and nesting limits checked before any bencode decoding.
package wire
