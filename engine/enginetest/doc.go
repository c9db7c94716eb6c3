// Package enginetest starts real Shoal engines on loopback for tests, in the
// spirit of anacrolix/torrent's TestingConfig: every node is loopback-only,
// listens on a free 127.0.0.1 port, keeps its state in a temporary folder,
// and is stopped (state saved) when the test ends.
package enginetest
