package state

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestHashFailsAndBans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	start := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	advance := fakeClock(db, start)
	ih1, ih2 := hash(1), hash(2)
	steps := []struct {
		ip     string
		ih     [20]byte
		ban    bool
		reason string
		want   PeerRecord
	}{
		{"127.0.0.5", ih1, false, "piece 3", PeerRecord{Key: PeerKeyFromIP("127.0.0.5"), HashFails: 1, Reason: "piece 3"}},
		{"::ffff:127.0.0.5", ih1, false, "piece 4", PeerRecord{Key: PeerKeyFromIP("127.0.0.5"), HashFails: 2, Reason: "piece 4"}},
		{"127.0.0.5", ih2, true, "3 bad pieces", PeerRecord{Key: PeerKeyFromIP("127.0.0.5"), HashFails: 3, Banned: true, Reason: "3 bad pieces"}},
		{"127.0.0.5", ih2, false, "piece 9", PeerRecord{Key: PeerKeyFromIP("127.0.0.5"), HashFails: 4, Banned: true, Reason: "3 bad pieces"}},
		{"::1", ih1, true, "poison", PeerRecord{Key: PeerKeyFromIP("::1"), HashFails: 1, Banned: true, Reason: "poison"}},
	}
	for i, s := range steps {
		advance(time.Second)
		s.want.Updated = start.Add(time.Duration(i+1) * time.Second)
		got, err := db.RecordHashFail(ctx, PeerKeyFromIP(s.ip), s.ih, s.ban, s.reason)
		if err != nil || got != s.want {
			t.Fatalf("step %d: RecordHashFail = %+v, %v; want %+v", i, got, err, s.want)
		}
		if stored, err := db.Peer(ctx, PeerKeyFromIP(s.ip)); err != nil || stored != s.want {
			t.Fatalf("step %d: Peer = %+v, %v", i, stored, err)
		}
	}
	if n, _ := db.HashFailsFor(ctx, PeerKeyFromIP("127.0.0.5"), ih1); n != 2 {
		t.Errorf("HashFailsFor ih1 = %d, want 2", n)
	}
	if n, _ := db.HashFailsFor(ctx, PeerKeyFromIP("127.0.0.5"), ih2); n != 2 {
		t.Errorf("HashFailsFor ih2 = %d, want 2", n)
	}
	if err := db.Ban(ctx, PeerKeyFromIP("127.0.0.7"), "manual"); err != nil {
		t.Fatal(err)
	}
	banned, skipped, err := db.Bans(ctx)
	want := map[PeerKey]string{PeerKeyFromIP("127.0.0.5"): "3 bad pieces", PeerKeyFromIP("::1"): "poison", PeerKeyFromIP("127.0.0.7"): "manual"}
	if err != nil || skipped != 0 || !reflect.DeepEqual(banned, want) {
		t.Fatalf("Bans = %v, %d, %v; want %v", banned, skipped, err, want)
	}
	if err := db.Unban(ctx, PeerKeyFromIP("127.0.0.5")); err != nil {
		t.Fatal(err)
	}
	rec, err := db.Peer(ctx, PeerKeyFromIP("127.0.0.5"))
	if err != nil || rec.Banned || rec.HashFails != 0 || rec.Reason != "" {
		t.Fatalf("after Unban: %+v, %v", rec, err)
	}
	if n, _ := db.HashFailsFor(ctx, PeerKeyFromIP("127.0.0.5"), ih1); n != 0 {
		t.Errorf("HashFailsFor after Unban = %d", n)
	}
	if banned, _, _ := db.Bans(ctx); len(banned) != 2 {
		t.Fatalf("Bans after Unban = %v", banned)
	}
	if _, err := db.RecordHashFail(ctx, PeerKey{}, ih1, true, "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero key: %v", err)
	}
}
