// Package storage keeps a torrent's content on disk and builds new torrents.
//
// It implements the file mapping of BEP 3 (BitTorrent v1): the info
// dictionary describes one byte space, split into fixed-size pieces hashed
// with SHA-1 and laid out over one file or over an ordered list of files.
// BEP 47 padding files are honoured (never written to disk, read as zeros).
//
// BitTorrent v2 (BEP 52): a v2-only torrent is laid out in file-tree
// order, each file starting on a piece boundary, and each piece is checked
// by its SHA-256 Merkle hash against its file's piece layer (or, for a file
// of one piece or less, its pieces root). From anacrolix/torrent Shoal
// takes the metainfo types and merkle.Root/RootWithPadHash; the piece
// layout, the hash-request proofs (chunks of a piece layer with their
// uncle hashes, the leaf hashes of one piece) and their checks are written
// here (v2.go, v2_proof.go).
//
// A hybrid torrent is laid out and checked by its v1 parts alone: SHA-1
// per piece, which BEP 52 makes describe the same bytes as its v2 parts
// (the v1 file list carries BEP 47 pad files where v2 aligns files).
// libtorrent checks both hashes; Shoal does not, by choice. A peer cannot
// forge data past SHA-1 (that takes a second preimage, not the collision
// SHAttered showed), so the second hash guards only against a torrent
// whose maker made its two halves disagree, and it would cost the SHA-256
// pass on every piece: on this machine SHA-256 Merkle hashing ran at about
// 0.6 times SHA-1's speed (go test -bench BenchmarkPiece ./engine/storage/).
// What a hybrid loses is v2's per-block blame, which needs piece layers:
// its failed pieces are judged by the v1 rule (see package swarm).
//
// Create computes a v1 torrent's pieces roots beside its pieces on request
// (CreateOptions.Roots, CreateShare) without changing the torrent: a
// file's root is fixed by its bytes alone, whatever the piece length.
//
// Info dictionaries come from strangers, so NewLayout treats every name as
// hostile, and maps it, as libtorrent's sanitize_append_path_element does,
// instead of refusing the torrent: empty, "." and ".." components are
// dropped, leading separators stripped, separators inside a name and
// characters illegal on Windows, macOS or Linux become '_', long names are
// cut to 255 bytes keeping the extension, and a file that would share a
// place on disk with another (also by letter case, or as a folder) gets a
// counter before its extension ("a.1.txt"). Files then opens content only
// below its root folder through an os.Root and refuses to pass through
// symbolic links.
//
// Descriptors: every Files in the process takes its open files from one
// cache, least recently used first out, bounded at maxOpenFiles
// descriptors (and maxMappings mapped files), so a library of thousands of
// torrents runs under the usual limit of 1024 open files. A Files keeps no
// descriptor of its own: its root folder is opened with os.OpenRoot for
// the moment a file is opened below it, and an idle torrent holds nothing
// open once its files are evicted.
//
// Locks. The descriptor cache's mutex (cache.mu, one for the process)
// guards the cache's lists and every Files' open and mapped tables, its
// closed flag and its handles' and mappings' use counts. It is a leaf,
// held for bookkeeping only: files are opened, mapped and closed with it
// released (a handle or mapping made meanwhile by another caller wins, and
// the loser's is closed), and evicted handles are closed and retired
// mappings unmapped after it is released (munmap of a large file takes a
// while, and every torrent's storage would wait for it). Two more locks
// are local: layerTrees.mu, held while a v2 proof tree is built from
// hashes already in memory, and reporter.mu, held across the progress
// callback on purpose so that calls never overlap; a hashing goroutine
// only tries it (TryLock), so a slow callback skips progress reports
// rather than holding up the check, and the callback must not call back
// into the check.
package storage
