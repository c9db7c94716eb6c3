package state

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSearchHistory: searches come back newest first, a repeated search
// (in any case) moves up instead of doubling, only the newest keep stay,
// and they survive a reopen.
func TestSearchHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openTest(t)
	tick := fakeClock(db, time.Unix(1_700_000_000, 0))
	for _, w := range []string{"alpha", "beta", "gamma", "ALPHA", "delta"} {
		if err := db.AddSearch(ctx, w, 3); err != nil {
			t.Fatal(err)
		}
		tick(time.Second)
	}
	want := []string{"delta", "ALPHA", "gamma"}
	if got, err := db.RecentSearches(ctx, 10); err != nil || !slices.Equal(got, want) {
		t.Fatalf("recent %q, %v; want %q", got, err, want)
	}
	if got, _ := db.RecentSearches(ctx, 1); !slices.Equal(got, want[:1]) {
		t.Fatalf("recent 1: %q", got)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", MaxSearchWords+1)} {
		if err := db.AddSearch(ctx, bad, 3); !errors.Is(err, ErrInvalid) {
			t.Errorf("add %d bytes: %v, want ErrInvalid", len(bad), err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got, _ := db2.RecentSearches(ctx, 10); !slices.Equal(got, want) {
		t.Fatalf("after reopen %q", got)
	}
	if err := db2.ClearSearches(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := db2.RecentSearches(ctx, 10); len(got) != 0 {
		t.Fatalf("after clear %q", got)
	}
}
