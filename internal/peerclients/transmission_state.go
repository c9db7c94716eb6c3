package peerclients

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// TransmissionItem is one torrent for WriteTransmissionState: its .torrent
// bytes and infohash, its name, how many files it has and the folder
// that holds its complete content.
type TransmissionItem struct {
	Metainfo []byte
	InfoHash [20]byte
	Name     string
	Files    int
	Dir      string
}

// WriteTransmissionState writes into cfgDir what transmission-daemon 3.00
// keeps for torrents it has verified complete and seeds: each .torrent
// under torrents/ and a resume file under resume/ (the fields it writes
// itself for a seeding torrent, all pieces had and checked now). A daemon
// started on cfgDir (StartTransmissionWith's CfgDir) seeds them at once,
// as after a restart. Adding 10,000 torrents through the RPC instead
// takes it many minutes of checking, each torrent-get answer then taking
// seconds. The content must be in place and unchanged since: Transmission
// rechecks a file modified after its check time.
func WriteTransmissionState(cfgDir string, items []TransmissionItem) error {
	for _, sub := range []string{"torrents", "resume"} {
		if err := os.MkdirAll(filepath.Join(cfgDir, sub), 0o755); err != nil {
			return fmt.Errorf("peerclients: transmission state: %w", err)
		}
	}
	now := time.Now().Unix()
	for _, it := range items {
		base := hex.EncodeToString(it.InfoHash[:])
		resume, err := bencode.Marshal(transmissionResume(it, now))
		if err != nil {
			return fmt.Errorf("peerclients: transmission resume of %s: %w", it.Name, err)
		}
		if err := os.WriteFile(filepath.Join(cfgDir, "torrents", base+".torrent"), it.Metainfo, 0o644); err != nil {
			return fmt.Errorf("peerclients: transmission state: %w", err)
		}
		if err := os.WriteFile(filepath.Join(cfgDir, "resume", base+".resume"), resume, 0o644); err != nil {
			return fmt.Errorf("peerclients: transmission state: %w", err)
		}
	}
	return nil
}

// transmissionResume is the resume dictionary of a complete, checked,
// seeding torrent, as Transmission 3.00 saves one.
func transmissionResume(it TransmissionItem, now int64) map[string]any {
	perFile := func(v int64) []int64 {
		l := make([]int64, max(it.Files, 1))
		for i := range l {
			l[i] = v
		}
		return l
	}
	limit := map[string]any{"speed-Bps": 100000, "use-global-speed-limit": 1, "use-speed-limit": 0}
	return map[string]any{
		"activity-date": 0, "added-date": now, "bandwidth-priority": 0, "corrupt": 0,
		"destination": it.Dir, "dnd": perFile(0), "done-date": now, "downloaded": 0,
		"downloading-time-seconds": 0, "idle-limit": map[string]any{"idle-limit": 30, "idle-mode": 0},
		"labels": []string{}, "max-peers": 50, "name": it.Name, "paused": 0, "priority": perFile(0),
		"progress":             map[string]any{"blocks": "all", "have": "all", "time-checked": perFile(now)},
		"ratio-limit":          map[string]any{"ratio-limit": "2.000000", "ratio-mode": 0},
		"seeding-time-seconds": 0, "speed-limit-down": limit, "speed-limit-up": limit, "uploaded": 0,
	}
}
