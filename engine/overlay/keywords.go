package overlay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math/bits"
	"slices"
	"unicode/utf8"

	"github.com/shoalp2p/shoal/internal/locks"
)

// Keyword tables. A supernode summarises everything its leaves share as a
// bit table (a Bloom filter with two bits per key; Gnutella's QRP and
// Gnutella2's QHT used one): every term SQLite's tokenizer produced for an
// entry is cut to the prefix lengths in prefixLens, each prefix hashed to a
// 32-bit key, and two positions derived from the key (its low Bits bits,
// and those of a second mix of it) are set. A query word becomes the terms
// SQLite makes of it; each term's key is that of its longest prefix in
// prefixLens. A table can then match a query only if it has every query
// key, so a supernode whose table lacks one cannot hold a match and the
// query is not routed to it. Terms come from SQLite itself (see
// index.terms), so folding and tokenizing agree with the FTS5 index.

// Table sizes in bits (log2). A supernode picks the smallest size that
// keeps its table sparse; receivers refuse anything above MaxTableBits or
// fuller than half, which would match nearly every query.
const (
	MinTableBits = 10
	MaxTableBits = 20 // 2^20 bits = 128 KiB
	// tableSparsity is how many bits per key a supernode aims for.
	tableSparsity = 32
)

// prefixLens are the term prefix lengths (in runes) that get keys.
var prefixLens = []int{1, 2, 3, 4, 5, 6, 7, 8, 10, 12}

// ErrTableTooLarge means a keyword table broke the size or density limit.
var ErrTableTooLarge = errors.New("overlay: keyword table too large")

// keyHash is FNV-1a followed by the murmur3 finaliser, so that low bits mix.
func keyHash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// termKeys appends the keys of every indexed prefix of term.
func termKeys(dst []uint32, term string) []uint32 {
	for cut := range prefixCuts(term) {
		dst = append(dst, keyHash(term[:cut]))
	}
	return dst
}

// queryKey is the key a query term is looked up by: its longest prefix
// whose length is in prefixLens.
func queryKey(term string) uint32 {
	cut := 0
	for c := range prefixCuts(term) {
		cut = c
	}
	return keyHash(term[:cut])
}

// prefixCuts yields, shortest first, the byte length of each prefix of
// term whose length in runes is in prefixLens.
func prefixCuts(term string) iter.Seq[int] {
	return func(yield func(int) bool) {
		n, i := 0, 0
		for _, p := range prefixLens {
			for n < p && i < len(term) {
				_, size := utf8.DecodeRuneInString(term[i:])
				i += size
				n++
			}
			if n < p || !yield(i) {
				return
			}
		}
	}
}

// entryKeys returns the distinct keys of one entry's terms.
func entryKeys(terms []string) []uint32 {
	var keys []uint32
	for _, t := range terms {
		keys = termKeys(keys, t)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// keyCounts counts, for each key, the indexed entries that have it. The
// table is the set of keys with a count above zero; version changes
// whenever that set does.
type keyCounts struct {
	mu      locks.Mutex
	m       map[uint32]int32
	version uint64 // any change to the key set
	added   uint64 // keys that appeared
	// whole is closed once the counts cover every counted entry: a
	// reopened index counts its kept entries after it has opened
	// (index.recountBehind). versions, keys and hasAll wait for it,
	// calling begin first (set with whole) so that the count has begun.
	whole chan struct{}
	begin func()
}

var closedWhole = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newKeyCounts() *keyCounts { return &keyCounts{m: make(map[uint32]int32), whole: closedWhole} }

// counting marks the counts as not whole until done is called; a reader
// calls begin before it waits. Called before k is shared.
func (k *keyCounts) counting(begin func()) (done func()) {
	c := make(chan struct{})
	k.whole, k.begin = c, begin
	return func() { close(c) }
}

// waitWhole waits until the counts are whole, letting the count begin.
func (k *keyCounts) waitWhole() {
	if k.begin != nil {
		k.begin()
	}
	<-k.whole
}

// add adds delta (+1 or -1) to every key.
func (k *keyCounts) add(keys []uint32, delta int32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range keys {
		c := k.m[key] + delta
		switch {
		case c <= 0:
			if _, ok := k.m[key]; ok {
				delete(k.m, key)
				k.version++
			}
		case c == delta:
			k.m[key] = c
			k.version++
			k.added++
		default:
			k.m[key] = c
		}
	}
}

// reset forgets every key.
func (k *keyCounts) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.m) > 0 {
		k.m = make(map[uint32]int32)
		k.version++
	}
}

// versions returns the change counters without copying anything.
func (k *keyCounts) versions() (version, added uint64) {
	k.waitWhole()
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.version, k.added
}

// keys returns the keys present.
func (k *keyCounts) keys() []uint32 {
	k.waitWhole()
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Collect(maps.Keys(k.m))
}

// size returns the number of distinct keys (so far, while the counts
// are not whole: it does not wait).
func (k *keyCounts) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// hasAll reports whether every key is present (exactly, unlike a table).
func (k *keyCounts) hasAll(keys []uint32) bool {
	k.waitWhole()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range keys {
		if k.m[key] <= 0 {
			return false
		}
	}
	return true
}

// kwTable is one keyword table of 2^bits bits.
type kwTable struct {
	bits  uint8
	words []uint64
}

func newTable(b uint8) *kwTable {
	return &kwTable{bits: b, words: make([]uint64, (1<<b+63)/64)}
}

// chooseBits picks a table size for n keys: grow when the table gets
// fuller than twice the aim, shrink when it gets four times emptier.
func chooseBits(n int, prev uint8) uint8 {
	want := uint8(MinTableBits)
	for want < MaxTableBits && 1<<want < tableSparsity*n {
		want++
	}
	if prev < MinTableBits || prev > MaxTableBits || prev == want {
		return want
	}
	size := 1 << prev
	if size >= tableSparsity/2*n && (size <= 4*tableSparsity*n || prev == MinTableBits) {
		return prev
	}
	return want
}

// buildTable makes a table of 2^b bits holding keys.
func buildTable(keys []uint32, b uint8) *kwTable {
	t := newTable(b)
	for _, k := range keys {
		t.set(t.pos(k))
		t.set(t.pos2(k))
	}
	return t
}

// pos and pos2 are the two bits of a key.
func (t *kwTable) pos(key uint32) uint32 { return key & (1<<t.bits - 1) }
func (t *kwTable) pos2(key uint32) uint32 {
	h := key * 0x9e3779b1
	h ^= h >> 15
	h *= 0x85ebca77
	h ^= h >> 13
	return h & (1<<t.bits - 1)
}
func (t *kwTable) set(p uint32)      { t.words[p/64] |= 1 << (p % 64) }
func (t *kwTable) flip(p uint32)     { t.words[p/64] ^= 1 << (p % 64) }
func (t *kwTable) get(p uint32) bool { return t.words[p/64]&(1<<(p%64)) != 0 }

// has reports whether both of key's bits are set.
func (t *kwTable) has(key uint32) bool { return t.get(t.pos(key)) && t.get(t.pos2(key)) }

// matchAll reports whether every key's bit is set. A nil table (not known
// yet) matches everything.
func (t *kwTable) matchAll(keys []uint32) bool {
	if t == nil {
		return true
	}
	for _, k := range keys {
		if !t.has(k) {
			return false
		}
	}
	return true
}

// ones returns the number of set bits.
func (t *kwTable) ones() int {
	n := 0
	for _, w := range t.words {
		n += bits.OnesCount64(w)
	}
	return n
}

// clone returns an independent copy.
func (t *kwTable) clone() *kwTable {
	return &kwTable{bits: t.bits, words: slices.Clone(t.words)}
}

// positions lists the set bits of t XOR other (other nil: of t), ascending.
func (t *kwTable) positions(other *kwTable) []uint32 {
	var out []uint32
	for i, w := range t.words {
		if other != nil {
			w ^= other.words[i]
		}
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, uint32(i*64+b))
			w &= w - 1
		}
	}
	return out
}

// encodePositions writes ascending positions as varint gaps.
func encodePositions(pos []uint32) []byte {
	out := make([]byte, 0, len(pos)*2)
	prev := uint32(0)
	for i, p := range pos {
		gap := p - prev
		if i > 0 {
			gap--
		}
		out = binary.AppendUvarint(out, uint64(gap))
		prev = p
	}
	return out
}

// decodePositions reads ascending positions written by encodePositions,
// checking that they ascend and fit a table of 2^b bits.
func decodePositions(b []byte, tbits uint8) ([]uint32, error) {
	var out []uint32
	next := uint64(0)
	for len(b) > 0 {
		gap, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("keyword table: bad varint")
		}
		b = b[n:]
		p := next + gap
		if p >= 1<<tbits {
			return nil, fmt.Errorf("keyword table: position %d beyond %d bits", p, uint64(1)<<tbits)
		}
		out = append(out, uint32(p))
		next = p + 1
	}
	return out, nil
}

// flipAll flips every position.
func (t *kwTable) flipAll(pos []uint32) {
	for _, p := range pos {
		t.flip(p)
	}
}

// applyPositions flips (or sets, into an empty table) every position
// encoded in b; on error t is unchanged.
func (t *kwTable) applyPositions(b []byte) error {
	pos, err := decodePositions(b, t.bits)
	if err != nil {
		return err
	}
	t.flipAll(pos)
	return nil
}

// checkTableBits validates a table size from the wire.
func checkTableBits(b int) error {
	if b < MinTableBits || b > MaxTableBits {
		return fmt.Errorf("%w: 2^%d bits, allowed 2^%d..2^%d", ErrTableTooLarge, b, MinTableBits, MaxTableBits)
	}
	return nil
}

// checkDensity refuses a table with more than half its bits set: it would
// attract nearly every query.
func (t *kwTable) checkDensity() error {
	if n := t.ones(); n > 1<<t.bits/2 {
		return fmt.Errorf("%w: %d of %d bits set", ErrTableTooLarge, n, 1<<t.bits)
	}
	return nil
}
