package overlay

import (
	"context"
	"slices"
	"testing"

	"github.com/shoalp2p/shoal/internal/locks"
)

// cacheRecorder is a Finder with a SupernodeCache that records each call.
type cacheRecorder struct {
	StaticFinder
	told [][]string
}

func (c *cacheRecorder) RememberSupernodes(_ context.Context, addrs []string) {
	c.told = append(c.told, addrs)
}

// TestRememberChanged: the cache hears a list once, again only when it
// changes, never an empty one; a Finder without a cache is left alone.
func TestRememberChanged(t *testing.T) {
	var mu locks.Mutex
	var last []string
	c := &cacheRecorder{}
	for _, addrs := range [][]string{
		{"127.0.0.1:1", "127.0.0.1:2"},
		{"127.0.0.1:1", "127.0.0.1:2"},
		nil,
		{"127.0.0.1:3"},
	} {
		rememberChanged(context.Background(), c, &mu, &last, addrs)
	}
	want := [][]string{{"127.0.0.1:1", "127.0.0.1:2"}, {"127.0.0.1:3"}}
	if !slices.EqualFunc(c.told, want, slices.Equal) {
		t.Errorf("the cache was told %v, want %v", c.told, want)
	}
	rememberChanged(context.Background(), StaticFinder{"127.0.0.1:4"}, &mu, &last, []string{"127.0.0.1:4"})
	if !slices.Equal(last, []string{"127.0.0.1:3"}) {
		t.Errorf("a Finder without a cache changed what was last told to %v", last)
	}
}
