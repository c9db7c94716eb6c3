package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shoalp2p/shoal/internal/peerclients"
)

// The LEDBAT yield row: how much of the capped link a bulk TCP flow keeps
// while a Shoal uTP upload shares it. On the lossy lab at 50 ms RTT, 0%
// loss, a Go TCP sender on A streams to a receiver on B, first alone, then
// while a Shoal leecher on B downloads over uTP only from the Shoal seeder
// on A. The TCP rate is what B received in the measuring window (after
// the flow's first second, so slow start is left out); the uTP rate is the
// link's A→B bytes in the same window less TCP's. A uTP with LEDBAT backs
// off as the queue grows, so TCP should keep ≥80% of what it had alone.

const yieldRowName = "LEDBAT yield: bulk TCP beside a Shoal uTP upload"

// yieldResult is the row's figures.
type yieldResult struct {
	alone, beside float64 // TCP Mbit/s alone and beside uTP
	utp           float64 // uTP Mbit/s in the same window
	utpDone       bool    // the uTP download ended inside the window (it was not competing throughout)
	err           error
	qbit          *yieldResult // the same beside qBittorrent's (libtorrent's) uTP upload, for reference
}

// yieldWindow is how long each TCP measurement lasts, after a 1 s start.
const yieldWindow = 6 * time.Second

// runYield measures the yield row on the lab built for the lossy rows.
func (lb *lossyBench) runYield() {
	r := &yieldResult{}
	lb.yield = r
	if err := lb.lab.Link.SetConfig(lossyShapes(lb.rate)[0].cfg); err != nil {
		r.err = err
		return
	}
	Settle()
	if r.alone, _, r.err = lb.tcpFlow(); r.err != nil {
		return
	}
	Settle()
	utp, err := lb.startUTPUpload()
	if err != nil {
		r.err = err
		return
	}
	defer utp.Stop(10 * time.Second)
	time.Sleep(time.Second) // the leecher starts and connects
	var linkBytes int64
	r.beside, linkBytes, r.err = lb.tcpFlow()
	r.utpDone = utp.Exited()
	tcpBytes := r.beside * 1e6 / 8 * yieldWindow.Seconds()
	r.utp = max(0, float64(linkBytes)-tcpBytes) * 8 / 1e6 / yieldWindow.Seconds()
	lb.b.t.Logf("%s: TCP alone %.1f Mbit/s, beside uTP %.1f Mbit/s, uTP %.1f Mbit/s (uTP download ended inside the window: %v)",
		yieldRowName, r.alone, r.beside, r.utp, r.utpDone)
	r.qbit = lb.qbitYield(r.alone)
}

// qbitYield measures the TCP flow beside qBittorrent's uTP upload: a
// qBittorrent leecher on B, uTP only, given the qBittorrent seeder alone.
func (lb *lossyBench) qbitYield(alone float64) *yieldResult {
	r := &yieldResult{alone: alone}
	Settle()
	out := lb.b.scratch("yield-qbit-out")
	defer os.RemoveAll(out)
	q, err := startBenchQbitWith(lb.b.t, lb.torrent, out, false, labQbitOptions(lb.lab.B, "UTP"))
	if err != nil {
		r.err = err
		return r
	}
	defer q.Proc.Stop(15 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if r.err = peerclients.Poll(ctx, "qbittorrent leecher loaded", q.Loaded); r.err != nil {
		return r
	}
	if r.err = q.AddPeers(lb.ih, lb.seeders[0]); r.err != nil {
		return r
	}
	time.Sleep(time.Second)
	var linkBytes int64
	r.beside, linkBytes, r.err = lb.tcpFlow()
	r.utpDone, _ = q.Done()
	tcpBytes := r.beside * 1e6 / 8 * yieldWindow.Seconds()
	r.utp = max(0, float64(linkBytes)-tcpBytes) * 8 / 1e6 / yieldWindow.Seconds()
	lb.b.t.Logf("%s, qBittorrent's uTP for reference: TCP beside it %.1f Mbit/s, its uTP %.1f Mbit/s (its download done by the window's end: %v)",
		yieldRowName, r.beside, r.utp, r.utpDone)
	return r
}

// startUTPUpload starts a Shoal leecher on B fetching over uTP only from
// the Shoal seeder on A.
func (lb *lossyBench) startUTPUpload() (*peerclients.Proc, error) {
	b, host := lb.b, lb.lab.B
	out, data := b.scratch("yield-out"), b.scratch("yield-data")
	b.t.Cleanup(func() { os.RemoveAll(out); os.RemoveAll(data) })
	return b.startLabShoal(host, "get", "", data, "--quiet", "--out", out,
		"--timeout", lb.timeout().String(), "--utp", "only", "--peer", lb.seeders[1], lb.torrent)
}

// tcpFlow streams TCP from A to B for 1 s plus yieldWindow and returns
// the Mbit/s B received in the window, and the link's A→B bytes in it.
func (lb *lossyBench) tcpFlow() (mbit float64, linkBytes int64, err error) {
	lab := lb.lab
	ln, err := lab.B.Listen("tcp4", lab.B.Addr.String()+":0")
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	var received atomic.Int64
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 256<<10)
		for {
			n, err := c.Read(buf)
			received.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second+yieldWindow+time.Second)
	defer cancel()
	c, err := lab.A.DialContext(ctx, "tcp4", ln.Addr().String())
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	context.AfterFunc(ctx, func() { c.Close() })
	go io.Copy(c, zeroReader{})
	time.Sleep(time.Second)
	r0, ab0 := received.Load(), lb.linkAB()
	time.Sleep(yieldWindow)
	r1, ab1 := received.Load(), lb.linkAB()
	if r1 == r0 {
		return 0, 0, fmt.Errorf("the TCP flow carried nothing through the link")
	}
	return float64(r1-r0) * 8 / 1e6 / yieldWindow.Seconds(), ab1 - ab0, nil
}

// linkAB is the bytes the link has carried from A to B (sent, after loss
// and overflow; IP headers included).
func (lb *lossyBench) linkAB() int64 {
	ab, _ := lb.lab.Link.Stats()
	return ab.SentBytes
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// printYield writes the yield row.
func (lb *lossyBench) printYield(w io.Writer) {
	r := lb.yield
	if r == nil {
		return
	}
	if r.err != nil {
		fmt.Fprintf(w, "%s: FAILED: %.200v\n", yieldRowName, r.err)
		return
	}
	capMbit := float64(lb.rate) / 1e6
	var note []string
	if r.utpDone {
		note = append(note, "the uTP download ended inside the window")
	}
	fmt.Fprintf(w, "%s (50 ms RTT, %.0f Mbit/s cap, %v window): TCP alone %.1f Mbit/s, beside uTP %.1f Mbit/s = %.0f%% of the link, %.0f%% of its rate alone; uTP %.1f Mbit/s; target TCP ≥80%% of the link %s %s\n",
		yieldRowName, capMbit, yieldWindow, r.alone, r.beside, 100*r.beside/capMbit, 100*r.beside/r.alone, r.utp,
		Mark(r.beside >= 0.8*capMbit), strings.Join(note, "; "))
	switch q := r.qbit; {
	case q == nil:
	case q.err != nil:
		fmt.Fprintf(w, "  the same beside qBittorrent's uTP upload (reference): FAILED: %.200v\n", q.err)
	default:
		done := ""
		if q.utpDone {
			done = " (its download ended inside the window)"
		}
		fmt.Fprintf(w, "  the same beside qBittorrent's (libtorrent's) uTP upload, for reference: TCP %.1f Mbit/s = %.0f%% of the link; its uTP %.1f Mbit/s%s\n",
			q.beside, 100*q.beside/capMbit, q.utp, done)
	}
}
