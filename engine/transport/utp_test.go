package transport

import (
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// onePacket is a net.PacketConn that delivers one datagram, then blocks
// until closed; it swallows writes. served is closed once the socket came
// back for a second read, that is, once it has dealt with the first.
type onePacket struct {
	data   []byte
	reads  int
	served chan struct{}
	closed chan struct{}
	once   sync.Once
}

var fromAddr = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6881}

func newOnePacket(b []byte) *onePacket {
	return &onePacket{data: b, served: make(chan struct{}), closed: make(chan struct{})}
}

func (p *onePacket) ReadFrom(b []byte) (int, net.Addr, error) {
	p.reads++
	if p.reads == 1 {
		return copy(b, p.data), fromAddr, nil
	}
	if p.reads == 2 {
		close(p.served)
	}
	<-p.closed
	return 0, nil, net.ErrClosed
}

func (p *onePacket) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }
func (p *onePacket) Close() error                              { p.once.Do(func() { close(p.closed) }); return nil }
func (p *onePacket) LocalAddr() net.Addr                       { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (p *onePacket) SetDeadline(time.Time) error               { return nil }
func (p *onePacket) SetReadDeadline(time.Time) error           { return nil }
func (p *onePacket) SetWriteDeadline(time.Time) error          { return nil }

// utpHeader is a BEP 29 header: type, version 1, no extension.
func utpHeader(typ byte, connID, seq, ack uint16) []byte {
	b := make([]byte, 20)
	b[0] = typ<<4 | 1
	binary.BigEndian.PutUint16(b[2:], connID)
	binary.BigEndian.PutUint32(b[12:], 1<<20)
	binary.BigEndian.PutUint16(b[16:], seq)
	binary.BigEndian.PutUint16(b[18:], ack)
	return b
}

// demuxCases are datagrams on the shared UDP socket and whether the DHT
// (PacketConn) must see them. They seed FuzzUTPDatagram too.
var demuxCases = []struct {
	name   string
	in     []byte
	forDHT bool
}{
	{"KRPC ping", []byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"), true},
	{"uTP SYN", utpHeader(4, 1000, 1, 0), false},
	{"uTP DATA for no connection", append(utpHeader(0, 7, 5, 4), "hello"...), true},
	{"uTP STATE for no connection", utpHeader(2, 7, 5, 4), true},
	{"uTP RESET for no connection", utpHeader(3, 7, 5, 4), true},
	{"uTP FIN for no connection", utpHeader(1, 7, 5, 4), true},
	{"version 2", append([]byte{0x42}, make([]byte, 19)...), true},
	{"bad extension chain", append([]byte{0x41, 1}, make([]byte, 18)...), true},
	{"short", []byte{0x41, 0}, true},
	{"empty", nil, true},
}

// demux hands one datagram to a uTP socket and reports whether the DHT's
// side got it.
func demux(t testing.TB, b []byte) bool {
	pc := newOnePacket(b)
	u, err := NewUTP(pc)
	if err != nil {
		t.Fatal(err)
	}
	defer u.CloseNow()
	select {
	case <-pc.served:
	case <-time.After(5 * time.Second):
		t.Fatal("the socket did not come back for a second datagram")
	}
	buf := make([]byte, 8192) // the uTP socket reads datagrams of up to 8 KiB
	u.PacketConn().SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	n, _, err := u.PacketConn().ReadFrom(buf)
	if err == nil && string(buf[:n]) != string(b) {
		t.Fatalf("the DHT read %q, not the datagram %q", buf[:n], b)
	}
	return err == nil
}

// TestUTPDemux: uTP datagrams stay with uTP, the rest reach the DHT.
func TestUTPDemux(t *testing.T) {
	for _, tc := range demuxCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := demux(t, tc.in); got != tc.forDHT {
				t.Fatalf("DHT got it: %v, want %v", got, tc.forDHT)
			}
		})
	}
}

// FuzzUTPDatagram: no datagram on the shared socket crashes the uTP
// demultiplexer (a panic in its reader would take the whole node down),
// and one the DHT gets is passed on unchanged.
func FuzzUTPDatagram(f *testing.F) {
	for _, tc := range demuxCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 8192 {
			return // larger than a UDP read here
		}
		demux(t, b)
	})
}

// TestUTPSocketBuffers: the uTP socket asks the kernel for bigger buffers
// than a UDP socket gets by default, and reports what it got: on Linux,
// twice the asked size capped at net.core.rmem_max (wmem_max to send).
func TestUTPSocketBuffers(t *testing.T) {
	plain, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	before := socketBuffers(plain)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := NewUTP(pc)
	if err != nil {
		t.Fatal(err)
	}
	defer u.CloseNow()
	got := u.Buffers()
	t.Logf("default %+v, granted %+v", before, got)
	if runtime.GOOS != "linux" {
		return
	}
	if got.Recv <= before.Recv || got.Send <= before.Send {
		t.Fatalf("buffers %+v, want more than a plain socket's %+v", got, before)
	}
	for _, c := range []struct {
		sysctl    string
		asked, is int
	}{{"rmem_max", UDPRecvBuffer, got.Recv}, {"wmem_max", UDPSendBuffer, got.Send}} {
		b, err := os.ReadFile("/proc/sys/net/core/" + c.sysctl)
		if err != nil {
			t.Skip(err)
		}
		limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		want := 2 * min(c.asked, limit)
		if capNetAdmin(t) {
			want = 2 * c.asked // past the cap (sizeBuffers)
		}
		if c.is != want {
			t.Errorf("%s %d: granted %d, want %d", c.sysctl, limit, c.is, want)
		}
	}
}

// sysctlInt reads /proc/sys/net/core/NAME, skipping the test where it
// cannot.
func sysctlInt(t *testing.T, name string) int {
	b, err := os.ReadFile("/proc/sys/net/core/" + name)
	if err != nil {
		t.Skip(err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// capNetAdmin reports whether this process may pass the kernel's buffer
// caps: CAP_NET_ADMIN (bit 12) in its effective capabilities.
func capNetAdmin(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			v, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v&(1<<12) != 0
		}
	}
	t.Skip("no CapEff in /proc/self/status")
	return false
}

// TestUTPSocketBuffersCapped: asked for twice what the kernel's caps
// (net.core.rmem_max, wmem_max) allow, a uTP socket gets the whole ask
// where the process may pass the caps (CAP_NET_ADMIN: SO_RCVBUFFORCE),
// and otherwise gets the caps and says it is short (the engine then logs
// how to raise them).
func TestUTPSocketBuffersCapped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the caps and the way past them are Linux's")
	}
	rmax, wmax := sysctlInt(t, "rmem_max"), sysctlInt(t, "wmem_max")
	if max(rmax, wmax) > 256<<20 {
		t.Skipf("caps %d/%d: asking twice as much would not fit the kernel's int", rmax, wmax)
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := newUTPSized(pc, 2*rmax, 2*wmax)
	if err != nil {
		t.Fatal(err)
	}
	defer u.CloseNow()
	got, force := u.Buffers(), capNetAdmin(t)
	t.Logf("caps %d/%d, CAP_NET_ADMIN %v: %+v", rmax, wmax, force, got)
	want := SocketBuffers{Recv: 2 * rmax, Send: 2 * wmax, AskedRecv: 2 * rmax, AskedSend: 2 * wmax}
	if force {
		want.Recv, want.Send = 4*rmax, 4*wmax // the kernel reports twice the grant
	}
	if got != want || got.Short() == force {
		t.Errorf("buffers %+v (short %v), want %+v (short %v)", got, got.Short(), want, !force)
	}
	if force {
		withoutNetAdmin(t)
	}
}

// withoutNetAdmin runs TestUTPSocketBuffersCapped again in a child
// without CAP_NET_ADMIN (util-linux's setpriv), so the capped path runs
// too where the tests run as root.
func withoutNetAdmin(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Log("no setpriv: the capped path is not run")
		return
	}
	cmd := exec.Command(setpriv, "--bounding-set=-net_admin", "--inh-caps=-net_admin", "--",
		os.Args[0], "-test.run=^TestUTPSocketBuffersCapped$", "-test.v", "-test.count=1")
	out, err := cmd.CombinedOutput()
	t.Logf("without CAP_NET_ADMIN:\n%s", out)
	if !strings.Contains(string(out), "=== RUN") {
		t.Logf("setpriv could not drop CAP_NET_ADMIN here (%v): the capped path is not run", err)
		return
	}
	if err != nil {
		t.Errorf("without CAP_NET_ADMIN: %v", err)
	}
	if !strings.Contains(string(out), "CAP_NET_ADMIN false") {
		t.Error("the child kept CAP_NET_ADMIN")
	}
}

// TestSocketBuffersShort: on Linux the kernel reports twice what it
// granted, so a cap between half the ask and the ask is short too (it
// was taken for enough: a 3 MiB cap reported 6 MiB, over the 4 MiB asked).
func TestSocketBuffersShort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux's doubled report")
	}
	ask := SocketBuffers{AskedRecv: 4 << 20, AskedSend: 1 << 20}
	for _, tc := range []struct {
		recv, send int
		short      bool
	}{
		{8 << 20, 2 << 20, false},
		{6 << 20, 2 << 20, true}, // a 3 MiB cap
		{8 << 20, 1 << 20, true}, // half the send buffer
		{416 << 10, 416 << 10, true},
		{0, 0, false}, // not known
	} {
		b := ask
		b.Recv, b.Send = tc.recv, tc.send
		if b.Short() != tc.short {
			t.Errorf("%+v: short %v, want %v", b, b.Short(), tc.short)
		}
	}
}
