package state

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// fill writes one or more rows into every table.
func fill(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	lib := LibraryRow{InfoHash: hash(40), Name: "lib", Path: "/srv/lib", Size: 77, Files: 2,
		Info: []byte("d4:name3:libe"), Added: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	steps := []func() error{
		func() error { return db.SetSetting(ctx, "nick", "shoaly") },
		func() error { return db.PutLibrary(ctx, lib) },
		func() error { return db.PutTransfer(ctx, sampleTransfer(1)) },
		func() error { return db.SaveProgress(ctx, hash(1), []byte{0xaa}, "paused") },
		func() error {
			return db.AddTraffic(ctx, []Traffic{
				{InfoHash: hash(1), PeerID: hash(200), Key: PeerKeyFromIP("127.0.0.1"), Up: 3, Down: 4},
				{InfoHash: hash(40), PeerID: hash(201), Key: PeerKeyFromIP("127.0.0.2"), Up: 50},
			})
		},
		func() error {
			_, err := db.RecordHashFail(ctx, PeerKeyFromIP("127.0.0.9"), hash(1), true, "bad")
			return err
		},
		func() error { return db.SaveDHTNodes(ctx, []DHTNode{{hash(60), "127.0.0.1:6881"}}) },
		func() error { return db.SaveSupernodes(ctx, []string{"127.0.0.1:7000"}) },
	}
	for i, s := range steps {
		if err := s(); err != nil {
			t.Fatalf("fill step %d: %v", i, err)
		}
	}
}

// check reads every table back after fill ran n times.
func check(t *testing.T, db *DB, n int64) {
	t.Helper()
	ctx := context.Background()
	if v, ok, err := db.Setting(ctx, "nick"); v != "shoaly" || !ok || err != nil {
		t.Errorf("setting: %q %v %v", v, ok, err)
	}
	if lib, err := db.Library(ctx); err != nil || len(lib) != 1 || lib[0].Name != "lib" || string(lib[0].Info) != "d4:name3:libe" {
		t.Errorf("library: %+v %v", lib, err)
	}
	tr, err := db.Transfer(ctx, hash(1))
	want := sampleTransfer(1)
	want.Bitfield, want.State = []byte{0xaa}, "paused"
	want.Uploaded, want.Downloaded = 10+3*n, 20+4*n
	if err != nil || !reflect.DeepEqual(tr, want) {
		t.Errorf("transfer: %+v %v\nwant %+v", tr, err, want)
	}
	wantTotals(t, db, 53*n, 4*n)
	wantIHTotals(t, db, hash(40), 50*n, 0)
	if c, err := db.Credit(ctx, hash(201), PeerKeyFromIP("127.0.0.2")); err != nil || c.Uploaded != 50*n || c.LastSeen.IsZero() {
		t.Errorf("credit: %+v %v", c, err)
	}
	if p, err := db.Peer(ctx, PeerKeyFromIP("127.0.0.9")); err != nil || !p.Banned || p.HashFails != int(n) {
		t.Errorf("peer: %+v %v", p, err)
	}
	if nodes, err := db.DHTNodes(ctx); err != nil || len(nodes) != 1 || nodes[0].ID != hash(60) {
		t.Errorf("dht: %v %v", nodes, err)
	}
	if sn, err := db.Supernodes(ctx, 0); err != nil || !reflect.DeepEqual(sn, []string{"127.0.0.1:7000"}) {
		t.Errorf("supernodes: %v %v", sn, err)
	}
	if days, err := db.DailyTraffic(ctx, time.Time{}); err != nil || len(days) == 0 {
		t.Errorf("daily: %v %v", days, err)
	}
}

// TestReopenKeepsEverything writes every table, closes, reopens and reads
// it all back; a second round proves the totals only grow across reopens.
func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shoal.db")
	for round := int64(1); round <= 3; round++ {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if round > 1 {
			check(t, db, round-1) // what the previous process left
		}
		fill(t, db)
		check(t, db, round)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
