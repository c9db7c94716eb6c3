// Package storage keeps a torrent's content on disk and builds new torrents.
//
// It implements the file mapping of BEP 3 (BitTorrent v1): the info
// dictionary describes one byte space, split into fixed-size pieces hashed
// with SHA-1 and laid out over one file or over an ordered list of files.
// BEP 47 padding files are honoured (never written to disk, read as zeros).
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
package storage
