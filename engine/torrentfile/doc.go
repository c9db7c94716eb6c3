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
// without a length or path, negative sizes. Names themselves are never
// refused here: storage.NewLayout maps every path safely below the
// download folder.
//
// Taken from anacrolix/torrent: its bencode decoder (with its nesting-depth
// limit) and its metainfo.Info and metainfo.FileTree types, which the rest
// of Shoal uses. Written here: the tolerant top-level and info decoders and
// their checks.
package torrentfile
