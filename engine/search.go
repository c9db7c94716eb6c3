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
	out := make(chan Hit)
	go func() {
		defer close(out)
		for h := range in {
			select {
			case out <- hitOf(h):
			case <-ctx.Done():
				for range in { // let the sender finish and close
				}
				return
			}
		}
	}()
	return out, nil
}

func hitOf(h overlay.Hit) Hit {
	return Hit{InfoHash: h.InfoHash, Name: h.Name, Size: h.Size, Files: h.Files,
		Sources: h.Sources, Magnet: Magnet(h.InfoHash, h.Name)}
}
