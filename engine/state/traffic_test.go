package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func wantTotals(t *testing.T, db *DB, up, down int64) {
	t.Helper()
	gu, gd, err := db.Totals(context.Background())
	if err != nil || gu != up || gd != down {
		t.Fatalf("Totals = %d/%d, %v; want %d/%d", gu, gd, err, up, down)
	}
}

func wantIHTotals(t *testing.T, db *DB, ih [20]byte, up, down int64) {
	t.Helper()
	gu, gd, err := db.InfoHashTotals(context.Background(), ih)
	if err != nil || gu != up || gd != down {
		t.Fatalf("InfoHashTotals(%x) = %d/%d, %v; want %d/%d", ih[:2], gu, gd, err, up, down)
	}
}

func TestAddTraffic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	day := time.Date(2026, 6, 1, 23, 59, 0, 0, time.UTC)
	advance := fakeClock(db, day)
	dl := sampleTransfer(1) // a download: Uploaded 10, Downloaded 20 to start
	if err := db.PutTransfer(ctx, dl); err != nil {
		t.Fatal(err)
	}
	seed := hash(2) // library-only seeding: no transfer row
	peerA, peerB := hash(100), hash(200)
	batch := []Traffic{
		{InfoHash: dl.InfoHash, PeerID: peerA, Key: PeerKeyFromIP("127.0.0.1"), Up: 100, Down: 1000},
		{InfoHash: dl.InfoHash, PeerID: peerA, Key: PeerKeyFromIP("::ffff:127.0.0.1"), Up: 1, Down: 2},
		{InfoHash: seed, PeerID: peerB, Key: PeerKeyFromIP("127.0.0.2"), Up: 5000},
		{InfoHash: seed, PeerID: peerA, Key: PeerKeyFromIP("127.0.0.3")}, // empty: skipped
	}
	if err := db.AddTraffic(ctx, batch); err != nil {
		t.Fatal(err)
	}
	advance(2 * time.Minute) // next UTC day
	if err := db.AddTraffic(ctx, batch[:1]); err != nil {
		t.Fatal(err)
	}
	wantTotals(t, db, 100+1+5000+100, 1000+2+1000)
	wantIHTotals(t, db, dl.InfoHash, 201, 2002)
	wantIHTotals(t, db, seed, 5000, 0)
	wantIHTotals(t, db, hash(3), 0, 0)
	all, err := db.AllInfoHashTotals(ctx) // what a start-up reads at once
	if want := map[[20]byte][2]int64{dl.InfoHash: {201, 2002}, seed: {5000, 0}}; err != nil || fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("AllInfoHashTotals = %v, %v; want %v", all, err, want)
	}
	got, _ := db.Transfer(ctx, dl.InfoHash)
	if got.Uploaded != 10+201 || got.Downloaded != 20+2002 {
		t.Errorf("transfer counters = %d/%d, want 211/2022", got.Uploaded, got.Downloaded)
	}
	c, err := db.Credit(ctx, peerA, PeerKeyFromIP("127.0.0.1"))
	if err != nil || c.Uploaded != 201 || c.Downloaded != 2002 || c.Key != PeerKeyFromIP("127.0.0.1") ||
		!c.FirstSeen.Equal(day) || !c.LastSeen.Equal(day.Add(2*time.Minute)) {
		t.Errorf("credit A = %+v, %v", c, err)
	}
	if c, _ := db.Credit(ctx, peerA, PeerKeyFromIP("127.0.0.3")); c != (Credit{}) {
		t.Errorf("credit for skipped entry = %+v, want zero", c)
	}
	if c, _ := db.Credit(ctx, peerB, PeerKeyFromIP("127.0.0.1")); c != (Credit{}) {
		t.Errorf("credit for other IP = %+v, want zero", c)
	}
	days, err := db.DailyTraffic(ctx, day.Add(-48*time.Hour))
	want := []DayTraffic{
		{Day: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Up: 5101, Down: 1002},
		{Day: time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC), Up: 100, Down: 1000},
	}
	if err != nil || fmt.Sprint(days) != fmt.Sprint(want) {
		t.Errorf("DailyTraffic = %v, %v; want %v", days, err, want)
	}
	if days, _ := db.DailyTraffic(ctx, day.Add(time.Hour)); len(days) != 1 {
		t.Errorf("DailyTraffic since day 2 = %v", days)
	}
}

func TestAddTrafficRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	tests := []struct {
		name  string
		batch []Traffic
	}{
		{"negative up", []Traffic{{Up: 5}, {Up: -1}}},
		{"negative down", []Traffic{{Down: -5}}},
		{"overflow", []Traffic{{Up: 1 << 62}, {Up: 1 << 62}, {Up: 1 << 62}}},
	}
	for _, tc := range tests {
		if err := db.AddTraffic(ctx, tc.batch); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	wantTotals(t, db, 0, 0) // nothing of a rejected batch was applied
	if err := db.AddTraffic(ctx, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestAddTrafficConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				b := []Traffic{
					{InfoHash: hash(byte(w)), PeerID: hash(50), Key: PeerKeyFromIP("127.0.0.1"), Up: int64(r + 1), Down: 3},
					{InfoHash: hash(99), PeerID: hash(byte(60 + w)), Key: PeerKeyFromIP("127.0.0.2"), Up: 1, Down: int64(w)},
				}
				if err := db.AddTraffic(ctx, b); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sumR := int64(rounds * (rounds + 1) / 2)
	wantTotals(t, db, workers*(sumR+rounds), workers*rounds*3+rounds*(0+1+2+3+4+5+6+7))
	wantIHTotals(t, db, hash(99), workers*rounds, rounds*28)
	for w := range workers {
		wantIHTotals(t, db, hash(byte(w)), sumR, rounds*3)
	}
	c, err := db.Credit(ctx, hash(50), PeerKeyFromIP("127.0.0.1"))
	if err != nil || c.Uploaded != workers*sumR || c.Downloaded != workers*rounds*3 {
		t.Fatalf("shared peer credit = %+v, %v", c, err)
	}
}

func TestCreditModifier(t *testing.T) {
	t.Parallel()
	const mb = 1 << 20
	tests := []struct {
		up, down int64
		want     float64
	}{
		{0, 0, 1},
		{0, mb - 1, 1},          // under 1 MiB
		{0, 2 * mb, 2},          // sqrt(2+2)
		{100 * mb, 2 * mb, 1},   // ratio 0.04, clamped to 1
		{4 * mb, 7 * mb, 3},     // min(3.5, sqrt(9)=3)
		{10 * mb, 10 * mb, 2},   // min(2, sqrt(12))
		{1, 1000 * mb, 10},      // both huge, capped at 10
		{0, 98 * mb, 10},        // sqrt(100)
		{20 * mb, 14 * mb, 1.4}, // ratio wins
	}
	for _, tc := range tests {
		got := Credit{Uploaded: tc.up, Downloaded: tc.down}.Modifier()
		if d := got - tc.want; d > 1e-9 || d < -1e-9 {
			t.Errorf("Modifier(up %d, down %d) = %v, want %v", tc.up, tc.down, got, tc.want)
		}
	}
}

func BenchmarkAddTraffic50(b *testing.B) {
	db, _ := openTest(b)
	ctx := context.Background()
	batch := make([]Traffic, 50)
	for i := range batch {
		batch[i] = Traffic{InfoHash: hash(byte(i % 10)), PeerID: hash(byte(100 + i)),
			Key: PeerKeyFromIP(fmt.Sprintf("127.0.0.%d", i+1)), Up: 16384, Down: 32768}
		if i%10 == 0 {
			if err := db.PutTransfer(ctx, TransferRow{InfoHash: batch[i].InfoHash, State: "downloading"}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := db.AddTraffic(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}
