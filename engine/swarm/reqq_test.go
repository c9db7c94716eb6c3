package swarm

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/wire"
)

// queueSeed is a raw seed with a request queue of capacity blocks: it
// rejects (BEP 6) requests beyond it and serves one block per millisecond,
// so a leecher that over-pipelines fills the queue. It advertises its
// queue as reqq only if advertise is set.
type queueSeed struct {
	data      []byte
	pieceLen  int64
	capacity  int
	advertise bool
	// every, if set, makes the seed answer in batches like Transmission:
	// it waits this long, then sends every block queued meanwhile.
	every time.Duration
	// dropLast makes the seed ignore the first request for the content's
	// last block, silently, as Transmission sometimes does.
	dropLast bool

	mu             sync.Mutex
	lastAsked      int // requests seen for the last block
	maxOutstanding int
	rejects        int
}

// fetchFrom downloads size bytes of fresh content, in pieces of pieceLen,
// from q (its data is filled in here) and checks the copy.
func fetchFrom(t *testing.T, q *queueSeed, size int, pieceLen int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, info := makeContent(t, size, pieceLen)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	q.data, q.pieceLen = data, pieceLen
	addr := q.serve(t, infoHash(info))
	l := startNode(t, ctx, Config{InfoHash: infoHash(info), InfoBytes: info, Dir: t.TempDir()})
	l.s.AddPeers(addr)
	waitFor(t, "download from the queue seed", 2*time.Minute, l.s.Complete)
	if fileSHA256(t, filepath.Join(l.s.cfg.Dir, "content.bin")) != fileSHA256(t, path) {
		t.Fatal("content differs")
	}
}

func (q *queueSeed) serve(t *testing.T, ih [20]byte) string {
	return serveRaw(t, func(c net.Conn) { q.conn(c, ih) })
}

func (q *queueSeed) conn(c net.Conn, ih [20]byte) {
	defer c.Close()
	br := bufio.NewReader(c)
	if _, err := wire.ReadHandshake(br); err != nil {
		return
	}
	h := wire.Handshake{Reserved: wire.DefaultReserved(), InfoHash: ih}
	copy(h.PeerID[:], "-QS0001-queuequeueqq")
	if wire.WriteHandshake(c, h) != nil {
		return
	}
	ext := wire.ExtHandshake{V: "queue seed"}
	if q.advertise {
		ext.Reqq = q.capacity
	}
	payload, _ := ext.Marshal()
	var out []byte
	out = wire.AppendExtended(out, 0, payload)
	out = wire.AppendMessage(out, wire.Message{ID: wire.HaveAll})
	out = wire.AppendMessage(out, wire.Message{ID: wire.Unchoke})
	var wmu sync.Mutex // c's writes
	c.Write(out)
	queue := make(chan wire.Message, q.capacity)
	send := func(m wire.Message) error {
		off := int64(m.Index)*q.pieceLen + int64(m.Begin)
		msg := wire.AppendPieceHeader(nil, m.Index, m.Begin, int(m.Length))
		wmu.Lock()
		defer wmu.Unlock()
		_, err := c.Write(append(msg, q.data[off:off+int64(m.Length)]...))
		return err
	}
	go func() {
		for m := range queue {
			if q.every > 0 {
				time.Sleep(q.every)
				for n := len(queue); n > 0 && send(m) == nil; n-- {
					m = <-queue
				}
			} else {
				time.Sleep(time.Millisecond)
			}
			if send(m) != nil {
				return
			}
		}
	}()
	defer close(queue)
	dec := wire.NewDecoder(br, 1<<20)
	for {
		m, err := dec.Next()
		if err != nil {
			return
		}
		if m.ID != wire.Request {
			continue
		}
		if off := int64(m.Index)*q.pieceLen + int64(m.Begin); off+int64(m.Length) == int64(len(q.data)) {
			q.mu.Lock()
			q.lastAsked++
			drop := q.dropLast && q.lastAsked == 1
			q.mu.Unlock()
			if drop {
				continue
			}
		}
		q.mu.Lock()
		q.maxOutstanding = max(q.maxOutstanding, len(queue)+1)
		q.mu.Unlock()
		select {
		case queue <- m:
		default:
			q.mu.Lock()
			q.rejects++
			q.mu.Unlock()
			wmu.Lock()
			c.Write(wire.AppendReject(nil, m.Index, m.Begin, m.Length))
			wmu.Unlock()
		}
	}
}

// TestPipelineRespectsPeerQueue: a peer that announces reqq never sees more
// requests than that; one that does not is rejected a few times, then the
// leecher keeps within what it takes.
func TestPipelineRespectsPeerQueue(t *testing.T) {
	for _, c := range []struct {
		name       string
		advertise  bool
		maxRejects int
	}{
		{"reqq announced", true, 0},
		{"queue learned from rejects", false, 50},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := &queueSeed{capacity: 20, advertise: c.advertise}
			fetchFrom(t, q, 4<<20, 64<<10)
			q.mu.Lock()
			defer q.mu.Unlock()
			t.Logf("most outstanding %d, rejects %d (queue %d)", q.maxOutstanding, q.rejects, q.capacity)
			if c.advertise && q.maxOutstanding > q.capacity {
				t.Errorf("%d requests outstanding to a peer with reqq %d", q.maxOutstanding, q.capacity)
			}
			if q.rejects > c.maxRejects {
				t.Errorf("%d requests rejected, want at most %d", q.rejects, c.maxRejects)
			}
		})
	}
}

// TestPipelineGrowsAgainstBatchingPeer: a peer that answers in 400 ms
// batches (as Transmission does) sees the pipeline double every batch,
// like slow start, up to its queue. Before, the depth grew by one per
// top-up, linearly, and never passed a few dozen requests in a transfer
// of this size.
func TestPipelineGrowsAgainstBatchingPeer(t *testing.T) {
	q := &queueSeed{capacity: 512, advertise: true, every: 400 * time.Millisecond}
	fetchFrom(t, q, 16<<20, 256<<10)
	q.mu.Lock()
	defer q.mu.Unlock()
	t.Logf("most outstanding %d of a queue of %d", q.maxOutstanding, q.capacity)
	if q.maxOutstanding < 256 {
		t.Errorf("at most %d requests outstanding to a peer that answers every 400 ms; want the pipeline to have grown to 256 or more", q.maxOutstanding)
	}
}

// TestSilentlyDroppedRequestIsAskedAgain: a peer that never answers one
// request, and has nothing else to send, is asked for that block again
// once it has been silent for a few of its turnarounds, not after the
// 20 s request timeout. Before, a download from Transmission sat idle
// 8 s on its last block.
func TestSilentlyDroppedRequestIsAskedAgain(t *testing.T) {
	q := &queueSeed{capacity: 64, advertise: true, dropLast: true}
	start := time.Now()
	fetchFrom(t, q, 2<<20, 64<<10)
	took := time.Since(start)
	q.mu.Lock()
	defer q.mu.Unlock()
	t.Logf("done in %v; the last block was asked for %d times", took.Round(time.Millisecond), q.lastAsked)
	if q.lastAsked < 2 {
		t.Fatalf("the dropped last block was asked for %d times, want it asked again", q.lastAsked)
	}
	if took >= requestTimeout {
		t.Errorf("took %v: the dropped request waited for the %v request timeout", took.Round(time.Millisecond), requestTimeout)
	}
}
