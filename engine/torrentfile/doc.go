// Package torrentfile reads .torrent files and info dictionaries from
// strangers as leniently as libtorrent 2.0 does, so that every torrent
// libtorrent (qBittorrent, Deluge) opens, Shoal opens too.
//
// It implements the metainfo of BEP 3 (v1), BEP 12 (announce-list), BEP 19
// (url-list), BEP 47 (padding files) and BEP 52 (v2 and hybrid: meta
// version, file tree, piece layers).
//
// Lenient means: bytes after the top-level dictionary are ignored, and an
// optional key of the wrong type (an integer url-list, a string creation
// date, odd nodes) is dropped and reported in File.Ignored instead of
// failing the torrent. Refused, each with a named reason, is only what
// cannot be used: no info dictionary, bencode nested deeper than the
// decoder's limit, a missing or bad piece length, no name, no files, a file
// without a length or path, negative sizes; and, to bound the work one
// torrent can cause, more than MaxFiles files. Names themselves are never
// refused here: storage.NewLayout maps every path safely below the
// download folder.
//
// A v2-only torrent is known on the wire, in the DHT and at trackers by its
// SHA-256 infohash cut to 20 bytes; a hybrid by its v1 infohash, so v1 and
// hybrid peers share one swarm (SwarmHash). Piece layers are checked
// against each file's pieces root before use (CheckPieceLayers).
//
// Taken from anacrolix/torrent: its bencode decoder (with its nesting-depth
// limit), its metainfo.Info, metainfo.FileTree (parsing, validation, the
// piece-aligned file order) and HashForPiecePad, and merkle.RootWithPadHash.
// Written here: the tolerant top-level and info decoders and their checks,
// the v2 checks (meta version, power-of-two piece length), the piece-layer
// check and the choice of swarm hash. storage's Layout.CheckPiece hashes
// pieces.
package torrentfile
