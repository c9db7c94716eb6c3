package tracker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxHTTPBody caps the tracker response body read before bencode decoding.
const MaxHTTPBody = 1 << 20

// announceHTTP performs a BEP 3 GET announce with compact=1.
func (c *Client) announceHTTP(ctx context.Context, u *url.URL, req Request) (Response, error) {
	body, status, err := c.getHTTP(ctx, announceURLWithQuery(u, req))
	if err != nil {
		return Response{}, fmt.Errorf("tracker: http announce: %w", err)
	}
	r, perr := ParseHTTPResponse(body)
	if status/100 != 2 && !errors.Is(perr, ErrTrackerFailure) {
		return Response{}, fmt.Errorf("tracker: http announce: %w: %d %s", ErrHTTPStatus, status, http.StatusText(status))
	}
	if perr != nil {
		return r, fmt.Errorf("tracker: http announce: %w", perr)
	}
	return r, nil
}

// httpClient builds a client whose every connection goes through c.Dial and
// which ignores proxy settings from the environment.
func (c *Client) httpClient() *http.Client {
	tr := &http.Transport{
		Proxy:             nil,
		DialContext:       c.Dial,
		TLSClientConfig:   c.TLSConfig,
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr}
}

// readCapped reads all of r, failing if it holds more than limit bytes.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrBadResponse, limit)
	}
	return b, nil
}

// announceURLWithQuery appends the announce parameters to u, keeping any
// query string already present in the announce URL.
func announceURLWithQuery(u *url.URL, req Request) string {
	var q strings.Builder
	q.WriteString("info_hash=")
	q.WriteString(escapeBinary(req.InfoHash[:]))
	q.WriteString("&peer_id=")
	q.WriteString(escapeBinary(req.PeerID[:]))
	add := func(k, v string) {
		q.WriteString("&" + k + "=" + url.QueryEscape(v))
	}
	add("port", strconv.FormatUint(uint64(req.Port), 10))
	add("uploaded", strconv.FormatInt(req.Uploaded, 10))
	add("downloaded", strconv.FormatInt(req.Downloaded, 10))
	add("left", strconv.FormatInt(req.Left, 10))
	add("compact", "1")
	if req.Event != EventNone {
		add("event", string(req.Event))
	}
	if req.NumWant > 0 {
		add("numwant", strconv.FormatInt(int64(req.NumWant), 10))
	}
	if req.Key != 0 {
		add("key", fmt.Sprintf("%08x", req.Key))
	}
	if req.TrackerID != "" {
		add("trackerid", req.TrackerID)
	}
	if v6 := ipv6Param(req); v6 != "" {
		add("ipv6", v6)
	}
	v := *u
	v.Fragment, v.RawFragment = "", ""
	if v.RawQuery != "" {
		v.RawQuery += "&" + q.String()
	} else {
		v.RawQuery = q.String()
	}
	return v.String()
}

// ipv6Param is BEP 7's "ipv6" value: the bare address when its port is
// the announce's port (or unset), "[addr]:port" otherwise; "" when the
// request has no IPv6 address.
func ipv6Param(req Request) string {
	a := req.IPv6.Addr()
	if !a.IsValid() || !a.Is6() || a.Is4In6() {
		return ""
	}
	if p := req.IPv6.Port(); p != 0 && p != req.Port {
		return req.IPv6.String()
	}
	return a.String()
}

// escapeBinary percent-encodes every byte that is not an RFC 3986
// unreserved character, as trackers expect for info_hash and peer_id.
func escapeBinary(b []byte) string {
	const hexDigits = "0123456789ABCDEF"
	var s strings.Builder
	s.Grow(3 * len(b))
	for _, c := range b {
		if isUnreserved(c) {
			s.WriteByte(c)
			continue
		}
		s.WriteByte('%')
		s.WriteByte(hexDigits[c>>4])
		s.WriteByte(hexDigits[c&15])
	}
	return s.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
