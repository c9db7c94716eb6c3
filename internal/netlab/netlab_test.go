package netlab

import (
	"strings"
	"testing"
)

// TestLab builds the lab and checks what it promises: hosts behind NAT
// reach the public segment, the public segment does not reach into a LAN,
// nothing has a route off the machine, and r1's miniupnpd maps a port
// through NAT-PMP while r3's (behind the carrier-grade NAT) refuses.
func TestLab(t *testing.T) {
	lab := New(t, Options{})
	h1, s1 := lab.Host("h1"), lab.Host("s1")
	for _, h := range []string{"h1", "h2", "h3"} {
		if out := probe(lab.Host(h), s1.Addr.String()); !strings.Contains(out, "refused") {
			t.Errorf("%s cannot reach s1: %s", h, out)
		}
	}
	if out := probe(s1, h1.Addr.String()); strings.Contains(out, "refused") {
		t.Errorf("s1 reached h1 inside r1's LAN directly: %s", out)
	}
	if out := probe(h1, "192.0.2.1"); strings.Contains(out, "refused") {
		t.Errorf("h1 reached 192.0.2.1: the lab routes off its ranges: %s", out)
	}
	out, err := h1.Run("natpmpc", "-g", "198.18.1.1", "-a", "40000", "40000", "tcp", "60")
	if err != nil || !strings.Contains(out, "Mapped public port 40000") {
		t.Fatalf("NAT-PMP on r1: %v\n%s\n%s", err, out, lab.Router("r1").UPnPLog())
	}
	rules, err := lab.Router("r1").Mappings()
	if err != nil || len(rules) == 0 {
		t.Fatalf("r1 mappings after NAT-PMP: %v %v", rules, err)
	}
	out, err = h1.Run("upnpc", "-i", "-e", "netlab", "-a", h1.Addr.String(), "40001", "40001", "udp")
	if err != nil || !strings.Contains(out, "external 203.0.113.11:40001 UDP is redirected") {
		t.Fatalf("UPnP on r1: %v\n%s", err, out)
	}
	out, _ = lab.Host("h3").Run("natpmpc", "-g", "198.18.3.1", "-a", "40000", "40000", "tcp", "60")
	if strings.Contains(out, "Mapped public port") {
		t.Fatalf("r3 behind the CGNAT mapped a port: %s", out)
	}
}

// probe opens a TCP connection from n to port 9 of ip, where nothing
// listens: "Connection refused" means the packet got there and back.
func probe(n *Node, ip string) string {
	out, _ := n.Run("timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/"+ip+"/9")
	return out
}
