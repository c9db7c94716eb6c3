package engine

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoalp2p/shoal/engine/state"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/swarm"
)

// Every transfer and library item also has a small resume file in
// DataDir/resume, written when it is added or its metadata arrives and
// removed with it. They are never read, except when shoal.db turns out to
// be damaged: the damaged file is moved aside and the library and
// transfers are rebuilt from them (downloads are rechecked against the
// disk). The byte counters and peer credit live only in the database and
// start again from zero.

// resumeDir holds one resume file per transfer or library item.
const resumeDir = "resume"

// resumeRecord is one resume file.
type resumeRecord struct {
	Library bool       `json:"library,omitempty"`
	Name    string     `json:"name"`
	Path    string     `json:"path,omitempty"` // library: the shared file or folder
	Dir     string     `json:"dir,omitempty"`  // download: its folder
	Source  string     `json:"source,omitempty"`
	Added   time.Time  `json:"added"`
	Info    []byte     `json:"info,omitempty"`  // bencoded info dictionary
	Roots   [][32]byte `json:"roots,omitempty"` // library: BEP 52 pieces roots of its files
}

func (e *Engine) resumePath(ih InfoHash) string {
	return filepath.Join(e.cfg.DataDir, resumeDir, ih.String()+".json")
}

// saveResume writes ih's resume file atomically (temporary file, rename).
// A failure is logged, not returned: the database is the record.
func (e *Engine) saveResume(ih InfoHash, r resumeRecord) {
	if err := writeResume(e.resumePath(ih), r); err != nil {
		e.log.Warn("write resume file", "infohash", ih.String(), "err", err)
	}
}

func writeResume(path string, r resumeRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeWhole(path, 0o600, writeBytes(b))
}

// dropResume removes ih's resume file.
func (e *Engine) dropResume(ih InfoHash) {
	if err := os.Remove(e.resumePath(ih)); err != nil && !errors.Is(err, os.ErrNotExist) {
		e.log.Warn("remove resume file", "infohash", ih.String(), "err", err)
	}
}

// libraryResume and transferResume are the resume records of database rows.
func libraryResume(r state.LibraryRow) resumeRecord {
	return resumeRecord{Library: true, Name: r.Name, Path: r.Path, Added: r.Added, Info: r.Info, Roots: r.Roots}
}

func transferResume(r state.TransferRow) resumeRecord {
	return resumeRecord{Name: r.Name, Dir: r.Dir, Source: r.Source, Added: r.Added, Info: r.Info}
}

// backfillResume writes resume files for a data folder from before they
// existed (the folder is missing): once, at start.
func (e *Engine) backfillResume(lib []state.LibraryRow, rows []state.TransferRow) {
	if _, err := os.Stat(filepath.Join(e.cfg.DataDir, resumeDir)); err == nil {
		return
	}
	for _, r := range lib {
		e.saveResume(r.InfoHash, libraryResume(r))
	}
	for _, r := range rows {
		e.saveResume(r.InfoHash, transferResume(r))
	}
	if err := os.MkdirAll(filepath.Join(e.cfg.DataDir, resumeDir), 0o700); err != nil {
		e.log.Warn("create resume folder", "err", err)
	}
}

// openState opens shoal.db. A damaged one is moved aside (kept, for the
// user or a later repair), a fresh one is created and filled from the
// resume files, and Recovered explains what happened.
func (e *Engine) openState() error {
	path := filepath.Join(e.cfg.DataDir, "shoal.db")
	db, err := state.Open(path)
	if err == nil || !errors.Is(err, state.ErrDamaged) {
		e.db = db
		return err
	}
	e.log.Error("state database damaged", "file", path, "err", err)
	aside := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102-150405"))
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("engine: the database %s is damaged and could not be moved aside: %w", path, err)
		}
	}
	if e.db, err = state.Open(path); err != nil {
		return fmt.Errorf("engine: the database %s was damaged; a new one could not be made: %w", path, err)
	}
	shares, transfers := e.rebuild(context.Background())
	e.recovered = fmt.Sprintf("Shoal's database %s was damaged. Shoal moved it to %s and rebuilt "+
		"%d shared items and %d transfers from the files on disk (downloads are checked again). "+
		"The all-time upload and download totals and peers' credit could not be rebuilt and start again from zero.",
		path, aside, shares, transfers)
	e.log.Error(e.recovered)
	return nil
}

// rebuild puts every resume file's item into the fresh database; loadState
// then starts them as usual. Downloads have no saved bitfield, so their
// first start rechecks the disk.
func (e *Engine) rebuild(ctx context.Context) (shares, transfers int) {
	dir := filepath.Join(e.cfg.DataDir, resumeDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		e.log.Warn("read resume files", "err", err)
		return 0, 0
	}
	for _, ent := range entries {
		ih, ok := resumeName(ent.Name())
		if !ok {
			continue
		}
		r, err := readResume(filepath.Join(dir, ent.Name()))
		if err == nil {
			err = e.restoreRow(ctx, ih, r)
		}
		switch {
		case err != nil:
			e.log.Warn("resume file not restored", "file", ent.Name(), "err", err)
		case r.Library:
			shares++
		default:
			transfers++
		}
	}
	return shares, transfers
}

// resumeName parses "<40 hex digits>.json".
func resumeName(name string) (InfoHash, bool) {
	base, ok := strings.CutSuffix(name, ".json")
	if !ok || len(base) != 40 {
		return InfoHash{}, false
	}
	var ih InfoHash
	if _, err := hex.Decode(ih[:], []byte(base)); err != nil {
		return InfoHash{}, false
	}
	return ih, true
}

// maxResumeFile bounds a resume file (its info dictionary included).
const maxResumeFile = maxTorrentFile + 1<<20

func readResume(path string) (resumeRecord, error) {
	var r resumeRecord
	st, err := os.Stat(path)
	if err != nil {
		return r, err
	}
	if st.Size() > maxResumeFile {
		return r, fmt.Errorf("%d bytes, over the %d limit", st.Size(), maxResumeFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(b, &r)
}

func (e *Engine) restoreRow(ctx context.Context, ih InfoHash, r resumeRecord) error {
	if r.Library {
		if len(r.Info) == 0 || r.Path == "" {
			return errors.New("library item without metadata or path")
		}
		info, err := swarm.ParseInfo(r.Info)
		if err != nil {
			return err
		}
		return e.db.PutLibrary(ctx, state.LibraryRow{InfoHash: ih, Name: r.Name, Path: r.Path,
			Size: storage.ContentLength(info), Files: storage.ContentFiles(info), Info: r.Info, Added: r.Added, Roots: r.Roots})
	}
	if r.Dir == "" {
		return errors.New("download without a folder")
	}
	return e.db.PutTransfer(ctx, state.TransferRow{InfoHash: ih, Name: r.Name, Dir: r.Dir, Source: r.Source,
		Info: r.Info, State: string(StateDownloading), Added: r.Added, Checked: len(r.Info) == 0})
}

// Recovered explains, for people, what Open did about a damaged database;
// it is empty when there was nothing to recover.
func (e *Engine) Recovered() string { return e.recovered }
