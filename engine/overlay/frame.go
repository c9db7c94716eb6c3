package overlay

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/google/uuid"
)

// Magic opens every overlay connection; the dialer writes it before its
// hello frame. It must never start with byte 19, which opens a BitTorrent
// handshake on the same port.
const Magic = "SHOAL-OVERLAY/1\n"

// MaxFrameSize is the largest frame payload either side accepts.
const MaxFrameSize = 1 << 20

// Sentinel errors callers can branch on.
var (
	// ErrFrameTooLarge means a frame's length header exceeded MaxFrameSize.
	ErrFrameTooLarge = errors.New("overlay: frame too large")
	// ErrMalformed means a frame could not be decoded or failed validation.
	ErrMalformed = errors.New("overlay: malformed frame")
	// ErrBadMagic means the connection did not start with Magic.
	ErrBadMagic = errors.New("overlay: bad magic")
)

// Message types.
const (
	typeHello    = "hello"
	typeWelcome  = "welcome"
	typeError    = "error"
	typePing     = "ping"
	typeShare    = "share"
	typeQuery    = "query"
	typeHits     = "hits"
	typeAdvert   = "advert"   // a supernode's keyword table, links and load, flooded
	typeDigest   = "digest"   // the adverts a supernode holds (origin, seq), on link up
	typeTableReq = "tablereq" // "send me origin's full table"
	typeMode     = "mode"     // leaf: standby or primary link
	typeInvite   = "invite"   // supernode to leaf: become a supernode
)

// Roles named in a hello frame.
const (
	roleLeaf  = "leaf"
	roleSuper = "super"
)

// Structural caps checked by the decoder; the semantic limits (entries per
// leaf, query words, rates) are enforced by the supernode.
const (
	maxAddrLen      = 300
	maxCodeLen      = 64
	maxErrTextLen   = 1024
	maxListedSupers = 64
	maxShareItems   = 10000
	maxHopsOnWire   = 255
	maxHitsPerFrame = 1000
	maxWordsLen     = 4096
	maxLinksListed  = 64
	maxOrigins      = 4096
	maxQueryKeys    = 64
	maxRouteLen     = 2048
	maxAskedListed  = maxRouteLen + 1 // a delivery tree and its origin
	maxTableWire    = 1 << 19
)

// hash20 is an infohash that travels as 40 lower-case hex digits.
type hash20 [20]byte

// MarshalText implements encoding.TextMarshaler.
func (h hash20) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(h[:])), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it wants exactly 40 hex digits.
func (h *hash20) UnmarshalText(b []byte) error { return unmarshalHex(h[:], b, "infohash") }

// hash32 is a BEP 52 SHA-256 hash (v2 infohash, pieces root) that travels
// as 64 lower-case hex digits.
type hash32 [32]byte

// MarshalText implements encoding.TextMarshaler.
func (h hash32) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(h[:])), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it wants exactly 64 hex digits.
func (h *hash32) UnmarshalText(b []byte) error { return unmarshalHex(h[:], b, "v2 hash") }

// unmarshalHex decodes exactly 2*len(dst) hex digits from b into dst; what
// names the value in errors.
func unmarshalHex(dst, b []byte, what string) error {
	if len(b) != 2*len(dst) {
		return fmt.Errorf("%s: want %d hex digits, got %d bytes", what, 2*len(dst), len(b))
	}
	if _, err := hex.Decode(dst, b); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// wireEntry is one shared item in a share frame. V2 and Roots are new in
// this version; older supernodes ignore them.
type wireEntry struct {
	InfoHash hash20   `json:"ih"`
	Name     string   `json:"name"`
	Size     int64    `json:"size"`
	Files    []string `json:"files,omitempty"`
	V2       *hash32  `json:"v2,omitempty"`    // BEP 52 infohash
	Roots    []hash32 `json:"roots,omitempty"` // BEP 52 pieces roots of its files
}

// wireHit is one grouped result in a hits frame.
type wireHit struct {
	InfoHash hash20   `json:"ih"`
	Name     string   `json:"name"`
	Names    []string `json:"names,omitempty"`
	Size     int64    `json:"size"`
	Files    []string `json:"files,omitempty"`
	Sources  []string `json:"src,omitempty"`
	V2       *hash32  `json:"v2,omitempty"`    // BEP 52 infohash, where known
	Roots    []hash32 `json:"roots,omitempty"` // BEP 52 pieces roots of its files, where known
	DHT      bool     `json:"dht,omitempty"`   // indexed from the BitTorrent DHT
	Swarm    int      `json:"swarm,omitempty"` // peers seen in its swarm
	// Scraped says seeds and leechers are known (BEP 33 scrape).
	Scraped  bool `json:"scraped,omitempty"`
	Seeds    int  `json:"seeds,omitempty"`
	Leechers int  `json:"leechers,omitempty"`
}

// message is every frame's payload; Type says which fields matter.
type message struct {
	Type       string      `json:"type"`
	Role       string      `json:"role,omitempty"`  // hello
	Addr       string      `json:"addr,omitempty"`  // hello (super), welcome
	Port       int         `json:"port,omitempty"`  // hello (leaf): its BitTorrent port
	ID         string      `json:"id,omitempty"`    // query, hits, error (query UUID)
	Words      string      `json:"words,omitempty"` // query
	Hops       int         `json:"hops,omitempty"`  // query: hops it may still travel
	Add        []wireEntry `json:"add,omitempty"`   // share
	Del        []hash20    `json:"del,omitempty"`   // share
	Hits       []wireHit   `json:"hits,omitempty"`  // hits
	Code       string      `json:"code,omitempty"`  // error
	Text       string      `json:"text,omitempty"`  // error
	Supernodes []string    `json:"supernodes,omitempty"`

	QKeys []uint32   `json:"keys,omitempty"`  // query: keyword-table keys of the words
	Route []routeHop `json:"route,omitempty"` // query: the rest of its delivery tree

	Origin string        `json:"origin,omitempty"` // advert, tablereq
	Seq    uint64        `json:"seq,omitempty"`    // advert
	Base   uint64        `json:"base,omitempty"`   // advert: Table is a change from this seq; 0: whole table
	Bits   int           `json:"bits,omitempty"`   // advert: table size, log2
	Table  []byte        `json:"table,omitempty"`  // advert: set (or flipped) bit positions, varint gaps
	Links  []string      `json:"links,omitempty"`  // advert: the origin's neighbours
	Leaves int           `json:"leaves,omitempty"` // advert: leaves linked
	Cap    int           `json:"cap,omitempty"`    // advert: leaves it takes at most
	Digest []digestEntry `json:"digest,omitempty"` // digest

	Answered string   `json:"answered,omitempty"` // hits: this supernode has finished answering the query
	Asked    []string `json:"asked,omitempty"`    // hits (from the query's first supernode): every supernode it went to

	Standby   bool `json:"standby,omitempty"`   // hello (leaf), mode: entries stay out of the keyword table
	Capable   bool `json:"capable,omitempty"`   // hello (leaf): could become a supernode
	Reachable bool `json:"reachable,omitempty"` // hello (leaf): has accepted inbound overlay connections
	Uptime    int  `json:"uptime,omitempty"`    // hello (leaf): seconds up

	Target string `json:"target,omitempty"` // dial-back answer: the address the helper dialled

	qid uuid.UUID // parsed ID, set by validate
}

// routeHop is one node of a query's delivery tree and its parent there.
type routeHop [2]string

// digestEntry names one advert a supernode holds.
type digestEntry struct {
	Origin string `json:"o"`
	Seq    uint64 `json:"s"`
}

// encodeFrame returns the length-prefixed frame for m.
func encodeFrame(m *message) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, 0, 0})
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("overlay: encode %s: %w", m.Type, err)
	}
	b := buf.Bytes()
	n := len(b) - 4
	if n > MaxFrameSize {
		return nil, fmt.Errorf("overlay: encode %s (%d bytes): %w", m.Type, n, ErrFrameTooLarge)
	}
	binary.BigEndian.PutUint32(b, uint32(n))
	return b, nil
}

// writeFrame writes m as one frame.
func writeFrame(w io.Writer, m *message) error {
	b, err := encodeFrame(m)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("overlay: write %s: %w", m.Type, err)
	}
	return nil
}

// readFrame reads and decodes one frame. An oversized length header yields
// ErrFrameTooLarge without reading the payload.
func readFrame(r io.Reader) (*message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("overlay: read frame header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrameSize {
		return nil, fmt.Errorf("overlay: read frame: %d bytes: %w", n, ErrFrameTooLarge)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, fmt.Errorf("overlay: read frame payload: %w", err)
	}
	return decodeMessage(payload)
}

// pingMessage and pingFrame are the keepalive, encoded once: links send
// and read thousands of them a second in a simulation.
var (
	pingMessage = &message{Type: typePing}
	pingFrame   = frameOfPayload([]byte(`{"type":"ping"}` + "\n")) // what encodeFrame makes of pingMessage
)

func frameOfPayload(p []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
}

// decodeMessage parses and validates one frame payload.
func decodeMessage(payload []byte) (*message, error) {
	if bytes.Equal(payload, pingFrame[4:]) {
		return pingMessage, nil
	}
	var m message
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("overlay: decode frame: %w: %w", ErrMalformed, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("overlay: decode %q frame: %w: %w", m.Type, ErrMalformed, err)
	}
	return &m, nil
}

// validate checks the structure of a decoded message.
func (m *message) validate() error {
	if m.Hops < 0 || m.Hops > maxHopsOnWire || m.Uptime < 0 {
		return fmt.Errorf("hops %d or uptime %d out of range", m.Hops, m.Uptime)
	}
	if len(m.Supernodes) > maxListedSupers {
		return fmt.Errorf("%d supernodes listed", len(m.Supernodes))
	}
	if m.Target != "" {
		if err := checkHostPort(m.Target); err != nil {
			return err
		}
	}
	switch m.Type {
	case typeHello:
		return m.validateHello()
	case typeWelcome:
		return checkHostPort(m.Addr)
	case typeError:
		return m.validateError()
	case typePing:
		return nil
	case typeShare:
		if len(m.Add)+len(m.Del) > maxShareItems {
			return fmt.Errorf("%d share items", len(m.Add)+len(m.Del))
		}
		return nil
	case typeQuery:
		return m.validateQuery()
	case typeHits:
		return m.validateHits()
	case typeAdvert:
		return m.validateAdvert()
	case typeDigest:
		return m.validateDigest()
	case typeTableReq:
		return checkHostPort(m.Origin)
	case typeMode, typeInvite:
		return nil
	}
	return fmt.Errorf("unknown type %q", m.Type)
}

func (m *message) validateQuery() error {
	if len(m.Words) > maxWordsLen {
		return fmt.Errorf("query words: %d bytes", len(m.Words))
	}
	if len(m.QKeys) > maxQueryKeys || len(m.Route) > maxRouteLen {
		return fmt.Errorf("query: %d keys, %d route hops", len(m.QKeys), len(m.Route))
	}
	for _, h := range m.Route {
		if checkHostPort(h[0]) != nil || checkHostPort(h[1]) != nil {
			return fmt.Errorf("query route: bad address in %q", h)
		}
	}
	return m.parseID(true)
}

func (m *message) validateAdvert() error {
	if err := checkHostPort(m.Origin); err != nil {
		return err
	}
	switch {
	case m.Seq == 0 || m.Base >= m.Seq:
		return fmt.Errorf("advert seq %d base %d", m.Seq, m.Base)
	case m.Bits < 0 || m.Bits > 32 || len(m.Table) > maxTableWire:
		return fmt.Errorf("advert table: 2^%d bits, %d bytes", m.Bits, len(m.Table))
	case len(m.Links) > maxLinksListed || m.Leaves < 0 || m.Cap < 0:
		return fmt.Errorf("advert: %d links, leaves %d, cap %d", len(m.Links), m.Leaves, m.Cap)
	}
	for _, a := range m.Links {
		if err := checkHostPort(a); err != nil {
			return err
		}
	}
	return nil
}

func (m *message) validateDigest() error {
	if len(m.Digest) > maxOrigins {
		return fmt.Errorf("digest: %d origins", len(m.Digest))
	}
	for _, d := range m.Digest {
		if err := checkHostPort(d.Origin); err != nil {
			return err
		}
	}
	return nil
}

func (m *message) validateHello() error {
	switch m.Role {
	case roleLeaf:
		if m.Port < 1 || m.Port > 65535 {
			return fmt.Errorf("leaf port %d", m.Port)
		}
		return nil
	case roleSuper:
		return checkHostPort(m.Addr)
	case roleProbe:
		return m.parseID(false)
	case roleDialBack:
		if m.Port < 1 || m.Port > 65535 {
			return fmt.Errorf("dial-back port %d", m.Port)
		}
		return m.parseID(true)
	}
	return fmt.Errorf("unknown role %q", m.Role)
}

func (m *message) validateError() error {
	if m.Code == "" || len(m.Code) > maxCodeLen || len(m.Text) > maxErrTextLen {
		return errors.New("bad error code or text")
	}
	for _, a := range m.Supernodes {
		if err := checkHostPort(a); err != nil {
			return err
		}
	}
	return m.parseID(false)
}

func (m *message) validateHits() error {
	if len(m.Hits) > maxHitsPerFrame {
		return fmt.Errorf("%d hits", len(m.Hits))
	}
	for i := range m.Hits {
		if len(m.Hits[i].Sources) > maxSourcesPerHit || len(m.Hits[i].Files) > maxFilesPerEntry || len(m.Hits[i].Names) > maxNamesPerHit {
			return errors.New("hit lists too long")
		}
	}
	if err := m.validateAnswer(); err != nil {
		return err
	}
	return m.parseID(true)
}

// parseID fills qid from ID; required says whether an empty ID is an error.
func (m *message) parseID(required bool) error {
	if m.ID == "" && !required {
		return nil
	}
	id, err := uuid.Parse(m.ID)
	if err != nil {
		return fmt.Errorf("query id: %w", err)
	}
	m.qid = id
	return nil
}

// checkHostPort accepts "host:port" with a numeric port in 1..65535.
func checkHostPort(a string) error {
	if a == "" || len(a) > maxAddrLen {
		return fmt.Errorf("address %q: bad length", a)
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("address %q: %w", a, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 || host == "" {
		return fmt.Errorf("address %q: bad host or port", a)
	}
	return nil
}
