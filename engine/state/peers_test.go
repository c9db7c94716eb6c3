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
		{"127.0.0.5", ih1, false, "piece 3", PeerRecord{IP: "127.0.0.5", HashFails: 1, Reason: "piece 3"}},
		{"::ffff:127.0.0.5", ih1, false, "piece 4", PeerRecord{IP: "127.0.0.5", HashFails: 2, Reason: "piece 4"}},
		{"127.0.0.5", ih2, true, "3 bad pieces", PeerRecord{IP: "127.0.0.5", HashFails: 3, Banned: true, Reason: "3 bad pieces"}},
		{"127.0.0.5", ih2, false, "piece 9", PeerRecord{IP: "127.0.0.5", HashFails: 4, Banned: true, Reason: "3 bad pieces"}},
		{"::1", ih1, true, "poison", PeerRecord{IP: "::1", HashFails: 1, Banned: true, Reason: "poison"}},
	}
	for i, s := range steps {
		advance(time.Second)
		s.want.Updated = start.Add(time.Duration(i+1) * time.Second)
		got, err := db.RecordHashFail(ctx, s.ip, s.ih, s.ban, s.reason)
		if err != nil || got != s.want {
			t.Fatalf("step %d: RecordHashFail = %+v, %v; want %+v", i, got, err, s.want)
		}
		if stored, err := db.Peer(ctx, s.ip); err != nil || stored != s.want {
			t.Fatalf("step %d: Peer = %+v, %v", i, stored, err)
		}
	}
	if n, _ := db.HashFailsFor(ctx, "127.0.0.5", ih1); n != 2 {
		t.Errorf("HashFailsFor ih1 = %d, want 2", n)
	}
	if n, _ := db.HashFailsFor(ctx, "127.0.0.5", ih2); n != 2 {
		t.Errorf("HashFailsFor ih2 = %d, want 2", n)
	}
	if err := db.Ban(ctx, "127.0.0.7", "manual"); err != nil {
		t.Fatal(err)
	}
	banned, err := db.BannedIPs(ctx)
	want := map[string]string{"127.0.0.5": "3 bad pieces", "::1": "poison", "127.0.0.7": "manual"}
	if err != nil || !reflect.DeepEqual(banned, want) {
		t.Fatalf("BannedIPs = %v, %v; want %v", banned, err, want)
	}
	if err := db.Unban(ctx, "127.0.0.5"); err != nil {
		t.Fatal(err)
	}
	rec, err := db.Peer(ctx, "127.0.0.5")
	if err != nil || rec.Banned || rec.HashFails != 0 || rec.Reason != "" {
		t.Fatalf("after Unban: %+v, %v", rec, err)
	}
	if n, _ := db.HashFailsFor(ctx, "127.0.0.5", ih1); n != 0 {
		t.Errorf("HashFailsFor after Unban = %d", n)
	}
	if banned, _ := db.BannedIPs(ctx); len(banned) != 2 {
		t.Fatalf("BannedIPs after Unban = %v", banned)
	}
	if _, err := db.RecordHashFail(ctx, "", ih1, true, "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty IP: %v", err)
	}
}
