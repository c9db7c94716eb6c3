package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/engine/dhtindex"
	"github.com/shoalp2p/shoal/engine/swarm"
	"github.com/shoalp2p/shoal/engine/transport"
)

// Settings are the user's choices, applied at run time and kept in SQLite.
type Settings struct {
	// UploadLimit and DownloadLimit cap all transfers together (bytes/s, 0 = none).
	UploadLimit   int64
	DownloadLimit int64
	// The alternative limits apply while AltEnabled is set or the schedule says so.
	AltUploadLimit   int64
	AltDownloadLimit int64
	AltEnabled       bool
	AltSchedule      Schedule
	// RatioTarget stops seeding a download once uploaded ÷ downloaded
	// reaches it (0 = seed forever).
	RatioTarget float64
	// SeedTimeLimit stops seeding after this long complete (0 = no limit).
	SeedTimeLimit time.Duration
	// OnTarget is what happens at a target: TargetPause (the default) or
	// TargetStop.
	OnTarget TargetAction
	// KeepSeedingIfOnlySeed overrides the targets while no other connected
	// peer has the whole content.
	KeepSeedingIfOnlySeed bool
	// UploadSlots is the choker's regular slot count per transfer.
	UploadSlots int
	// Encryption is the MSE/PE policy for peer connections:
	// EncryptionPrefer (the default), EncryptionRequire or EncryptionOff.
	Encryption Encryption
	// DownloadDir is where new downloads go (an absolute path); empty
	// means Config.DefaultDownloadDir. Config.DownloadDir beats it.
	DownloadDir string
	// MoveCompletedTo, when set (an absolute path), is where a download's
	// files move once it has finished, as by Move; it keeps seeding from
	// there. Empty leaves finished downloads where they are.
	MoveCompletedTo string
	// IndexDHT makes the node, while it is a supernode, index the torrents
	// announced on the BitTorrent DHT for search (BEP 51 crawl, metadata
	// over BEP 9). A leaf never crawls. On by default.
	IndexDHT bool
	// CrawlRate caps the BEP 51 crawl (sample_infohashes queries per
	// second; 0 means 50).
	CrawlRate int
	// DHTIndexCap is the most DHT torrents kept in the index (0 means
	// 100,000); the least recently seen, smallest swarms go first.
	DHTIndexCap int
	// UTP lets peer connections use uTP (BEP 29) beside TCP (default on).
	UTP bool
	// ListenPort is the TCP and UDP port for peers, the DHT and search:
	// chosen at random at the first start, then kept so that a port
	// forwarded on the router stays right. A change applies at the next
	// start; Config.Listen (--listen) overrides it for one run.
	ListenPort int
	// PortMapping opens ListenPort on the router with UPnP, NAT-PMP or
	// PCP (on by default; applied at once). Config.PortMapping overrides
	// it.
	PortMapping bool
	// MaxActiveDownloads and MaxActiveSeeds cap the downloads and the
	// seeds (finished downloads) running at once; the others wait in the
	// queue (0 = no cap). Library items are never queued.
	MaxActiveDownloads int
	MaxActiveSeeds     int
	// ShareFormat is what Share (drop-to-share) makes of a file or
	// folder: a hybrid (v1 and v2 in one, BEP 52; the zero value and the
	// default, as qBittorrent makes them), a v1 torrent (for Transmission
	// 3.00 and aria2 1.36, which cannot read any BEP 52 torrent: see
	// TestShareFormatReason) or a v2-only one. It applies to what is shared
	// from then on; Config.ShareFormat overrides it for one run. (Settings
	// saved before it existed had ShareHybrid, on or off; both now read as
	// the hybrid default.)
	ShareFormat TorrentFormat
}

// Schedule turns the alternative speed limits on for part of each chosen day.
type Schedule struct {
	Enabled bool
	Days    [7]bool // indexed by time.Weekday
	From    int     // minutes after midnight, local time
	To      int     // may be less than From: the window crosses midnight
}

// Active reports whether the schedule covers t.
func (s Schedule) Active(t time.Time) bool {
	if !s.Enabled {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	if s.From <= s.To {
		return s.Days[t.Weekday()] && m >= s.From && m < s.To
	}
	if m >= s.From {
		return s.Days[t.Weekday()]
	}
	return m < s.To && s.Days[(t.Weekday()+6)%7] // after midnight: the window began yesterday
}

// TransferOptions are per-transfer choices.
type TransferOptions struct {
	UploadLimit   int64    // bytes/s, 0 = none
	DownloadLimit int64    // bytes/s, 0 = none
	RatioTarget   *float64 // overrides Settings.RatioTarget when set (0 = seed forever)
	Sequential    bool     // download in order, for media
	SkipFiles     []int    // indices (as in Engine.Files) of files not to download
}

// defaultSettings are what a new data folder starts with.
func defaultSettings() Settings {
	return Settings{OnTarget: TargetPause, UploadSlots: 4, Encryption: EncryptionPrefer, UTP: true, IndexDHT: true, PortMapping: true,
		CrawlRate: dhtindex.DefaultCrawlRate, DHTIndexCap: dhtindex.DefaultMaxEntries}
}

// loadSettings reads saved settings; Config limits, when set, win.
func (e *Engine) loadSettings(ctx context.Context) error {
	e.settings = defaultSettings()
	raw, ok, err := e.db.Setting(ctx, keySettings)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if ok {
		if err := json.Unmarshal([]byte(raw), &e.settings); err != nil {
			e.log.Warn("saved settings unreadable; using defaults", "err", err)
			e.settings = defaultSettings()
		}
	}
	if e.cfg.UploadLimit > 0 {
		e.settings.UploadLimit = e.cfg.UploadLimit
	}
	if e.cfg.DownloadLimit > 0 {
		e.settings.DownloadLimit = e.cfg.DownloadLimit
	}
	if e.cfg.Encryption != "" {
		e.settings.Encryption = e.cfg.Encryption
	}
	mode, err := ParseEncryption(string(e.settings.Encryption))
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	e.settings.Encryption = mode
	e.encryption.Store(uint32(mode.transport()))
	if err := e.loadUTPMode(); err != nil {
		return err
	}
	e.upLimit = swarm.NewLimiter(0)
	e.downLimit = swarm.NewLimiter(0)
	e.applyLimits(time.Now())
	return nil
}

// loadUTPMode sets the uTP mode from the settings, or Config.UTP.
func (e *Engine) loadUTPMode() error {
	um := transport.UTPOff
	if e.settings.UTP {
		um = transport.UTPOn
	}
	if e.cfg.UTP != "" {
		m, err := ParseUTPMode(string(e.cfg.UTP))
		if err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		um = m.transport()
		e.settings.UTP = um != transport.UTPOff
	}
	e.utpMode.Store(uint32(um))
	return nil
}

// Settings returns the current settings.
func (e *Engine) Settings() Settings {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.settings
}

// TargetAction is what happens to a transfer that reaches its ratio or
// seeding-time target. Its text is what settings store.
type TargetAction string

const (
	// TargetPause leaves the transfer listed, paused.
	TargetPause TargetAction = "pause"
	// TargetStop marks it complete, no longer seeding.
	TargetStop TargetAction = "stop"
)

// ParseTargetAction reads "pause" or "stop" ("" is TargetPause, the
// default); any other word is refused with the choices.
func ParseTargetAction(s string) (TargetAction, error) {
	return parseWord(s, "at a target", "pause (keep it listed, paused) or stop (mark it complete)",
		TargetPause, TargetStop)
}

// String is the action's word, as ParseTargetAction reads it and settings
// store it.
func (a TargetAction) String() string { return string(a) }

// Encryption is the MSE/PE policy for peer connections. Its text is what
// settings store and --encryption takes.
type Encryption string

const (
	// EncryptionPrefer offers encryption and accepts plain peers (the default).
	EncryptionPrefer Encryption = "prefer"
	// EncryptionRequire talks to encrypting (RC4) peers only.
	EncryptionRequire Encryption = "require"
	// EncryptionOff talks plain BEP 3 only.
	EncryptionOff Encryption = "off"
)

// ParseEncryption reads "prefer", "require" or "off" ("" is
// EncryptionPrefer, the default); any other word is refused with the choices.
func ParseEncryption(s string) (Encryption, error) {
	return parseWord(s, "encryption", "prefer, require or off", EncryptionPrefer, EncryptionRequire, EncryptionOff)
}

// String is the policy's word, as ParseEncryption reads it and settings
// store it.
func (m Encryption) String() string { return string(m) }

// transport is m as the transport layer takes it.
func (m Encryption) transport() transport.Encryption {
	switch m {
	case EncryptionRequire:
		return transport.Require
	case EncryptionOff:
		return transport.Off
	}
	return transport.Prefer
}

// UTPMode says which transports peer connections use for one run
// (Config.UTP; Settings.UTP keeps the on/off choice). Its text is what
// --utp takes.
type UTPMode string

const (
	// UTPOn races uTP and TCP and keeps whichever handshakes first.
	UTPOn UTPMode = "on"
	// UTPOff is TCP only; incoming uTP is refused.
	UTPOff UTPMode = "off"
	// UTPOnly dials over uTP alone (for tests and measurements); TCP is
	// still accepted.
	UTPOnly UTPMode = "only"
)

// ParseUTPMode reads "on", "off" or "only" ("" is UTPOn, the default); any
// other word is refused with the choices a user has.
func ParseUTPMode(s string) (UTPMode, error) {
	// "only" is for tests and measurements, not offered to users.
	return parseWord(s, "utp", "on or off", UTPOn, UTPOff, UTPOnly)
}

// String is the mode's word, as ParseUTPMode reads it.
func (m UTPMode) String() string { return string(m) }

// transport is m as the transport layer takes it.
func (m UTPMode) transport() transport.UTPMode {
	switch m {
	case UTPOff:
		return transport.UTPOff
	case UTPOnly:
		return transport.UTPOnly
	}
	return transport.UTPOn
}

// parseWord returns the choice whose text is s, the first choice (the
// default) for "". A word that is none of them returns the default with an
// error naming the setting (what) and the choices a user has (choose),
// which the Parse functions share so that every refusal reads alike.
func parseWord[T ~string](s, what, choose string, choices ...T) (T, error) {
	if s == "" {
		return choices[0], nil
	}
	for _, c := range choices {
		if string(c) == s {
			return c, nil
		}
	}
	return choices[0], fmt.Errorf("%s %q: choose %s", what, s, choose)
}

// SetSettings applies and saves new settings.
func (e *Engine) SetSettings(s Settings) error {
	if err := e.closedErr(); err != nil {
		return err
	}
	if s.RatioTarget < 0 || s.UploadLimit < 0 || s.DownloadLimit < 0 || s.AltUploadLimit < 0 || s.AltDownloadLimit < 0 ||
		s.CrawlRate < 0 || s.DHTIndexCap < 0 || s.MaxActiveDownloads < 0 || s.MaxActiveSeeds < 0 {
		return fmt.Errorf("engine: settings: negative value")
	}
	action, err := ParseTargetAction(string(s.OnTarget))
	if err != nil {
		return fmt.Errorf("engine: settings: %w", err)
	}
	s.OnTarget = action
	if s.Encryption, err = ParseEncryption(string(s.Encryption)); err != nil {
		return fmt.Errorf("engine: settings: %w", err)
	}
	if err := usableDir(s.DownloadDir); err != nil {
		return fmt.Errorf("engine: settings: %w", err)
	}
	if err := usableDir(s.MoveCompletedTo); err != nil {
		return fmt.Errorf("engine: settings: move finished downloads: %w", err)
	}
	if s.ListenPort, err = e.setListenPort(s.ListenPort); err != nil {
		return err
	}
	b, _ := json.Marshal(s)
	if err := e.db.SetSetting(context.Background(), keySettings, string(b)); err != nil {
		return fmt.Errorf("engine: save settings: %w", err)
	}
	e.mu.Lock()
	e.settings = s
	e.mu.Unlock()
	e.encryption.Store(uint32(s.Encryption.transport()))
	if s.UTP != (e.currentUTPMode() != transport.UTPOff) {
		um := transport.UTPOff
		if s.UTP {
			um = transport.UTPOn
		}
		e.utpMode.Store(uint32(um))
	}
	e.applyLimits(time.Now())
	e.applyTargets()
	e.kickQueue()
	select { // the DHT indexer follows the settings
	case e.settingsKick <- struct{}{}:
	default:
	}
	e.setPortMapping(s)
	return nil
}

// applyLimits sets the global limiters from the settings and the schedule.
func (e *Engine) applyLimits(now time.Time) {
	e.mu.Lock()
	s := e.settings
	e.mu.Unlock()
	up, down := s.UploadLimit, s.DownloadLimit
	if s.AltEnabled || s.AltSchedule.Active(now) {
		up, down = s.AltUploadLimit, s.AltDownloadLimit
	}
	swarm.SetLimit(e.upLimit, up)
	swarm.SetLimit(e.downLimit, down)
}

// SetTransferOptions changes one transfer's limits, ratio target and order.
func (e *Engine) SetTransferOptions(ih InfoHash, o TransferOptions) error {
	t, err := e.liveTransfer(ih)
	if err != nil {
		return err
	}
	if o.UploadLimit < 0 || o.DownloadLimit < 0 || (o.RatioTarget != nil && *o.RatioTarget < 0) {
		return fmt.Errorf("engine: transfer options: negative value")
	}
	o.SkipFiles = append([]int(nil), o.SkipFiles...)
	if o.RatioTarget != nil {
		target := *o.RatioTarget
		o.RatioTarget = &target
	}
	t.mu.Lock()
	t.opts = o
	t.view = nil // wanted bytes and order change
	t.mu.Unlock()
	sw := e.swarmOf(t)
	swarm.SetLimit(t.upLimit, o.UploadLimit)
	swarm.SetLimit(t.downLimit, o.DownloadLimit)
	sw.SetSequential(o.Sequential)
	skip := map[int]bool{}
	for _, i := range o.SkipFiles {
		skip[i] = true
	}
	sw.SetSkipped(skip)
	if b, err := json.Marshal(o); err == nil {
		if err := e.db.SetSetting(context.Background(), transferOptionsKey(ih), string(b)); err != nil {
			return fmt.Errorf("engine: save transfer options: %w", err)
		}
	}
	e.applyTargets()
	return nil
}

// TransferOptions returns a transfer's current options.
func (e *Engine) TransferOptions(ih InfoHash) (TransferOptions, error) {
	t, err := e.lookup(ih)
	if err != nil {
		return TransferOptions{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.opts
	o.SkipFiles = append([]int(nil), o.SkipFiles...) // copies: callers may not change ours
	if o.RatioTarget != nil {
		target := *o.RatioTarget
		o.RatioTarget = &target
	}
	return o, nil
}

// loadTransferOptions re-applies the options saved for transfers at a
// start. settings is every saved setting, read at once: one pass over it
// finds the saved options, so an item without any costs nothing. If that
// read failed (nil), each transfer's are read on their own.
func (e *Engine) loadTransferOptions(settings map[string]string) {
	if settings == nil {
		for _, t := range e.transferList() {
			raw, ok, err := e.db.Setting(context.Background(), transferOptionsKey(t.ih))
			if err == nil && ok {
				e.applySavedOptions(t.ih, raw)
			}
		}
		return
	}
	for key, raw := range settings {
		hexIH, ok := strings.CutPrefix(key, keyTransferOptionsPrefix)
		if !ok {
			continue
		}
		ih, err := ParseInfoHash(hexIH)
		if err == nil {
			_, err = e.lookup(ih) // not an item removed since
		}
		if err != nil {
			continue
		}
		e.applySavedOptions(ih, raw)
	}
}

// applySavedOptions applies options saved (as JSON) for the transfer ih.
func (e *Engine) applySavedOptions(ih InfoHash, raw string) {
	var o TransferOptions
	if json.Unmarshal([]byte(raw), &o) == nil {
		if err := e.SetTransferOptions(ih, o); err != nil {
			e.log.Warn("saved transfer options not applied", "infohash", ih.String(), "err", err)
		}
	}
}

// Files lists a transfer's files with their progress and selection.
func (e *Engine) Files(ih InfoHash) ([]FileSnapshot, error) {
	t, err := e.lookup(ih)
	if err != nil {
		return nil, err
	}
	sw := e.swarmOf(t)
	var out []FileSnapshot
	for _, f := range sw.Files() {
		out = append(out, FileSnapshot{Index: f.Index, Path: f.Path, Size: f.Size, Have: f.Have, Wanted: f.Wanted})
	}
	return out, nil
}

// transferLimiters makes a transfer's own limiters and its chains.
func (e *Engine) transferLimiters(t *transfer) (up, down []*rate.Limiter) {
	t.upLimit, t.downLimit = swarm.NewLimiter(0), swarm.NewLimiter(0)
	return []*rate.Limiter{t.upLimit, e.upLimit}, []*rate.Limiter{t.downLimit, e.downLimit}
}

// applyTargets gives every complete download its upload budget and stops
// those that reached a ratio or seed-time target.
func (e *Engine) applyTargets() {
	e.applyTargetsOf(e.transferList())
}

// applyTargetsOf is applyTargets for the transfers of list only (the
// periodic flush gives the active ones: an idle seed uploads nothing).
func (e *Engine) applyTargetsOf(list []*transfer) {
	e.mu.Lock()
	s := e.settings
	e.mu.Unlock()
	for _, t := range list {
		e.applyTarget(t, s)
	}
}

func (e *Engine) applyTarget(t *transfer, s Settings) {
	if t.library {
		return // what the user shares on purpose is seeded without a target
	}
	t.mu.Lock()
	target := s.RatioTarget
	if t.opts.RatioTarget != nil {
		target = *t.opts.RatioTarget
	}
	sw, uploaded, downloaded, completed, stopped := t.sw, t.uploaded, t.downloaded, t.completed, t.targetReached
	t.mu.Unlock()
	if stopped || !sw.Complete() {
		return
	}
	if s.KeepSeedingIfOnlySeed && sw.OnlySeed() {
		sw.SetUploadBudget(-1)
		return
	}
	timeUp := s.SeedTimeLimit > 0 && !completed.IsZero() && time.Since(completed) >= s.SeedTimeLimit
	if target <= 0 && !timeUp {
		sw.SetUploadBudget(-1)
		return
	}
	undrainedUp, undrainedDown := sw.Undrained()
	budget := int64(target*float64(ratioBase(downloaded+undrainedDown, sw.Stats().Size))) - uploaded - undrainedUp
	if target <= 0 {
		budget = -1
	}
	if timeUp || (target > 0 && budget <= 0) || sw.BudgetSpent() {
		e.stopSeeding(t, s.OnTarget)
		return
	}
	sw.SetUploadBudget(budget)
}

// stopSeeding ends seeding of a transfer that reached its target.
func (e *Engine) stopSeeding(t *transfer, action TargetAction) {
	t.mu.Lock()
	t.targetReached = true
	t.finishedAction = action
	sw := t.sw
	t.mu.Unlock()
	sw.SetUploadBudget(0)
	sw.Pause()
	t.poke()
	e.kickQueue() // its seeding place goes to the next queued one
	e.log.Info("seeding stopped at target", "infohash", t.ih.String(), "action", string(action))
}

// ratioBase is the denominator of a transfer's share ratio: what was
// downloaded, or the content size when we had (almost) all of it already,
// as qBittorrent and libtorrent count it.
func ratioBase(downloaded, size int64) int64 {
	if downloaded < size/100 {
		return max(size, 1)
	}
	return downloaded
}

// usableDir checks a chosen download folder: absolute, and a folder that
// exists or can be made. Empty is the default, always usable.
func usableDir(dir string) error {
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("download folder %q is not a full path", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot use %s as the download folder: %w", dir, err)
	}
	return nil
}

// DownloadDir is where new downloads go now: Config.DownloadDir when set
// (--download-dir), else the folder chosen in Settings, else
// Config.DefaultDownloadDir.
func (e *Engine) DownloadDir() string {
	if e.cfg.DownloadDir != "" {
		return e.cfg.DownloadDir
	}
	e.mu.Lock()
	chosen := e.settings.DownloadDir
	e.mu.Unlock()
	if chosen != "" {
		return chosen
	}
	return e.cfg.DefaultDownloadDir
}

// Random first-start listen ports come from this range: above the
// well-known and most registered services, below the usual ephemeral range.
const (
	randomPortMin = 20000
	randomPortMax = 32000
)

func randomListenPort() int { return randomPortMin + rand.IntN(randomPortMax-randomPortMin) }

// ErrBadListenPort means a listen port outside 1024..65535.
var ErrBadListenPort = errors.New("the listen port must be a number from 1024 to 65535")

// setListenPort keeps port for the next start when it changed, and
// returns the port to show (0 keeps the current one).
func (e *Engine) setListenPort(port int) (int, error) {
	e.mu.Lock()
	cur := e.settings.ListenPort
	e.mu.Unlock()
	if port == cur || port == 0 {
		return cur, nil
	}
	if port < 1024 || port > 65535 {
		return cur, fmt.Errorf("engine: settings: %w (got %d)", ErrBadListenPort, port)
	}
	if err := e.db.SetSetting(context.Background(), keyListenPort, strconv.Itoa(port)); err != nil {
		return cur, fmt.Errorf("engine: save listen port: %w", err)
	}
	return port, nil
}
