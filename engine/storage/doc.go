// Package storage keeps a torrent's content on disk and builds new torrents.
//
// It implements the file mapping of BEP 3 (BitTorrent v1): the info
// dictionary describes one byte space, split into fixed-size pieces hashed
// with SHA-1 and laid out over one file or over an ordered list of files.
// BEP 47 padding files are honoured (never written to disk, read as zeros).
//
// Info dictionaries come from strangers, so NewLayout treats every name as
// hostile: it rejects path traversal and absolute paths, sanitizes names that
// are illegal or dangerous on Windows, macOS or Linux, and rejects layouts that
// would make two files share one place on disk. Files then opens content only
// below its root folder through an os.Root and refuses to pass through
// symbolic links.
package storage
