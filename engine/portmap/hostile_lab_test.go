package portmap

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/netlab"
)

// TestChildHostileIGD is a hostile UPnP device for TestLabHostileIGD, run
// inside a lab namespace. To every SSDP search it answers with garbage, an
// answer without a location, one whose location is outside the lab, and
// three that point at its own HTTP ports: a description that never ends
// (:8001), one that trickles a byte every 100 ms forever (:8002), and a
// server that accepts and never answers (:8003).
func TestChildHostileIGD(t *testing.T) {
	if !netlab.IsChild() {
		t.Skip("runs inside a lab namespace, started by the lab tests")
	}
	self := os.Getenv("HOSTILE_ADDR")
	out := json.NewEncoder(os.Stdout)
	for port, serve := range map[int]func(net.Conn) int64{8001: serveHuge, 8002: serveTrickle, 8003: serveSilent} {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				out.Encode(map[string]int64{"accepted": int64(port)})
				go func() {
					n := serve(c)
					out.Encode(map[string]int64{"port": int64(port), "sent": n})
				}()
			}
		}()
	}
	ifc, err := net.InterfaceByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenMulticastUDP("udp4", ifc, &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(`{"ready":1}`)
	buf := make([]byte, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(buf[:n], []byte("M-SEARCH")) {
			continue
		}
		fmt.Printf("{\"search_from\":%q}\n", from.String())
		garbage := make([]byte, 1400)
		rand.Read(garbage)
		pc.WriteTo(garbage, from)
		pc.WriteTo([]byte("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:x\r\n\r\n"), from)
		for _, loc := range []string{"http://192.0.2.1:80/desc.xml", "http://" + self + ":8001/huge.xml",
			"http://" + self + ":8002/slow.xml", "http://" + self + ":8003/silent.xml", "file:///etc/passwd"} {
			pc.WriteTo([]byte("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice\r\nUSN: uuid:hostile-"+
				strings.TrimPrefix(loc, "http://")+"\r\nLOCATION: "+loc+"\r\n\r\n"), from)
		}
	}
}

func readRequest(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

// serveHuge sends a description that opens an element and never closes it
// (up to 1 GiB, until the client hangs up).
func serveHuge(c net.Conn) int64 {
	defer c.Close()
	readRequest(c)
	c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device><friendlyName>"))
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	var sent int64
	for sent < 1<<30 {
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		n, err := c.Write(chunk)
		sent += int64(n)
		if err != nil {
			break
		}
	}
	return sent
}

// serveTrickle sends headers, then a byte every 100 ms for up to 5 minutes.
func serveTrickle(c net.Conn) int64 {
	defer c.Close()
	readRequest(c)
	c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<root>"))
	var sent int64
	for i := 0; i < 3000; i++ {
		if _, err := c.Write([]byte("<")); err != nil {
			break
		}
		sent++
		time.Sleep(100 * time.Millisecond)
	}
	return sent
}

// serveSilent reads the request and never answers (5 minutes at most).
func serveSilent(c net.Conn) int64 {
	defer c.Close()
	readRequest(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	c.Read(make([]byte, 1))
	return 0
}

// TestLabHostileIGD: a hostile device beside the real router (on r1's LAN)
// answers every search. The mapper still maps through the real router in
// bounded time, leaves no goroutine behind after it stops, and allocates
// a bounded amount while the hostile device offers a gigabyte.
func TestLabHostileIGD(t *testing.T) {
	lab := netlab.New(t, netlab.Options{})
	h1b := lab.Host("h1b")
	hostile := h1b.Self("TestChildHostileIGD", "HOSTILE_ADDR="+h1b.Addr.String())
	out, err := hostile.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	hostile.Stderr = os.Stderr
	if err := lab.StartCmd(hostile); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.Contains(sc.Text(), `"ready"`) {
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	go func() {
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			switch {
			case strings.Contains(line, "search_from"):
				seen["search"] = true
			case strings.Contains(line, `"accepted"`):
				seen[line] = true
			}
			mu.Unlock()
			if strings.Contains(line, `"sent"`) {
				t.Logf("hostile device: %s", line)
			}
		}
	}()
	start := time.Now()
	c := startChild(t, lab.Host("h1"), 41004, time.Minute)
	l := c.next(t, 30*time.Second, settled)
	took := time.Since(start)
	if l.Method != MethodUPnP || l.External != "203.0.113.11:41004" {
		t.Fatalf("status %+v beside a hostile device, want upnp 203.0.113.11:41004", l)
	}
	if took > 15*time.Second {
		t.Fatalf("mapping took %v beside a hostile device, want the timeouts to bound it", took)
	}
	end := c.stop(t)
	mu.Lock()
	for _, want := range []string{"search", `{"accepted":8001}`, `{"accepted":8002}`, `{"accepted":8003}`} {
		if !seen[want] {
			t.Errorf("the hostile device never saw %s: the test did not exercise it", want)
		}
	}
	mu.Unlock()
	t.Logf("mapped in %v; goroutines %d before, %d after; %d bytes allocated in the whole run",
		took.Round(10*time.Millisecond), end.GoroutinesBefore, end.GoroutinesAfter, end.TotalAlloc)
	if end.GoroutinesAfter > end.GoroutinesBefore {
		t.Errorf("goroutines leaked: %d before, %d after (stacks on stderr)", end.GoroutinesBefore, end.GoroutinesAfter)
	}
	if end.TotalAlloc > 16<<20 {
		t.Errorf("allocated %d bytes; the hostile device's answers should be bounded", end.TotalAlloc)
	}
}
