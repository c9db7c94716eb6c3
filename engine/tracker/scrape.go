package tracker

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/anacrolix/torrent/bencode"
)

// ScrapeResult is what a tracker knows of one torrent's swarm.
type ScrapeResult struct {
	// Seeders is the number of peers with the whole torrent ("complete").
	Seeders int
	// Leechers is the number of peers still downloading ("incomplete").
	Leechers int
	// Completed is how many peers the tracker saw finish a download (the
	// "completed" announces; "downloaded" in an HTTP scrape).
	Completed int
}

// ErrNoScrape is returned for an HTTP tracker whose announce URL does not
// follow the scrape convention (its last path segment must begin with
// "announce"), so it has no scrape URL.
var ErrNoScrape = errors.New("tracker: tracker has no scrape URL")

// Batch sizes: BEP 15 fits about 74 hashes in one UDP scrape; HTTP keeps
// the URL a few kilobytes long.
const (
	maxUDPScrapeHashes  = 74
	maxHTTPScrapeHashes = 64
)

// BEP 15 scrape action and sizes.
const (
	actionScrape    = 2
	scrapeEntrySize = 12
)

// ScrapeURL derives the scrape URL of an announce URL by the convention of
// BEP 48: the last path segment's leading "announce" becomes "scrape"
// (http://t/x/announce?k=v → http://t/x/scrape?k=v). A udp:// URL is its
// own scrape address (BEP 15). Other HTTP URLs yield ErrNoScrape.
func ScrapeURL(announceURL string) (string, error) {
	u, err := url.Parse(announceURL)
	if err != nil {
		return "", fmt.Errorf("tracker: scrape URL: %w: %w", ErrInvalidRequest, err)
	}
	switch u.Scheme {
	case "udp":
		return announceURL, nil
	case "http", "https":
	default:
		return "", fmt.Errorf("%w: %q", ErrUnsupportedScheme, u.Scheme)
	}
	// The convention works on the URL's text: an escaped "%2F" is no
	// separator.
	p := u.EscapedPath()
	i := strings.LastIndexByte(p, '/')
	if i < 0 || !strings.HasPrefix(p[i+1:], "announce") {
		return "", fmt.Errorf("%w: %s", ErrNoScrape, u.Redacted())
	}
	p = p[:i+1] + "scrape" + p[i+1+len("announce"):]
	if u.Path, err = url.PathUnescape(p); err != nil {
		return "", fmt.Errorf("tracker: scrape URL: %w: %w", ErrInvalidRequest, err)
	}
	u.RawPath = p
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// Scrape asks the tracker behind announceURL what it knows of hashes (HTTP
// scrape convention, or BEP 15 action 2 over UDP), in batches. Hashes the
// tracker does not list are missing from the map.
func (c *Client) Scrape(ctx context.Context, announceURL string, hashes ...[20]byte) (map[[20]byte]ScrapeResult, error) {
	target, err := ScrapeURL(announceURL)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("tracker: scrape: %w: no host in %q", ErrInvalidRequest, target)
	}
	if c.Dial == nil {
		return nil, ErrNoDialer
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := make(map[[20]byte]ScrapeResult, len(hashes))
	batch := maxHTTPScrapeHashes
	if u.Scheme == "udp" {
		batch = maxUDPScrapeHashes
	}
	for len(hashes) > 0 {
		n := min(batch, len(hashes))
		if err := c.scrapeBatch(ctx, u, hashes[:n], out); err != nil {
			return out, err
		}
		hashes = hashes[n:]
	}
	return out, nil
}

// scrapeBatch scrapes one batch into out.
func (c *Client) scrapeBatch(ctx context.Context, u *url.URL, hashes [][20]byte, out map[[20]byte]ScrapeResult) error {
	if u.Scheme != "udp" {
		return c.scrapeHTTP(ctx, u, hashes, out)
	}
	call := udpCall{op: "scrape",
		build: func(id uint64, tx uint32) []byte { return marshalScrape(id, tx, hashes) },
		parse: func(pkt []byte, tx uint32, _ bool) error {
			res, err := ParseUDPScrape(pkt, tx, len(hashes))
			for i, r := range res {
				out[hashes[i]] = r
			}
			return err
		}}
	return c.roundTripUDP(ctx, u, call)
}

// scrapeHTTP sends one GET with an info_hash parameter per hash.
func (c *Client) scrapeHTTP(ctx context.Context, u *url.URL, hashes [][20]byte, out map[[20]byte]ScrapeResult) error {
	v := *u
	var q strings.Builder
	q.WriteString(v.RawQuery)
	for _, h := range hashes {
		if q.Len() > 0 {
			q.WriteByte('&')
		}
		q.WriteString("info_hash=" + escapeBinary(h[:]))
	}
	v.RawQuery = q.String()
	body, status, err := c.getHTTP(ctx, v.String())
	if err != nil {
		return fmt.Errorf("tracker: http scrape: %w", err)
	}
	files, perr := ParseHTTPScrape(body)
	if status/100 != 2 && !errors.Is(perr, ErrTrackerFailure) {
		return fmt.Errorf("tracker: http scrape: %w: %d %s", ErrHTTPStatus, status, http.StatusText(status))
	}
	if perr != nil {
		return fmt.Errorf("tracker: http scrape: %w", perr)
	}
	for _, h := range hashes {
		if r, ok := files[h]; ok {
			out[h] = r
		}
	}
	return nil
}

// getHTTP fetches target through c.Dial, reading at most MaxHTTPBody.
func (c *Client) getHTTP(ctx context.Context, target string) (body []byte, status int, err error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if c.UserAgent != "" {
		hreq.Header.Set("User-Agent", c.UserAgent)
	}
	hc := c.httpClient()
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err = readCapped(resp.Body, MaxHTTPBody)
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("read body: %w", err)
	}
	return body, resp.StatusCode, nil
}

// httpScrape is the bencoded scrape response.
type httpScrape struct {
	FailureReason string                    `bencode:"failure reason"`
	Files         map[string]httpScrapeFile `bencode:"files"`
}

// httpScrapeFile is one torrent's entry in "files".
type httpScrapeFile struct {
	Complete   int64 `bencode:"complete"`
	Downloaded int64 `bencode:"downloaded"`
	Incomplete int64 `bencode:"incomplete"`
}

// ParseHTTPScrape parses a bencoded HTTP scrape response: "files" maps
// 20-byte infohashes to complete/downloaded/incomplete counts. Keys of
// another length are skipped. A "failure reason" yields an error wrapping
// ErrTrackerFailure; undecodable input wraps ErrBadResponse.
func ParseHTTPScrape(body []byte) (map[[20]byte]ScrapeResult, error) {
	var hs httpScrape
	d := bencode.NewDecoder(bytes.NewReader(body))
	d.MaxStrLen = int64(len(body))
	if err := d.Decode(&hs); err != nil {
		return nil, fmt.Errorf("%w: bencode: %w", ErrBadResponse, err)
	}
	if hs.FailureReason != "" {
		return nil, fmt.Errorf("%w: %s", ErrTrackerFailure, hs.FailureReason)
	}
	out := make(map[[20]byte]ScrapeResult, len(hs.Files))
	for k, f := range hs.Files {
		if len(k) != 20 {
			continue
		}
		out[[20]byte([]byte(k))] = ScrapeResult{Seeders: clampCount(f.Complete),
			Leechers: clampCount(f.Incomplete), Completed: clampCount(f.Downloaded)}
	}
	return out, nil
}

// marshalScrape builds a BEP 15 scrape request for hashes.
func marshalScrape(connID uint64, tx uint32, hashes [][20]byte) []byte {
	b := make([]byte, 16, 16+20*len(hashes))
	binary.BigEndian.PutUint64(b[0:], connID)
	binary.BigEndian.PutUint32(b[8:], actionScrape)
	binary.BigEndian.PutUint32(b[12:], tx)
	for _, h := range hashes {
		b = append(b, h[:]...)
	}
	return b
}

// ParseUDPScrape parses a BEP 15 scrape response (action 2) to a request
// for n hashes with transaction id tx: one 12-byte entry (seeders,
// completed, leechers) per hash, in request order. A tracker may list fewer
// entries than asked; the result then covers the first hashes only. An
// action 3 reply yields ErrTrackerFailure; anything else malformed,
// ErrBadResponse.
func ParseUDPScrape(b []byte, tx uint32, n int) ([]ScrapeResult, error) {
	if err := checkHeader(b, tx); err != nil {
		return nil, err
	}
	switch binary.BigEndian.Uint32(b) {
	case actionScrape:
	case actionError:
		return nil, udpFailure(b)
	default:
		return nil, fmt.Errorf("%w: unexpected action %d", ErrBadResponse, binary.BigEndian.Uint32(b))
	}
	body := b[8:]
	if len(body)%scrapeEntrySize != 0 || len(body)/scrapeEntrySize > n {
		return nil, fmt.Errorf("%w: scrape response of %d bytes for %d hashes", ErrBadResponse, len(b), n)
	}
	out := make([]ScrapeResult, 0, len(body)/scrapeEntrySize)
	be := binary.BigEndian
	for ; len(body) >= scrapeEntrySize; body = body[scrapeEntrySize:] {
		out = append(out, ScrapeResult{
			Seeders:   clampCount(int64(int32(be.Uint32(body)))),
			Completed: clampCount(int64(int32(be.Uint32(body[4:])))),
			Leechers:  clampCount(int64(int32(be.Uint32(body[8:])))),
		})
	}
	return out, nil
}
