package engine

import (
	"context"
	"strings"

	"github.com/shoalp2p/shoal/engine/overlay"
)

// Search sends a keyword query into the supernode overlay. Hits stream on
// the channel as they arrive, grouped by infohash with their sources merged;
// the channel is closed when ctx ends.
func (e *Engine) Search(ctx context.Context, words string) (<-chan Hit, error) {
	words = strings.TrimSpace(words)
	if words == "" {
		return nil, errEmptyQuery
	}
	in, err := e.leaf.Search(ctx, words)
	if err != nil {
		return nil, err
	}
	self := e.advertised()
	out := make(chan Hit)
	go func() {
		defer close(out)
		for h := range in {
			hit := hitOf(h, self)
			if len(hit.Sources) == 0 {
				continue // only we have it
			}
			select {
			case out <- hit:
			case <-ctx.Done():
				for range in { // let the sender finish and close
				}
				return
			}
		}
	}()
	return out, nil
}

// hitOf converts an overlay hit, leaving out our own address as a source.
func hitOf(h overlay.Hit, self string) Hit {
	var sources []string
	for _, s := range h.Sources {
		if s != self {
			sources = append(sources, s)
		}
	}
	return Hit{InfoHash: h.InfoHash, Name: h.Name, Size: h.Size, Files: h.Files,
		Sources: sources, Magnet: Magnet(h.InfoHash, h.Name)}
}
