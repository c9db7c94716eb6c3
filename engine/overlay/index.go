package overlay

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/unicode/norm"

	_ "github.com/mattn/go-sqlite3" // SQLite driver; build with -tags sqlite_fts5

	"github.com/shoalp2p/shoal/internal/locks"
)

// indexSchema is the whole index: a plain table keyed by (leaf, infohash) and an external-content FTS5 table over name and file
// paths, kept in step by triggers.
const indexSchema = `
PRAGMA application_id = 0x53484f4c;
CREATE TABLE entries (
	id       INTEGER PRIMARY KEY,
	leaf     INTEGER NOT NULL,
	infohash BLOB NOT NULL,
	name     TEXT NOT NULL,
	size     INTEGER NOT NULL,
	files    TEXT NOT NULL, -- paths joined by newlines
	source   TEXT NOT NULL, -- BitTorrent host:port of the leaf
	v2       BLOB,          -- BEP 52 infohash (32 bytes), if any
	roots    BLOB,          -- BEP 52 pieces roots, 32 bytes each, if any
	UNIQUE (leaf, infohash)
);
CREATE INDEX entries_infohash ON entries (infohash);
` + hashesSchema + `
CREATE VIRTUAL TABLE entries_fts USING fts5 (
	name, files,
	content = 'entries', content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2',
	prefix = '2 3'
);
CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN
	INSERT INTO entries_fts (rowid, name, files) VALUES (new.id, new.name, new.files);
END;
CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
	INSERT INTO entries_fts (entries_fts, rowid, name, files) VALUES ('delete', old.id, old.name, old.files);
	DELETE FROM entry_hashes WHERE id = old.id;
END;
` + updateTrigger

// updateTrigger keeps the FTS rows in step when an entry's text changes;
// a change of source alone (the local leaf's new port) leaves them be.
const updateTrigger = `
CREATE TRIGGER entries_au AFTER UPDATE OF name, files ON entries BEGIN
	INSERT INTO entries_fts (entries_fts, rowid, name, files) VALUES ('delete', old.id, old.name, old.files);
	INSERT INTO entries_fts (rowid, name, files) VALUES (new.id, new.name, new.files);
END;
`

// index is a supernode's FTS5 index of its leaves' shares, with the key
// counts its keyword table is made from. Entries of an uncounted leaf (one
// that named us its standby supernode) are searchable but stay out of the
// table: its primary supernode advertises them.
type index struct {
	db *sql.DB
	kw *keyCounts

	wmu       sync.Mutex  // serialises writers, so key counts follow the rows
	umu       locks.Mutex // guards uncounted; changed with wmu held too, except for a new leaf (newStandby)
	uncounted map[int64]bool
	upserts   atomic.Int64 // entries written by put, for tests
	inserted  atomic.Int64 // new entries written (whether or not committed)
	gate      *dbGate      // searches before writes on the one connection
	// stopCount ends a recount still running (recountBehind) at close;
	// recounted is closed when it has returned. countGo lets it begin
	// (startCount closes it, once).
	stopCount context.CancelFunc
	recounted chan struct{}
	countGo   chan struct{}
	goOnce    sync.Once
	few       fewRows // whether the index holds fewer than rankCandidates entries
	// searchIn, when set (by a test, before the index is shared), runs
	// as a search gets the connection.
	searchIn func()
}

// fewRows remembers an upper bound on the index's entries: a bounded count
// of them and the index's inserted counter when it was taken. While the
// count plus the inserts since stays under rankCandidates, no word of a
// search can have rankCandidates matches, and matchWords skips counting.
type fewRows struct {
	mu      locks.Mutex
	counted bool
	rows    int64     // entries counted, at most rankCandidates
	at      int64     // index.inserted when counted
	when    time.Time // when counted
}

// fewRowsRecount is how often a bound that reached rankCandidates is
// counted again (entries may have been deleted since).
const fewRowsRecount = time.Second

// fewEntries reports whether the index surely holds fewer than
// rankCandidates entries. It counts (at most rankCandidates rows) only when
// its bound is unknown or reached the limit and fewRowsRecount has passed.
func (x *index) fewEntries(ctx context.Context) bool {
	ins := x.inserted.Load()
	x.few.mu.Lock()
	counted, bound, when := x.few.counted, x.few.rows+ins-x.few.at, x.few.when
	x.few.mu.Unlock()
	if counted && bound < rankCandidates {
		return true
	}
	if counted && time.Since(when) < fewRowsRecount {
		return false
	}
	var n int64
	if err := x.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM entries LIMIT ?)`, rankCandidates).Scan(&n); err != nil {
		return false
	}
	x.few.mu.Lock()
	x.few.counted, x.few.rows, x.few.at, x.few.when = true, n, ins, time.Now()
	x.few.mu.Unlock()
	return n < rankCandidates
}

// hashesSchema finds entries by v2 infohash and pieces root (search by
// hash); upsertEntry fills it, entries_ad empties it.
const hashesSchema = `
CREATE TABLE entry_hashes (
	hash BLOB NOT NULL,    -- a v2 infohash or pieces root
	id   INTEGER NOT NULL, -- entries.id
	PRIMARY KEY (hash, id)
) WITHOUT ROWID;
CREATE INDEX entry_hashes_id ON entry_hashes (id);
`

// indexVersion is the index schema's user_version: a file of version 1,
// 2 or 3 is brought up to it (migrate), one of another version (or none) is
// recreated.
const indexVersion = 4

// migrateV1 adds what version 2 added: v2 hashes of entries (version 1
// files hold only v1 entries, from the DHT).
const migrateV1 = `
ALTER TABLE entries ADD COLUMN v2 BLOB;
ALTER TABLE entries ADD COLUMN roots BLOB;
` + hashesSchema + `
DROP TRIGGER entries_ad;
CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
	INSERT INTO entries_fts (entries_fts, rowid, name, files) VALUES ('delete', old.id, old.name, old.files);
	DELETE FROM entry_hashes WHERE id = old.id;
END;
PRAGMA user_version = 2;
`

// migrateV2 adds what version 3 changed: an update of the source alone
// does not rewrite the FTS rows (the local leaf's entries are kept across
// restarts and only their source changes with the port).
const migrateV2 = `
DROP TRIGGER entries_au;
` + updateTrigger + `
PRAGMA user_version = 3;
`

// migrateV3 adds what version 4 added: BEP 33 seeds and leechers of DHT
// entries (unknown in the entries kept).
const migrateV3 = dhtScrapeColumns + `
PRAGMA user_version = 4;
`

// openIndex opens the index at path (":memory:" or "" for memory only).
// Remote leaves' shares are transient (leaves register again), but entries
// indexed from the DHT and the local leaf's own shares are worth keeping
// (the local leaf reconciles them, runLocal: a restart with an unchanged
// library writes nothing): a file of this schema keeps them and loses the
// rest; any other file (older schema, damaged) is recreated.
func openIndex(path string, log *slog.Logger) (*index, error) {
	if path == "" || path == ":memory:" {
		return createIndex("file::memory:")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath()
	if x, err := reopenIndex(path, dsn); err == nil {
		x.recountBehind(log)
		return x, nil
	} else if !errors.Is(err, errNoIndex) {
		log.Warn("overlay: index unusable, starting a new one", "path", path, "err", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("overlay: open index: %w", err)
		}
	}
	return createIndex(dsn)
}

// errNoIndex means there was no index file to reopen.
var errNoIndex = errors.New("overlay: no index file")

// openDB opens the SQLite file (or memory) named by dsn, with extra
// parameters appended to the defaults.
func openDB(dsn, extra string) (*sql.DB, error) {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := sql.Open("sqlite3", dsn+sep+"_journal_mode=WAL&_synchronous=OFF&_busy_timeout=5000&_stmt_cache_size=32"+extra)
	if err != nil {
		return nil, fmt.Errorf("overlay: open index: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// createIndex makes a new, empty index.
func createIndex(dsn string) (*index, error) {
	db, err := openDB(dsn, "")
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(indexSchema + termsSchema + dhtSchema + dhtScrapeColumns + fmt.Sprintf("PRAGMA user_version = %d;", indexVersion)); err != nil {
		db.Close()
		return nil, fmt.Errorf("overlay: create index: %w", err)
	}
	return &index{db: db, kw: newKeyCounts(), uncounted: make(map[int64]bool), gate: newDBGate()}, nil
}

// reopenIndex opens an existing index file of this schema and drops every
// remote leaf's entries (leaves register again); recountBehind then counts
// the keys of the DHT and local entries it keeps.
func reopenIndex(path, dsn string) (*index, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, errNoIndex
	}
	db, err := openDB(dsn, "&mode=rw")
	if err != nil {
		return nil, err
	}
	x := &index{db: db, kw: newKeyCounts(), uncounted: make(map[int64]bool), gate: newDBGate()}
	if err := x.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	if err := x.checkSchema(); err != nil {
		db.Close()
		return nil, err
	}
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `DELETE FROM entries WHERE leaf NOT IN (?, ?)`, dhtLeafID, localLeafID); err != nil {
		db.Close()
		return nil, fmt.Errorf("overlay: reopen index: drop leaf entries: %w", err)
	}
	return x, nil
}

// testBeforeRecount, set by a test, runs before recountBehind counts.
var testBeforeRecount func()

// recountBehind counts the keys of the entries a reopened file kept, after
// openIndex has returned (0.1 s of CPU with 10,000 shares, more with a
// large DHT index). It begins when the supernode runs or when the index is
// first used (startCount), not at once: a start does not wait for it, and
// on a busy machine it does not take CPU from the rest of the start
// either, before the daemon's ready line (Open) and the window. Writers
// wait for it (it holds wmu from now on, so the counts follow the rows),
// searches pass between its batches (the gate), and the keyword table's
// readers wait until the counts are whole (keyCounts.whole). close ends
// it early.
func (x *index) recountBehind(log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	x.stopCount, x.recounted, x.countGo = cancel, make(chan struct{}), make(chan struct{})
	whole := x.kw.counting(x.startCount)
	x.wmu.Lock()
	go func() {
		defer close(x.recounted)
		defer x.wmu.Unlock()
		defer whole()
		select {
		case <-x.countGo:
		case <-ctx.Done():
			return
		}
		if testBeforeRecount != nil {
			testBeforeRecount()
		}
		if err := x.recount(ctx); err != nil && ctx.Err() == nil {
			log.Warn("overlay: count the search keys of the kept entries; searches from other supernodes may miss some of ours until they change", "err", err)
		}
	}()
}

// startCount lets a pending recountBehind begin; a no-op without one.
// Every writer calls it before it waits for wmu (lockWrite), and the
// keyword table's readers before they wait for the count, so none waits
// for a count that has not begun.
func (x *index) startCount() {
	if x.countGo != nil {
		x.goOnce.Do(func() { close(x.countGo) })
	}
}

// lockWrite takes wmu for a writer, first letting a pending recount begin.
func (x *index) lockWrite() {
	x.startCount()
	x.wmu.Lock()
}

// migrate brings an index file of version 1, 2 or 3 up to indexVersion;
// other versions are left to checkSchema.
func (x *index) migrate() error {
	var app, ver int64
	if err := x.db.QueryRow(`PRAGMA application_id`).Scan(&app); err != nil {
		return fmt.Errorf("overlay: reopen index: %w", err)
	}
	if err := x.db.QueryRow(`PRAGMA user_version`).Scan(&ver); err != nil {
		return fmt.Errorf("overlay: reopen index: %w", err)
	}
	if app != 0x53484f4c {
		return nil
	}
	if ver == 1 {
		if _, err := x.db.Exec(migrateV1); err != nil {
			return fmt.Errorf("overlay: reopen index: migrate from version 1: %w", err)
		}
		ver = 2
	}
	if ver == 2 {
		if _, err := x.db.Exec(migrateV2); err != nil {
			return fmt.Errorf("overlay: reopen index: migrate from version 2: %w", err)
		}
		ver = 3
	}
	if ver == 3 {
		if _, err := x.db.Exec(migrateV3); err != nil {
			return fmt.Errorf("overlay: reopen index: migrate from version 3: %w", err)
		}
	}
	return nil
}

// checkSchema reports whether the open file is an index of this version
// that SQLite finds sound.
func (x *index) checkSchema() error {
	var app, ver int64
	var ok string
	if err := x.db.QueryRow(`PRAGMA application_id`).Scan(&app); err != nil {
		return fmt.Errorf("overlay: reopen index: %w", err)
	}
	if err := x.db.QueryRow(`PRAGMA user_version`).Scan(&ver); err != nil {
		return fmt.Errorf("overlay: reopen index: %w", err)
	}
	if app != 0x53484f4c || ver != indexVersion {
		return fmt.Errorf("overlay: reopen index: application id %#x version %d, want %#x version %d", app, ver, 0x53484f4c, indexVersion)
	}
	if err := x.db.QueryRow(`PRAGMA quick_check`).Scan(&ok); err != nil || ok != "ok" {
		return fmt.Errorf("overlay: reopen index: quick_check %q: %v", ok, err)
	}
	if _, err := x.db.Exec(`INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')`); err != nil {
		return fmt.Errorf("overlay: reopen index: FTS integrity: %w", err)
	}
	return nil
}

// recountBatch is how many entry texts one recount transaction tokenizes.
const recountBatch = 2000

// recount rebuilds the key counts from the DHT and local entries in the
// file, a batch at a time. x.wmu is held.
func (x *index) recount(ctx context.Context) error {
	x.kw.reset()
	last := int64(-1 << 62)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, next, err := x.recountFrom(ctx, last)
		if err != nil {
			return err
		}
		if n < recountBatch {
			return nil
		}
		last = next
	}
}

// recountFrom counts the keys of up to recountBatch kept entries with id
// above after; it returns how many and the last id.
func (x *index) recountFrom(ctx context.Context, after int64) (int, int64, error) {
	x.gate.enter(false)
	defer x.gate.leave()
	tx, err := x.begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("overlay: recount keys: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, `+textCols+` FROM entries WHERE leaf IN (?, ?) AND id > ? ORDER BY id LIMIT ?`, dhtLeafID, localLeafID, after, recountBatch)
	if err != nil {
		return 0, 0, fmt.Errorf("overlay: recount keys: %w", err)
	}
	var texts []string
	last := after
	for rows.Next() {
		var t keyText
		if err := rows.Scan(append([]any{&last}, t.dest()...)...); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("overlay: recount keys: %w", err)
		}
		texts = append(texts, t.String())
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("overlay: recount keys: %w", err)
	}
	keys, err := keysOfTexts(ctx, tx, texts)
	if err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("overlay: recount keys: %w", err)
	}
	for _, k := range keys {
		x.kw.add(k, 1)
	}
	return len(texts), last, nil
}

// close releases the database, once a recount still running has
// stopped.
func (x *index) close() error {
	if x.stopCount != nil {
		x.stopCount()
		<-x.recounted
	}
	if err := x.db.Close(); err != nil {
		return fmt.Errorf("overlay: close index: %w", err)
	}
	return nil
}

// begin starts a transaction that the end of ctx does not cut short.
// database/sql throws away the connection of a transaction whose context
// ends before commit (mattn/go-sqlite3 cannot reset a session), and an
// in-memory index dies with its only connection: the next one opens an
// empty database without tables, and every later write fails (seen in the
// 3,000-node simulation when a CPU-starved supernode hit dropLeafTimeout:
// "no such table: entries" by the thousand, recall 0.84). Writes are short
// and serialised; letting one finish costs less than losing the index.
func (x *index) begin(ctx context.Context) (*sql.Tx, error) {
	return x.db.BeginTx(context.WithoutCancel(ctx), nil)
}

// writeTx runs fn in a transaction under wmu (one writer at a time, so the
// key counts follow the rows) and the gate (searches first), rolled back
// unless fn commits it; a failed begin is wrapped with what.
func (x *index) writeTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	x.lockWrite()
	defer x.wmu.Unlock()
	x.gate.enter(false)
	defer x.gate.leave()
	tx, err := x.begin(ctx)
	if err != nil {
		return fmt.Errorf("overlay: %s: %w", what, err)
	}
	defer tx.Rollback()
	return fn(tx)
}

func (x *index) counted(leaf int64) bool {
	x.umu.Lock()
	defer x.umu.Unlock()
	return !x.uncounted[leaf]
}

// setUncounted records whether leaf's entries stay out of the keyword table.
func (x *index) setUncounted(leaf int64, off bool) {
	x.umu.Lock()
	defer x.umu.Unlock()
	if off {
		x.uncounted[leaf] = true
	} else {
		delete(x.uncounted, leaf)
	}
}

// newStandby marks a leaf that has no entries yet (it has just linked,
// naming us its standby) as uncounted. It needs no write lock: there are
// no rows or keys to move, and the leaf's own shares, which its link
// handles after this, are the first writes for it. A handshake therefore
// never waits behind other leaves' writes: a supernode taking over many
// leaves at once (its peers died) queued their welcomes behind every
// share write, the leaves' handshakes timed out (5 s), and they dialled
// again and again.
func (x *index) newStandby(leaf int64) { x.setUncounted(leaf, true) }

// putChunk is how many entries put writes in one transaction: a search
// waits for at most one chunk (see dbGate).
const putChunk = 16

// put upserts entries for leaf. New infohashes beyond maxPerLeaf are not
// stored; their number is returned as refused. It writes putChunk entries
// per transaction, letting waiting searches in between.
func (x *index) put(ctx context.Context, leaf int64, source string, entries []Entry, maxPerLeaf int) (refused int, err error) {
	x.lockWrite()
	defer x.wmu.Unlock()
	for len(entries) > 0 {
		n := min(len(entries), putChunk)
		r, err := x.putSome(ctx, leaf, source, entries[:n], maxPerLeaf)
		refused += r
		if err != nil {
			return refused, err
		}
		entries = entries[n:]
	}
	return refused, nil
}

// putSome is one transaction of put; x.wmu is held.
func (x *index) putSome(ctx context.Context, leaf int64, source string, entries []Entry, maxPerLeaf int) (refused int, err error) {
	x.gate.enter(false)
	defer x.gate.leave()
	tx, err := x.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("overlay: index put: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM entries WHERE leaf = ?`, leaf).Scan(&n); err != nil {
		return 0, fmt.Errorf("overlay: index put: count: %w", err)
	}
	var olds, news []string
	for _, e := range entries {
		old, err := entryOf(ctx, tx, leaf, e.InfoHash)
		if err != nil {
			return 0, err
		}
		if old == nil && n >= maxPerLeaf {
			refused++
			continue
		}
		if old == nil {
			x.inserted.Add(1) // before the write: the bound stays an upper bound
		}
		text, err := upsertEntry(ctx, tx, leaf, source, e, old)
		if err != nil {
			return 0, err
		}
		x.upserts.Add(1)
		if old != nil {
			olds = append(olds, old.String())
		} else {
			n++
		}
		news = append(news, text)
	}
	return refused, x.commitCounted(ctx, tx, leaf, news, olds)
}

// commitCounted commits tx and, for a counted leaf, adds the keys of the
// texts in plus and takes away those in minus.
func (x *index) commitCounted(ctx context.Context, tx *sql.Tx, leaf int64, plus, minus []string) error {
	var add, sub [][]uint32
	if x.counted(leaf) {
		var err error
		if add, err = keysOfTexts(ctx, tx, plus); err != nil {
			return err
		}
		if sub, err = keysOfTexts(ctx, tx, minus); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("overlay: index: commit: %w", err)
	}
	for _, k := range add {
		x.kw.add(k, 1)
	}
	for _, k := range sub {
		x.kw.add(k, -1)
	}
	return nil
}

// entryTextOf returns the searchable text of leaf's entry ih, if any.
func entryTextOf(ctx context.Context, tx *sql.Tx, leaf int64, ih [20]byte) (string, bool, error) {
	t, err := entryOf(ctx, tx, leaf, ih)
	if err != nil || t == nil {
		return "", false, err
	}
	return t.String(), true, nil
}

// entryOf returns the text and hashes of leaf's entry ih; nil if none.
func entryOf(ctx context.Context, tx *sql.Tx, leaf int64, ih [20]byte) (*keyText, error) {
	var t keyText
	err := tx.QueryRowContext(ctx, `SELECT `+textCols+` FROM entries WHERE leaf = ? AND infohash = ?`, leaf, ih[:]).Scan(t.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("overlay: index: lookup: %w", err)
	}
	return &t, nil
}

// upsertEntry stores e over old (nil if e is new) and returns its keyword
// text. The v2 hashes are written only when they changed: a new entry
// has none to delete, and a re-registered one mostly the same.
func upsertEntry(ctx context.Context, tx *sql.Tx, leaf int64, source string, e Entry, old *keyText) (string, error) {
	name, files := entryText(e.Name, e.Files)
	t := keyText{name: name, files: files, ih: e.InfoHash[:], v2: v2Blob(e.V2), roots: rootsBlob(e.Roots)}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO entries (leaf, infohash, name, size, files, source, v2, roots)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (leaf, infohash) DO UPDATE SET
			name = excluded.name, size = excluded.size, files = excluded.files, source = excluded.source,
			v2 = excluded.v2, roots = excluded.roots
		RETURNING id`,
		leaf, e.InfoHash[:], name, e.Size, files, source, t.v2, t.roots).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("overlay: index put: upsert: %w", err)
	}
	hashes := t.hashes()
	if old != nil {
		oldHashes := old.hashes()
		if slices.EqualFunc(oldHashes, hashes, bytes.Equal) {
			return t.String(), nil
		}
		if len(oldHashes) > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM entry_hashes WHERE id = ?`, id); err != nil {
				return "", fmt.Errorf("overlay: index put: hashes: %w", err)
			}
		}
	}
	if err := insertHashes(ctx, tx, id, hashes); err != nil {
		return "", err
	}
	return t.String(), nil
}

// insertHashes makes entry id findable by the v2 hashes given, in one
// statement (one per hashesPerInsert hashes): a statement costs more than
// the rows it writes.
func insertHashes(ctx context.Context, tx *sql.Tx, id int64, hashes [][]byte) error {
	for len(hashes) > 0 {
		n := min(len(hashes), hashesPerInsert)
		args := make([]any, 0, 2*n)
		for _, h := range hashes[:n] {
			args = append(args, h, id)
		}
		q := `INSERT OR IGNORE INTO entry_hashes (hash, id) VALUES (?, ?)` + strings.Repeat(`, (?, ?)`, n-1)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("overlay: index put: hashes: %w", err)
		}
		hashes = hashes[n:]
	}
	return nil
}

// hashesPerInsert bounds one insertHashes statement (SQLite allows 32,766
// parameters; few entries have more than a handful of files).
const hashesPerInsert = 128

// remove deletes some of leaf's entries.
func (x *index) remove(ctx context.Context, leaf int64, hashes [][20]byte) error {
	if len(hashes) == 0 {
		return nil
	}
	return x.writeTx(ctx, "index remove", func(tx *sql.Tx) error {
		var olds []string
		for _, h := range hashes {
			old, exists, err := entryTextOf(ctx, tx, leaf, h)
			if err != nil || !exists {
				if err != nil {
					return err
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM entries WHERE leaf = ? AND infohash = ?`, leaf, h[:]); err != nil {
				return fmt.Errorf("overlay: index remove: %w", err)
			}
			olds = append(olds, old)
		}
		return x.commitCounted(ctx, tx, leaf, nil, olds)
	})
}

// removeLeaf deletes every entry of leaf.
func (x *index) removeLeaf(ctx context.Context, leaf int64) error {
	return x.writeTx(ctx, "index remove leaf", func(tx *sql.Tx) error {
		olds, err := leafTexts(ctx, tx, leaf)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM entries WHERE leaf = ?`, leaf); err != nil {
			return fmt.Errorf("overlay: index remove leaf: %w", err)
		}
		if err := x.commitCounted(ctx, tx, leaf, nil, olds); err != nil {
			return err
		}
		x.setUncounted(leaf, false)
		return nil
	})
}

// leafTexts returns the searchable texts of every entry of leaf.
func leafTexts(ctx context.Context, tx *sql.Tx, leaf int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+textCols+` FROM entries WHERE leaf = ?`, leaf)
	if err != nil {
		return nil, fmt.Errorf("overlay: index: leaf texts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t keyText
		if err := rows.Scan(t.dest()...); err != nil {
			return nil, fmt.Errorf("overlay: index: leaf texts: %w", err)
		}
		out = append(out, t.String())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overlay: index: leaf texts: %w", err)
	}
	return out, nil
}

// setCounted puts leaf's entries into the keyword table (on) or takes
// them out.
func (x *index) setCounted(ctx context.Context, leaf int64, on bool) error {
	x.lockWrite()
	defer x.wmu.Unlock()
	x.gate.enter(false)
	defer x.gate.leave()
	if x.counted(leaf) == on {
		return nil
	}
	tx, err := x.begin(ctx)
	if err != nil {
		return fmt.Errorf("overlay: index count leaf: %w", err)
	}
	defer tx.Rollback()
	texts, err := leafTexts(ctx, tx, leaf)
	if err != nil {
		return err
	}
	keys, err := keysOfTexts(ctx, tx, texts)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("overlay: index count leaf: %w", err)
	}
	delta := int32(1)
	if !on {
		delta = -1
		x.setUncounted(leaf, true)
	} else {
		x.setUncounted(leaf, false)
	}
	for _, k := range keys {
		x.kw.add(k, delta)
	}
	return nil
}

// clear deletes every remote leaf's entries and their keys; entries
// indexed from the DHT and the local leaf's stay (they survive role
// changes and restarts; the local leaf reconciles its own, runLocal).
func (x *index) clear(ctx context.Context) error {
	return x.writeTx(ctx, "index clear", func(tx *sql.Tx) error {
		var olds []string
		rows, err := tx.QueryContext(ctx, `SELECT leaf, `+textCols+` FROM entries WHERE leaf NOT IN (?, ?)`, dhtLeafID, localLeafID)
		if err != nil {
			return fmt.Errorf("overlay: index clear: %w", err)
		}
		for rows.Next() {
			var leaf int64
			var t keyText
			if err := rows.Scan(append([]any{&leaf}, t.dest()...)...); err != nil {
				rows.Close()
				return fmt.Errorf("overlay: index clear: %w", err)
			}
			if x.counted(leaf) {
				olds = append(olds, t.String())
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("overlay: index clear: %w", err)
		}
		sub, err := keysOfTexts(ctx, tx, olds)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM entries WHERE leaf NOT IN (?, ?)`, dhtLeafID, localLeafID); err != nil {
			return fmt.Errorf("overlay: index clear: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("overlay: index clear: %w", err)
		}
		for _, k := range sub {
			x.kw.add(k, -1)
		}
		x.umu.Lock()
		x.uncounted = make(map[int64]bool)
		x.umu.Unlock()
		return nil
	})
}

// queryKeys returns the keyword-table keys for user words.
func (x *index) queryKeys(ctx context.Context, words string) ([]uint32, error) {
	x.gate.enter(true)
	defer x.gate.leave()
	tx, err := x.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("overlay: query keys: %w", err)
	}
	defer tx.Rollback()
	if h, ok := hashQuery(words); ok {
		return []uint32{hashKey(h)}, nil
	}
	return queryKeys(ctx, tx, queryWords(norm.NFC.String(words)))
}

// count returns the number of entries of leaf.
func (x *index) count(ctx context.Context, leaf int64) (int, error) {
	var n int
	if err := x.db.QueryRowContext(ctx, `SELECT count(*) FROM entries WHERE leaf = ?`, leaf).Scan(&n); err != nil {
		return 0, fmt.Errorf("overlay: index count: %w", err)
	}
	return n, nil
}

// rankCandidates is how many whole-word matches make a word common (see
// matchWords).
const rankCandidates = 2000

// orderCandidates is how many of a query's newest name matches are
// ordered by name length: each costs a read of its entries row.
const orderCandidates = 500

// search answers a user query: hits grouped by infohash, best match first,
// at most limit of them. Each hit's sources are every leaf that registered
// the infohash, whatever name it gave it.
//
// A search must stay fast in an index of millions of entries (a supernode
// indexing the DHT), so every step lets FTS5 stop early:
//   - matchWords matches a common word whole and only rarer words as
//     prefixes: a prefix beyond the prefix index makes FTS5 merge the
//     document lists of every term it starts, all of them, before it can
//     return a row;
//   - only the orderCandidates newest name matches are ordered (ORDER BY
//     rowid DESC LIMIT, which FTS5 walks lazily);
//   - ranking is not bm25: bm25 counts every row of each word's document
//     list for its IDF, tens of milliseconds for a word in a quarter of a
//     million entries, whatever the LIMIT. Entries with every word in
//     their name come first, shortest name first (most of the name is
//     what was asked for); then entries matched in their file paths,
//     newest first.
//
// Only the best limit*4 rows are read from the entries table.
func (x *index) search(ctx context.Context, words string, limit int) ([]Hit, error) {
	x.gate.enter(true)
	defer x.gate.leave()
	if x.searchIn != nil {
		x.searchIn()
	}
	if h, ok := hashQuery(words); ok {
		return x.searchHash(ctx, h, limit)
	}
	if _, err := ftsQuery(words); err != nil {
		return nil, err
	}
	expr, err := x.matchWords(ctx, queryWords(norm.NFC.String(words)))
	if err != nil {
		return nil, err
	}
	var g hitGroup
	rows, err := x.db.QueryContext(ctx, `SELECT e.infohash, e.name, e.size, e.files, e.v2
		FROM (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rowid DESC LIMIT ?) AS f
		JOIN entries e ON e.id = f.rowid
		ORDER BY length(e.name), f.rowid DESC LIMIT ?`, "name : ("+expr+")", orderCandidates, limit*4)
	if err != nil {
		return nil, fmt.Errorf("overlay: index search: %w", err)
	}
	n, err := g.add(rows, limit)
	if err != nil {
		return nil, err
	}
	if n < limit*4 {
		rows, err := x.db.QueryContext(ctx, `SELECT e.infohash, e.name, e.size, e.files, e.v2
			FROM (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rowid DESC LIMIT ?) AS f
			JOIN entries e ON e.id = f.rowid
			ORDER BY f.rowid DESC`, "("+expr+") NOT name : ("+expr+")", limit*4-n)
		if err != nil {
			return nil, fmt.Errorf("overlay: index search: %w", err)
		}
		if _, err := g.add(rows, limit); err != nil {
			return nil, err
		}
	}
	return x.finishGroup(ctx, g.hits)
}

// matchWords makes the MATCH expression of user words, all required: a
// word with at least rankCandidates whole-word matches is matched whole
// (it is a complete word, and as a prefix it would cost a merge of every
// longer word's document list), a rarer word as a prefix. Counting up to
// rankCandidates walks that many rows at most; an index of fewer entries
// (see fewEntries) needs no count.
func (x *index) matchWords(ctx context.Context, words []string) (string, error) {
	parts := make([]string, len(words))
	few := x.fewEntries(ctx)
	for i, w := range words {
		whole := matchExpr([]string{w}, "")
		if few {
			parts[i] = whole + "*"
			continue
		}
		var n int
		if err := x.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT rowid FROM entries_fts
			WHERE entries_fts MATCH ? ORDER BY rowid DESC LIMIT ?)`, whole, rankCandidates).Scan(&n); err != nil {
			return "", fmt.Errorf("overlay: index search: %w", err)
		}
		parts[i] = whole
		if n < rankCandidates {
			parts[i] += "*"
		}
	}
	return strings.Join(parts, " AND "), nil
}

// finishHits groups the rows of a search (infohash, name, size, files, v2)
// into hits and fills in their sources and DHT swarms.
func (x *index) finishHits(ctx context.Context, rows *sql.Rows, limit int) ([]Hit, error) {
	var g hitGroup
	if _, err := g.add(rows, limit); err != nil {
		return nil, err
	}
	return x.finishGroup(ctx, g.hits)
}

// finishGroup fills in the sources and DHT swarms of grouped hits.
func (x *index) finishGroup(ctx context.Context, hits []Hit) ([]Hit, error) {
	if err := x.fillSources(ctx, hits); err != nil {
		return nil, err
	}
	if err := x.fillDHT(ctx, hits); err != nil {
		return nil, err
	}
	if err := x.fillRoots(ctx, hits); err != nil {
		return nil, err
	}
	return hits, nil
}

// fillRoots sets each hit's BEP 52 pieces roots from the first of its
// entries that has them, in one query for all hits.
func (x *index) fillRoots(ctx context.Context, hits []Hit) error {
	query := func(in string) string {
		return `SELECT infohash, roots FROM entries
		WHERE infohash IN (` + in + `) AND length(roots) > 0 ORDER BY infohash, id`
	}
	return fillHits(ctx, x.db, "index roots", hits, query, nil, func(h *Hit, roots []byte) {
		if len(h.Roots) > 0 || len(roots)%32 != 0 {
			return
		}
		for r := range min(len(roots)/32, maxFilesPerEntry) {
			h.Roots = append(h.Roots, [32]byte(roots[32*r:]))
		}
	})
}

// hashArgs returns "?,?,…" and the infohashes of hits as query arguments.
func hashArgs(hits []Hit, extra ...any) (string, []any) {
	args := make([]any, 0, len(hits)+len(extra))
	for _, h := range hits {
		args = append(args, h.InfoHash[:])
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(hits)), ","), append(args, extra...)
}

// fillSources sets each hit's sources: the distinct peer addresses of the
// leaves that registered it (not the DHT), at most maxSourcesPerHit, in
// one query for all hits.
func (x *index) fillSources(ctx context.Context, hits []Hit) error {
	query := func(in string) string {
		return `SELECT DISTINCT infohash, source FROM entries
		WHERE infohash IN (` + in + `) AND leaf != ? ORDER BY infohash, source`
	}
	return fillHits(ctx, x.db, "index sources", hits, query, []any{dhtLeafID}, func(h *Hit, src string) {
		if len(h.Sources) < maxSourcesPerHit {
			h.Sources = append(h.Sources, src)
		}
	})
}

// fillHits runs one query for all hits: query(in) selects an infohash and
// one value T, in being the IN list of the hits' infohashes, bound before
// extra. set gets each row's hit and value; a row naming no hit is
// skipped. op names the step in errors.
func fillHits[T any](ctx context.Context, db *sql.DB, op string, hits []Hit, query func(in string) string, extra []any, set func(h *Hit, v T)) error {
	if len(hits) == 0 {
		return nil
	}
	at := make(map[[20]byte]int, len(hits))
	for i, h := range hits {
		at[h.InfoHash] = i
	}
	in, args := hashArgs(hits, extra...)
	rows, err := db.QueryContext(ctx, query(in), args...)
	if err != nil {
		return fmt.Errorf("overlay: %s: %w", op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ih []byte
		var v T
		if err := rows.Scan(&ih, &v); err != nil {
			return fmt.Errorf("overlay: %s: scan: %w", op, err)
		}
		if len(ih) != 20 {
			continue
		}
		if i, ok := at[[20]byte(ih)]; ok {
			set(&hits[i], v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("overlay: %s: %w", op, err)
	}
	return nil
}

// hitGroup groups search rows by infohash: the first row of each makes
// the hit, later rows add their names.
type hitGroup struct {
	hits []Hit
	at   map[[20]byte]int
}

// add reads rows (infohash, name, size, files, v2) into the group, up to
// limit hits, and returns how many rows it read.
func (g *hitGroup) add(rows *sql.Rows, limit int) (int, error) {
	defer rows.Close()
	if g.at == nil {
		g.at = make(map[[20]byte]int)
	}
	n := 0
	for rows.Next() {
		n++
		var ih, v2 []byte
		var h Hit
		var files string
		if err := rows.Scan(&ih, &h.Name, &h.Size, &files, &v2); err != nil {
			return n, fmt.Errorf("overlay: index search: scan: %w", err)
		}
		if len(ih) != 20 {
			continue
		}
		g.addRow(h, [20]byte(ih), files, v2, limit)
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("overlay: index search: %w", err)
	}
	return n, nil
}

// addRow adds one row to the group.
func (g *hitGroup) addRow(h Hit, ih [20]byte, files string, v2 []byte, limit int) {
	if i, ok := g.at[ih]; ok {
		addName(&g.hits[i], h.Name)
		if len(v2) == 32 && g.hits[i].V2 == ([32]byte{}) {
			g.hits[i].V2 = [32]byte(v2)
		}
		return
	}
	if len(g.hits) == limit {
		return
	}
	h.InfoHash = ih
	if len(v2) == 32 {
		h.V2 = [32]byte(v2)
	}
	h.Names = []string{h.Name}
	if files != "" {
		h.Files = strings.Split(files, "\n")
		h.Files = h.Files[:min(len(h.Files), maxFilesPerHit)]
	}
	g.at[ih] = len(g.hits)
	g.hits = append(g.hits, h)
}

// addName adds name to h.Names if it is new and there is room; it reports
// whether it did.
func addName(h *Hit, name string) bool {
	if name == "" || len(h.Names) >= maxNamesPerHit || slices.Contains(h.Names, name) {
		return false
	}
	h.Names = append(h.Names, name)
	return true
}
