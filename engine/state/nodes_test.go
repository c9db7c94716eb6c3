package state

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDHTNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	if got, err := db.DHTNodes(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty DHTNodes = %v, %v", got, err)
	}
	first := []DHTNode{{hash(3), "127.0.0.3:6881"}, {hash(1), "127.0.0.1:6881"}, {hash(2), "127.0.0.2:6881"}}
	if err := db.SaveDHTNodes(ctx, first); err != nil {
		t.Fatal(err)
	}
	if got, err := db.DHTNodes(ctx); err != nil || !reflect.DeepEqual(got, first) {
		t.Fatalf("DHTNodes = %v, %v", got, err)
	}
	second := []DHTNode{{hash(9), "127.0.0.9:1"}, {hash(8), "127.0.0.9:1"}, {hash(1), "127.0.0.1:6881"}}
	if err := db.SaveDHTNodes(ctx, second); err != nil {
		t.Fatal(err)
	}
	want := []DHTNode{second[0], second[2]} // set replaced; duplicate address keeps the first
	if got, err := db.DHTNodes(ctx); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("DHTNodes after replace = %v, %v", got, err)
	}
	if err := db.SaveDHTNodes(ctx, []DHTNode{{hash(1), ""}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty address: %v", err)
	}
	if got, _ := db.DHTNodes(ctx); len(got) != 2 {
		t.Fatalf("rejected save changed the set: %v", got)
	}
}

func TestSupernodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	start := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	advance := fakeClock(db, start)
	saves := [][]string{
		{"127.0.0.1:1", "127.0.0.2:1"},
		{"127.0.0.3:1"},
		{"127.0.0.1:1"}, // seen again: most recent now
	}
	for _, s := range saves {
		advance(time.Minute)
		if err := db.SaveSupernodes(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		limit int
		want  []string
	}{
		{0, []string{"127.0.0.1:1", "127.0.0.3:1", "127.0.0.2:1"}},
		{-1, []string{"127.0.0.1:1", "127.0.0.3:1", "127.0.0.2:1"}},
		{2, []string{"127.0.0.1:1", "127.0.0.3:1"}},
		{10, []string{"127.0.0.1:1", "127.0.0.3:1", "127.0.0.2:1"}},
	}
	for _, tc := range tests {
		got, err := db.Supernodes(ctx, tc.limit)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Supernodes(%d) = %v, %v; want %v", tc.limit, got, err, tc.want)
		}
	}
	n, err := db.PruneSupernodes(ctx, start.Add(2*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("PruneSupernodes = %d, %v; want 1", n, err)
	}
	if got, _ := db.Supernodes(ctx, 0); !reflect.DeepEqual(got, []string{"127.0.0.1:1", "127.0.0.3:1"}) {
		t.Fatalf("after prune: %v", got)
	}
	if err := db.SaveSupernodes(ctx, []string{""}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty address: %v", err)
	}
}
