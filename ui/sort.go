package ui

import (
	"cmp"
	"math"
	"strings"
	"time"

	"github.com/shoalp2p/shoal/engine"
)

// Sorting: a click on a column header sorts the rows by that column (see
// gridTable.sortBy). The tabs order their own lists with these compares,
// so row numbers keep pointing into the list the tab acts on, and the
// selection, kept by key, follows its row.

// compareTransfers compares a and b by the Transfers column col.
func compareTransfers(col int, a, b engine.TransferSnapshot) int {
	switch col {
	case trColName:
		return compareNames(displayName(a), displayName(b))
	case trColProgress:
		return cmp.Compare(a.Progress(), b.Progress())
	case trColSize:
		return cmp.Compare(a.Size, b.Size)
	case trColState:
		return strings.Compare(stateText(a), stateText(b))
	case trColDown:
		return cmp.Compare(a.DownRate, b.DownRate)
	case trColUp:
		return cmp.Compare(a.UpRate, b.UpRate)
	case trColETA:
		return cmp.Compare(etaKey(a), etaKey(b))
	case trColSeeds:
		return cmp.Or(cmp.Compare(a.Seeds, b.Seeds), cmp.Compare(a.SwarmSeeds, b.SwarmSeeds))
	case trColPeers:
		return cmp.Or(cmp.Compare(a.Peers, b.Peers), cmp.Compare(a.SwarmPeers, b.SwarmPeers))
	case trColRatio:
		return cmp.Compare(ratioKey(a), ratioKey(b))
	}
	return 0
}

// etaKey is the time left, with "no estimate" (not downloading, or no
// rate) after every estimate.
func etaKey(t engine.TransferSnapshot) time.Duration {
	if t.State != engine.StateDownloading || t.ETA <= 0 {
		return math.MaxInt64
	}
	return t.ETA
}

// ratioKey is the share ratio as a number that sorts (∞ above all).
func ratioKey(t engine.TransferSnapshot) float64 {
	v := engine.Ratio{Uploaded: t.Uploaded, Downloaded: t.Downloaded}.Value()
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// compareHits compares a and b by the Search column col.
func compareHits(col int, a, b engine.Hit) int {
	switch col {
	case searchColSources:
		return cmp.Compare(len(a.Sources), len(b.Sources))
	case searchColSwarm:
		return compareSwarms(a, b)
	case searchColOrigin:
		return cmp.Or(cmp.Compare(a.Swarm, b.Swarm), strings.Compare(a.Origin(), b.Origin()))
	}
	return hitFacts(a).compare(col, hitFacts(b))
}

// compareSwarms orders hits by their BitTorrent swarm: counted seeds
// first, then leechers, then the peers seen; a hit with counts above one
// without.
func compareSwarms(a, b engine.Hit) int {
	return cmp.Or(cmp.Compare(a.Seeds, b.Seeds), cmp.Compare(a.Leechers, b.Leechers),
		compareBool(a.Scraped, b.Scraped), cmp.Compare(a.Swarm, b.Swarm))
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// compareLibrary compares a and b by the Library column col.
func compareLibrary(col int, a, b engine.LibraryItem) int {
	if col == libColPath {
		return compareNames(a.Path, b.Path)
	}
	return itemFacts(a).compare(col, itemFacts(b))
}

// compareNames orders names as people read them: case does not count.
func compareNames(a, b string) int {
	return cmp.Or(strings.Compare(strings.ToLower(a), strings.ToLower(b)), strings.Compare(a, b))
}
