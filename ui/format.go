package ui

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/units"
)

// humanBytes formats n as units.Bytes does: "0 B", "1.50 KiB", "15.3 MiB".
func humanBytes(n int64) string { return units.Bytes(n) }

// humanRate formats a rate in bytes per second; rates under 1 B/s show as
// empty so idle rows stay quiet.
func humanRate(bps float64) string {
	if !(bps >= 1) || math.IsInf(bps, 0) {
		return ""
	}
	return units.Rate(bps)
}

// statusRate is the status bar's rate, which always shows a number.
func statusRate(bps float64) string { return units.Rate(bps) }

// maxETA is where an estimate stops meaning anything.
const maxETA = 100 * 24 * time.Hour

// formatETA shows a remaining time as "45s", "3m 12s", "2h 05m" or
// "3d 04h"; unknown or absurd estimates show as "∞".
func formatETA(d time.Duration) string {
	if d <= 0 || d >= maxETA {
		return "∞"
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm %02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh %02dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd %02dh", s/86400, s%86400/3600)
	}
}

// transferETA is the ETA cell: empty unless the transfer is downloading.
func transferETA(t engine.TransferSnapshot) string {
	if t.State != engine.StateDownloading {
		return ""
	}
	if t.ETA <= 0 && t.DownRate < 1 {
		return "∞"
	}
	return formatETA(t.ETA)
}

// formatRatio shows a share ratio with two decimals, "∞" when only
// uploaded.
func formatRatio(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "∞"
	case math.IsNaN(v) || v < 0:
		return "0.00"
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// stateText names a transfer state for people; a finished download that
// could not move to the folder chosen in Settings says so (the line above
// its peers says why: moveTrouble).
func stateText(t engine.TransferSnapshot) string {
	if t.MoveErr != "" {
		return baseStateText(t) + ", not moved"
	}
	return baseStateText(t)
}

func baseStateText(t engine.TransferSnapshot) string {
	switch t.State {
	case engine.StateFetchingMetadata:
		return "Getting metadata"
	case engine.StateChecking:
		return "Checking"
	case engine.StateDownloading:
		if t.Peers == 0 {
			return "Stalled"
		}
		return "Downloading"
	case engine.StateSeeding:
		return "Seeding"
	case engine.StatePaused:
		return "Paused"
	case engine.StateQueued:
		return queuedText(t)
	case engine.StateComplete:
		return "Complete"
	case engine.StateError:
		if t.Err != "" {
			return "Error: " + troubleText(t.Err)
		}
		return "Error"
	default:
		return string(t.State)
	}
}

// swarmText shows a connected count and, when known (swarm >= 0), the
// swarm's in brackets: "3 (120)", as qBittorrent does.
func swarmText(connected, swarm int) string {
	if swarm < 0 {
		return strconv.Itoa(connected)
	}
	return fmt.Sprintf("%d (%d)", connected, swarm)
}

// plural is "1 file", "2 files".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
