package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoalp2p/shoal/engine"
)

// SocketName is the control socket's name inside the data folder.
const SocketName = "shoal.sock"

// maxConns bounds the clients served at once; idleTimeout drops a client
// that sends nothing.
const (
	maxConns    = 8
	idleTimeout = 30 * time.Second
	// reachTimeout bounds a reach request's dial-back test, well inside
	// idleTimeout (the answer must be written before it ends).
	reachTimeout = 20 * time.Second
)

// Engine is what the server needs from *engine.Engine.
type Engine interface {
	Snapshot() engine.Snapshot
	Download(ctx context.Context, req engine.DownloadRequest) (engine.InfoHash, error)
	CheckReachability(ctx context.Context) engine.NetStatus
}

// Server answers control requests for one engine.
type Server struct {
	eng     Engine
	dataDir string
	log     *slog.Logger
	ln      *net.UnixListener
	path    string
	show    atomic.Pointer[func() bool]
	wg      sync.WaitGroup
}

// SocketPath is where the control socket of a data folder lives.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// Listen binds the control socket of dataDir. Call it only while holding
// the folder's lock (after engine.Open): it replaces any socket file there,
// which can then only be one left by a process that died.
func Listen(dataDir string, eng Engine, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := SocketPath(dataDir)
	ln, err := listenPrivate(dataDir, path)
	if err != nil {
		return nil, fmt.Errorf("control: listen %s: %w", path, err)
	}
	return &Server{eng: eng, dataDir: dataDir, log: log, ln: ln, path: path}, nil
}

// listenPrivate binds a socket in a fresh 0700 folder, sets it to 0600 and
// renames it to path, so that it is never reachable with looser rights.
func listenPrivate(dataDir, path string) (*net.UnixListener, error) {
	tmp, err := os.MkdirTemp(dataDir, ".ctl-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bound := filepath.Join(tmp, "s")
	name, done, err := shortPath(bound)
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"})
	done()
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false) // the file moves; Run removes it by its final name
	if err := os.Chmod(bound, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	if err := os.Rename(bound, path); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// Path is the socket's file name.
func (s *Server) Path() string { return s.path }

// OnShow sets what a show request does: raise the window and report
// whether one was raised. Without it, show answers shown=false.
func (s *Server) OnShow(fn func() bool) { s.show.Store(&fn) }

// Run serves until ctx ends, then closes the socket, removes its file and
// waits for the clients being served.
func (s *Server) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	sem := make(chan struct{}, maxConns)
	var err error
	for {
		var c *net.UnixConn
		c, err = s.ln.AcceptUnix()
		if err != nil {
			break
		}
		sem <- struct{}{}
		s.wg.Add(1)
		go func() {
			defer func() { <-sem; s.wg.Done() }()
			s.serveConn(ctx, c)
		}()
	}
	s.ln.Close()
	os.Remove(s.path)
	s.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("control: accept: %w", err)
}

// serveConn answers each request line of one client until it hangs up,
// stays idle too long, or ctx ends.
func (s *Server) serveConn(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 4096), MaxRequestLine+1)
	w := bufio.NewWriter(c)
	for {
		c.SetDeadline(time.Now().Add(idleTimeout))
		if !sc.Scan() {
			if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
				s.reply(w, Response{Error: fmt.Sprintf("Request too long: at most %d bytes.", MaxRequestLine)})
			}
			return
		}
		if err := s.reply(w, s.handle(ctx, sc.Bytes())); err != nil {
			return
		}
	}
}

func (s *Server) reply(w *bufio.Writer, r Response) error {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(Response{Error: "Shoal could not encode its answer: " + err.Error()})
	}
	w.Write(append(b, '\n'))
	return w.Flush()
}

// handle answers one request line.
func (s *Server) handle(ctx context.Context, line []byte) Response {
	req, err := DecodeRequest(line)
	if err != nil {
		s.log.Debug("control request refused", "err", err)
		return Response{Error: "Shoal did not understand this request: " + strings.TrimPrefix(err.Error(), "control: ")}
	}
	switch req.Cmd {
	case CmdStatus:
		st := statusOf(s.eng.Snapshot())
		st.DataDir, st.PID = s.dataDir, os.Getpid()
		return Response{OK: true, Status: &st}
	case CmdAdd:
		return s.add(ctx, req.Link)
	case CmdReach:
		tctx, cancel := context.WithTimeout(ctx, reachTimeout)
		defer cancel()
		n := s.eng.CheckReachability(tctx)
		s.log.Info("control reachability test", "reachable", n.Reachable)
		st := statusOf(s.eng.Snapshot())
		st.Network = networkOf(n)
		st.DataDir, st.PID = s.dataDir, os.Getpid()
		return Response{OK: true, Status: &st}
	case CmdShow:
		if fn := s.show.Load(); fn != nil {
			return Response{OK: true, Shown: (*fn)()}
		}
		return Response{OK: true}
	}
	return Response{Error: "Shoal did not understand this request."} // unreachable: DecodeRequest checks Cmd
}

func (s *Server) add(ctx context.Context, link string) Response {
	ih, err := s.eng.Download(ctx, engine.DownloadRequest{Source: link})
	if err != nil {
		s.log.Info("control add refused", "err", err)
		return Response{Error: addError(link, err)}
	}
	s.log.Info("control add", "infohash", ih.String())
	return Response{OK: true, Added: ih.String()}
}

// addError says, for people, why a link was refused and what to try.
func addError(link string, err error) string {
	detail := strings.TrimPrefix(err.Error(), "engine: ")
	switch {
	case strings.HasPrefix(link, "magnet:"):
		return "Shoal could not add this magnet link: it is not valid (" + detail + "). Copy the whole link again and retry."
	case !isPathLike(link):
		return "Shoal could not add this infohash (" + detail + ")."
	case errors.Is(err, os.ErrNotExist):
		return "Shoal could not add " + link + ": there is no such file."
	}
	return "Shoal could not add " + link + ": it is not a .torrent file Shoal can read (" + detail + "). It may be damaged or incomplete."
}
