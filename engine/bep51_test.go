package engine_test

import (
	"context"
	"encoding/hex"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
	"github.com/anacrolix/torrent/bencode"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// sampleInfohashes sends a hand-made BEP 51 query to a DHT node and
// decodes the answer.
func sampleInfohashes(t *testing.T, dhtAddr string) (krpc.Msg, error) {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to, err := net.ResolveUDPAddr("udp4", dhtAddr)
	if err != nil {
		t.Fatal(err)
	}
	id := "shoal-bep51-test-id!"
	q := "d1:ad2:id20:" + id + "6:target20:" + id + "e1:q17:sample_infohashes1:t2:s11:y1:qe"
	if _, err := c.WriteTo([]byte(q), to); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 2048)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		return krpc.Msg{}, err
	}
	var m krpc.Msg
	err = bencode.Unmarshal(buf[:n], &m)
	return m, err
}

// TestBEP51Answer: a Shoal node's DHT answers sample_infohashes with the
// infohashes announced to it (here by another Shoal node sharing a file,
// and the supernode key), to a hand-made query and to libtorrent's.
func TestBEP51Answer(t *testing.T) {
	boot := enginetest.Start(t, enginetest.Config(t))
	aCfg := enginetest.Config(t, boot.DHTAddr())
	// v1: a hybrid is announced under two names, one after the other, so
	// the sample's num could change between the two queries compared.
	aCfg.ShareFormat = new(engine.FormatV1)
	a := enginetest.Start(t, aCfg)
	src := enginetest.RandomFile(t, t.TempDir(), "bep51 sample.bin", 64<<10)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m krpc.Msg
	enginetest.WaitFor(t, "the shared infohash in boot's BEP 51 samples", 60*time.Second, func() bool {
		m, err = sampleInfohashes(t, boot.DHTAddr())
		return err == nil && m.R != nil && m.R.Samples != nil && slices.Contains(*m.R.Samples, [20]byte(ih))
	})
	if m.R.Num == nil || *m.R.Num < 1 || *m.R.Num != int64(len(*m.R.Samples)) {
		t.Errorf("num %v with %d samples", m.R.Num, len(*m.R.Samples))
	}
	if m.R.Interval == nil || *m.R.Interval <= 0 || *m.R.Interval > 6*3600 {
		t.Errorf("interval %v", m.R.Interval)
	}
	_, aDHT, _ := a.Addrs()
	if !slices.ContainsFunc(m.R.Nodes, func(n krpc.NodeInfo) bool { return n.Addr.String() == aDHT }) {
		t.Errorf("nodes %v do not include A at %s", m.R.Nodes, aDHT)
	}

	host, portStr, _ := net.SplitHostPort(boot.DHTAddr())
	port, _ := strconv.Atoi(portStr)
	lt, err := peerclients.LibtorrentSampleInfohashes(host, port, [20]byte{1, 2, 3}, 20*time.Second)
	need(t, err)
	t.Logf("libtorrent parsed: %+v", lt)
	if !slices.Contains(lt.Samples, hex.EncodeToString(ih[:])) {
		t.Errorf("libtorrent's samples %v lack %x", lt.Samples, ih)
	}
	if lt.Num != int(*m.R.Num) || lt.Interval != float64(*m.R.Interval) || lt.NodeCount < 1 {
		t.Errorf("libtorrent read num %d interval %v nodes %d; want %d, %d, ≥1", lt.Num, lt.Interval, lt.NodeCount, *m.R.Num, *m.R.Interval)
	}
}
