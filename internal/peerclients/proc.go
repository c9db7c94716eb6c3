package peerclients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Host is the only address the launched programs bind to and are reached at.
const Host = "127.0.0.1"

// Sentinel errors callers branch on.
var (
	// ErrNotInstalled: the client's binary is not on PATH.
	ErrNotInstalled = errors.New("not installed")
	// ErrExited: the process ended while it was expected to keep running.
	ErrExited = errors.New("process exited")
)

// debPackage names the Debian package that ships each binary.
var debPackage = map[string]string{
	"transmission-daemon": "transmission-daemon",
	"transmission-create": "transmission-cli",
	"transmission-show":   "transmission-cli",
	"aria2c":              "aria2",
	"qbittorrent-nox":     "qbittorrent-nox",
	"opentracker":         "opentracker",
	"mktorrent":           "mktorrent",
}

// Bin finds a binary on PATH; a missing one is ErrNotInstalled, wrapped
// with the package to install.
func Bin(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	pkg := debPackage[name]
	if pkg == "" {
		pkg = name
	}
	return "", fmt.Errorf("peerclients: %s %w (apt-get install -y %s)", name, ErrNotInstalled, pkg)
}

// FreePort finds a port free for both TCP and UDP on 127.0.0.1. Another
// process may still take it before the caller binds it.
func FreePort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", Host+":0")
		if err != nil {
			return 0, fmt.Errorf("peerclients: free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", addr(port))
		l.Close()
		if err == nil {
			pc.Close()
			return port, nil
		}
	}
	return 0, errors.New("peerclients: free port: none free for both TCP and UDP")
}

// binAndPorts finds a client's binary and n distinct free ports for it.
func binAndPorts(name string, n int) (string, []int, error) {
	bin, err := Bin(name)
	if err != nil {
		return "", nil, err
	}
	ports, err := freePorts(n)
	return bin, ports, err
}

// freePorts finds n distinct free ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		if !containsInt(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// addr is Host:port.
func addr(port int) string { return net.JoinHostPort(Host, strconv.Itoa(port)) }

// tailBuffer keeps a child's output while it runs, at most about 1 MiB.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const tailMax = 1 << 20

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > tailMax {
		keep := b.buf.Bytes()[b.buf.Len()/2:]
		b.buf = *bytes.NewBuffer(append([]byte("…"), keep...))
	}
	return b.buf.Write(p)
}

// tail returns at most the last n bytes written.
func (b *tailBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// Proc is one child process owned by a test.
type Proc struct {
	Name    string    // the binary's base name
	Args    []string  // its arguments
	Started time.Time // when it was started

	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed when the process has exited
	end  time.Time     // when it exited; valid after done
	err  error         // Wait's result; valid after done
}

// StopGrace is how long cleanup waits after SIGTERM before SIGKILL.
const StopGrace = 10 * time.Second

// Start runs bin with args, its stdout and stderr kept. The process is
// stopped when tb's test ends, and its output logged if the test failed.
func Start(tb testing.TB, bin string, args ...string) (*Proc, error) {
	p := &Proc{Name: filepath.Base(bin), Args: args, out: &tailBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// A grandchild that keeps the output pipe open must not hold Wait up
	// once the process itself has exited.
	p.cmd.WaitDelay = 2 * time.Second
	p.Started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("peerclients: start %s: %w", p.Name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.end = time.Now()
		close(p.done)
	}()
	tb.Cleanup(func() {
		p.Stop(StopGrace)
		if tb.Failed() {
			tb.Logf("%s %s output:\n%s", p.Name, strings.Join(args, " "), p.Output(6000))
		}
	})
	return p, nil
}

// Stop asks the process to end (SIGTERM) and kills it after grace. It
// returns once the process has exited.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Pid is the process's ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the process's exit error (nil for status 0); valid once Exited.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Ended is when the process exited; valid once Exited.
func (p *Proc) Ended() time.Time {
	<-p.done
	return p.end
}

// Output returns at most the last n bytes of the process's output.
func (p *Proc) Output(n int) string { return p.out.tail(n) }

// Wait waits up to timeout for the process to exit by itself with status 0.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("peerclients: %s: %w; output:\n%s", p.Name, p.err, p.Output(4000))
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("peerclients: %s did not finish within %v; output:\n%s", p.Name, timeout, p.Output(4000))
	}
}

// WaitListening waits until something accepts TCP connections on addr. It
// fails with ErrExited if the process ends first.
func (p *Proc) WaitListening(addr string, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		if p.Exited() {
			return fmt.Errorf("peerclients: %s (%v) before listening on %s: %w; output:\n%s",
				p.Name, p.err, addr, ErrExited, p.Output(4000))
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("peerclients: %s not listening on %s after %v", p.Name, addr, timeout)
}

// Poll calls cond every 100 ms until it returns true or an error, or ctx ends.
func Poll(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PollFor is Poll with a timeout instead of a context.
func PollFor(timeout time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return Poll(ctx, what, cond)
}
