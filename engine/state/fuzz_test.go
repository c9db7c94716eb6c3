package state

import (
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzTransferRoundTrip stores arbitrary transfer rows and checks they read
// back exactly (up to the documented normalisations).
func FuzzTransferRoundTrip(f *testing.F) {
	s := sampleTransfer(1)
	f.Add(s.Name, s.Dir, s.Source, s.Info, s.State, s.Bitfield, s.Peers[0], s.Uploaded, s.Downloaded, s.Added.UnixNano())
	f.Add("", "", "", []byte(nil), "", []byte{}, "", int64(0), int64(0), int64(0))
	f.Add("n\x00ul", "d\xff", "s", []byte{0}, "st", []byte{0, 0}, "\xff", int64(-1), int64(1), int64(-5))
	f.Add("é", "/x", "magnet:", []byte("d1:a0:e"), "done", []byte{1}, "127.0.0.1:1", int64(1<<62), int64(7), int64(1))
	db, _ := openTest(f)
	ctx := context.Background()
	now := time.Date(2026, 8, 8, 8, 8, 8, 8, time.UTC)
	db.now = func() time.Time { return now }
	f.Fuzz(func(t *testing.T, name, dir, source string, info []byte, st string, bf []byte,
		peer string, up, down, added int64) {
		r := TransferRow{InfoHash: hash(0xee), Name: name, Dir: dir, Source: source, Info: info,
			State: st, Bitfield: bf, Uploaded: up, Downloaded: down, Peers: []string{peer, peer + "x"}}
		if added != 0 {
			r.Added = time.Unix(0, added).UTC()
		}
		if err := db.DeleteTransfer(ctx, r.InfoHash); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		err := db.PutTransfer(ctx, r)
		if bad := !utf8.ValidString(peer) || up < 0 || down < 0; bad {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("invalid row accepted: err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		want := r
		want.Info, want.Bitfield = nilIfEmpty(info), nilIfEmpty(bf)
		if added == 0 {
			want.Added = now
		}
		got, err := db.Transfer(ctx, r.InfoHash)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %+v, %v\nwant %+v", got, err, want)
		}
	})
}

// decodeBatch turns fuzz bytes into a traffic batch: 9 bytes per entry
// (infohash, peer, ip selectors; up and down as signed 24-bit-ish values).
func decodeBatch(data []byte) []Traffic {
	ips := []string{"127.0.0.1", "::ffff:127.0.0.1", "::1", "127.0.0.2"}
	var b []Traffic
	for ; len(data) >= 9; data = data[9:] {
		b = append(b, Traffic{
			InfoHash: hash(data[0] % 4), PeerID: hash(100 + data[1]%4), Key: PeerKeyFromIP(ips[data[2]%4]),
			Up:   int64(int32(binary.BigEndian.Uint32(data[1:5]))) >> 8,
			Down: int64(int32(binary.BigEndian.Uint32(data[5:9]))) >> 8,
		})
	}
	return b
}

type trafficView struct {
	totals  pair
	perIH   [4]pair
	credits map[creditKey]pair
}

func viewTraffic(t *testing.T, db *DB) trafficView {
	ctx := context.Background()
	v := trafficView{credits: map[creditKey]pair{}}
	var err error
	if v.totals.up, v.totals.down, err = db.Totals(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range v.perIH {
		if v.perIH[i].up, v.perIH[i].down, err = db.InfoHashTotals(ctx, hash(byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	for p := range 4 {
		for _, ip := range []string{"127.0.0.1", "::1", "127.0.0.2"} {
			key := PeerKeyFromIP(ip)
			c, err := db.Credit(ctx, hash(100+byte(p)), key)
			if err != nil {
				t.Fatal(err)
			}
			v.credits[creditKey{hash(100 + byte(p)), key.stored()}] = pair{c.Uploaded, c.Downloaded}
		}
	}
	return v
}

// FuzzAddTraffic checks that every counter grows by exactly the batch's
// sums, and that a batch with a negative count changes nothing.
func FuzzAddTraffic(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 2, 0, 0, 1, 0, 0, 0})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 0, 1, 0, 0, 0, 9, 0, 0})
	f.Add([]byte{0, 0x80, 0, 0, 0, 0, 0, 0, 0}) // negative up
	db, _ := openTest(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		batch := decodeBatch(data)
		before := viewTraffic(t, db)
		want := before
		want.credits = maps.Clone(before.credits)
		negative := false
		for _, e := range batch {
			negative = negative || e.Up < 0 || e.Down < 0
			if negative || (e.Up == 0 && e.Down == 0) {
				continue
			}
			add := func(p *pair) { p.up += e.Up; p.down += e.Down }
			add(&want.totals)
			add(&want.perIH[e.InfoHash[0]])
			k := creditKey{e.PeerID, e.Key.stored()}
			p := want.credits[k]
			add(&p)
			want.credits[k] = p
		}
		err := db.AddTraffic(context.Background(), batch)
		if negative {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("negative batch: err = %v", err)
			}
			want = before // a rejected batch changes nothing
		} else if err != nil {
			t.Fatal(err)
		}
		if got := viewTraffic(t, db); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %v:\n got %+v\nwant %+v", batch, got, want)
		}
	})
}
