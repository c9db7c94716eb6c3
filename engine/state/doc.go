// Package state is Shoal's persistent state, kept in one SQLite database:
// the library of shared torrents (their BEP 3 info dictionaries), downloads
// with their resume data, the eMule-style per-peer credit and traffic ledger,
// hash-failure and ban records, settings, the BEP 5 DHT routing-table cache
// and the supernode address cache of the search overlay.
//
// The layout follows syncthing's internal/db/sqlite habits: numbered
// migrations embedded in the binary are applied in order, one transaction
// each, and recorded in PRAGMA user_version; PRAGMA application_id marks the
// file as Shoal's and is checked on open. The database runs in WAL mode with
// synchronous=NORMAL, except that a Flush carrying progress, and
// SaveProgress, commit with synchronous=FULL because they record pieces
// whose data was already synced.
// All writes go through a single connection (one writer); reads use a
// separate pool of read-only connections.
//
// Peers are named by PeerKey (an IP, or a peer ID on loopback) in the ban,
// hash-failure and credit tables. The text a key is stored as is this
// package's alone: the rest of Shoal builds keys with PeerKeyFromIP and
// PeerKeyFromID and hands them to DB methods, so no other package parses
// or writes the stored form.
package state
