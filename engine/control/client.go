package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrNotRunning means no Shoal serves the data folder's control socket.
var ErrNotRunning = errors.New("control: no Shoal is running with this data folder")

// Call sends one request to the instance serving dataDir and returns its
// answer. A refused request comes back as an error holding the server's
// message for people; no socket, or one nobody listens on, is
// ErrNotRunning.
func Call(ctx context.Context, dataDir string, req Request) (Response, error) {
	name, done, err := shortPath(SocketPath(dataDir))
	if err != nil {
		return Response{}, fmt.Errorf("control: %w", err)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", name)
	done()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return Response{}, fmt.Errorf("%w (%s)", ErrNotRunning, dataDir)
		}
		return Response{}, fmt.Errorf("control: connect: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(time.Minute))
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, fmt.Errorf("control: %w", err)
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		return Response{}, fmt.Errorf("control: send: %w", ctxOr(ctx, err))
	}
	r, err := readResponse(c)
	if err != nil && r.Error == "" {
		err = fmt.Errorf("control: read answer: %w", ctxOr(ctx, err))
	}
	return r, err
}

// ctxOr is ctx's error once it has ended (closing the connection then
// makes reads fail with a less telling error), else err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func readResponse(c net.Conn) (Response, error) {
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64<<10), MaxResponseLine)
	if !sc.Scan() {
		err := sc.Err()
		if err == nil {
			err = errors.New("the instance closed the connection without answering")
		}
		return Response{}, err
	}
	var r Response
	if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
		return Response{}, err
	}
	if !r.OK {
		if r.Error == "" {
			r.Error = "Shoal refused the request without saying why."
		}
		return r, errors.New(r.Error)
	}
	return r, nil
}

// GetStatus asks the instance serving dataDir for its state.
func GetStatus(ctx context.Context, dataDir string) (Status, error) {
	return callStatus(ctx, dataDir, CmdStatus)
}

// CheckReach asks the instance serving dataDir to test whether the
// Internet can reach it (a supernode dials it back) and returns its
// status after the test. It can take up to about 20 s.
func CheckReach(ctx context.Context, dataDir string) (Status, error) {
	return callStatus(ctx, dataDir, CmdReach)
}

// callStatus sends cmd, whose answer must carry a status, and returns it.
func callStatus(ctx context.Context, dataDir, cmd string) (Status, error) {
	r, err := Call(ctx, dataDir, Request{Cmd: cmd})
	if err != nil {
		return Status{}, err
	}
	if r.Status == nil {
		return Status{}, fmt.Errorf("control: the instance answered %s without a status", cmd)
	}
	return *r.Status, nil
}

// Add hands a link to the instance serving dataDir and returns the
// infohash it started. A file path (or file:// URL) is made absolute here, since the
// instance's working folder is not ours.
func Add(ctx context.Context, dataDir, link string) (string, error) {
	link, err := ResolveLink(link)
	if err != nil {
		return "", err
	}
	r, err := Call(ctx, dataDir, Request{Cmd: CmdAdd, Link: link})
	if err != nil {
		return "", err
	}
	return r.Added, nil
}

// Show asks the instance serving dataDir to raise its window; false means
// it has none (a daemon).
func Show(ctx context.Context, dataDir string) (bool, error) {
	r, err := Call(ctx, dataDir, Request{Cmd: CmdShow})
	if err != nil {
		return false, err
	}
	return r.Shown, nil
}

// ResolveLink makes a link that names a file (a path or a file:// URL, as
// file managers pass) an absolute path; magnet links and infohashes are
// returned as they are.
func ResolveLink(link string) (string, error) {
	if u, err := url.Parse(link); err == nil && u.Scheme == "file" {
		link = u.Path
	}
	if !isPathLike(link) {
		return link, nil
	}
	abs, err := filepath.Abs(link)
	if err != nil {
		return "", fmt.Errorf("control: %s: %w", link, err)
	}
	return abs, nil
}
