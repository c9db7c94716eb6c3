package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/words"
)

// jsonHit is the --json form of a search hit, one per line.
type jsonHit struct {
	Name     string   `json:"name"`
	Size     int64    `json:"size"`
	InfoHash string   `json:"infohash"`
	V2       string   `json:"infohash_v2,omitempty"` // BEP 52 infohash, where known
	Magnet   string   `json:"magnet"`
	Sources  int      `json:"sources"`
	Peers    []string `json:"peers"`
	Source   string   `json:"source"` // "shoal", "dht", "shoal+dht" or "library"
	Local    bool     `json:"in_library,omitempty"`
	Swarm    int      `json:"swarm"` // peers seen in its BitTorrent swarm (DHT hits)
	// SwarmSeeds and SwarmLeechers are its BitTorrent swarm's seeds and
	// leechers as a BEP 33 DHT scrape counted them; absent when unknown.
	SwarmSeeds    *int `json:"swarm_seeds,omitempty"`
	SwarmLeechers *int `json:"swarm_leechers,omitempty"`
	// Roots are its files' BEP 52 pieces roots, where known; SameFiles of
	// them are in AlsoIn other hits of this search too (the same file).
	Roots     []string `json:"pieces_roots,omitempty"`
	SameFiles int      `json:"same_files,omitempty"`
	AlsoIn    int      `json:"also_in,omitempty"`
}

func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("search", stderr)
	var c common
	c.register(fs)
	asJSON := fs.Bool("json", false, "one JSON object per hit")
	timeout := fs.Duration("timeout", 10*time.Second, "the longest the search may take, including finding a supernode; it ends sooner once every supernode asked has answered")
	if err := fs.Parse(args); err != nil {
		return err
	}
	words := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(words) == "" {
		return fmt.Errorf("search: no words")
	}
	cfg, err := c.config(stderr)
	if err != nil {
		return err
	}
	// A search lives seconds: as a read-only DHT node it leaves no dead
	// entry in the routing tables of the nodes it asked.
	cfg.DHTReadOnly = true
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	e, stop, err := startEngine(ctx, cfg)
	if err != nil {
		return err
	}
	defer stop()
	hits, p := collectHits(ctx, e, words)
	e.RankHits(words, hits) // live first, best name match, healthiest; sources that sent bad data count for nothing
	for _, h := range hits {
		printHit(stdout, h, *asJSON)
	}
	if len(hits) == 0 {
		fmt.Fprintln(stderr, "no hits")
	}
	if p.TimedOut {
		fmt.Fprintf(stderr, "%d of %d supernodes did not answer in time\n", p.Asked-p.Answered, p.Asked)
	}
	return nil
}

// collectHits waits for a supernode link, then queries until every
// supernode asked has answered (or ctx ends), one hit per infohash.
func collectHits(ctx context.Context, e *engine.Engine, words string) ([]engine.Hit, engine.SearchProgress) {
	for len(e.Snapshot().Net.Supernodes) == 0 && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	run, err := e.StartSearch(ctx, words)
	if err != nil {
		return nil, engine.SearchProgress{}
	}
	results := e.NewSearchResults()
	for h := range run.Hits {
		results.Add(h)
	}
	return results.Hits(), run.Progress()
}

func printHit(w io.Writer, h engine.Hit, asJSON bool) {
	if asJSON {
		j := jsonHit{Name: h.Name, Size: h.Size, InfoHash: h.InfoHash.String(),
			Magnet: h.Magnet, Sources: len(h.Sources), Peers: h.Sources, Source: h.Origin(), Swarm: h.Swarm, Local: h.Local}
		if h.V2 != ([32]byte{}) {
			j.V2 = hex.EncodeToString(h.V2[:])
		}
		for _, r := range h.Roots {
			j.Roots = append(j.Roots, hex.EncodeToString(r[:]))
		}
		j.SameFiles, j.AlsoIn = h.SameFiles, h.AlsoIn
		if h.Scraped {
			j.SwarmSeeds, j.SwarmLeechers = &h.Seeds, &h.Leechers
		}
		b, _ := json.Marshal(j)
		fmt.Fprintln(w, string(b))
		return
	}
	fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", h.Name, h.Size, h.InfoHash, availability(h), h.Magnet)
}

// availability says where a hit is and how many hold it, and which of its
// files other hits hold too.
func availability(h engine.Hit) string {
	where := origin(h)
	if same := words.SameFiles(len(h.Files), h.SameFiles, h.AlsoIn); same != "" {
		where += ", " + same
	}
	return where
}

// origin says where a hit is and how many hold it.
func origin(h engine.Hit) string {
	switch h.Origin() {
	case "library":
		return "in your library"
	case "dht":
		return "BitTorrent DHT, " + swarmWords(h)
	case "shoal+dht":
		return fmt.Sprintf("%d sources + BitTorrent DHT, %s", len(h.Sources), swarmWords(h))
	}
	return fmt.Sprintf("%d sources", len(h.Sources))
}

// swarmWords is a DHT hit's swarm: its seeds and leechers where a scrape
// counted them, else the peers seen.
func swarmWords(h engine.Hit) string {
	if h.Scraped {
		return words.SeedsLeechers(h.Seeds, h.Leechers)
	}
	return fmt.Sprintf("%d peers", h.Swarm)
}
