package sim

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/shoalp2p/shoal/engine/overlay"
)

// File is one item of the catalogue.
type File struct {
	ID       int
	Entry    overlay.Entry
	Replicas []int // nodes sharing it
	rare     string
	topic    string
}

// Catalogue is every file of a simulation and where it is shared.
type Catalogue struct {
	Files  []File
	Shares [][]int // per node: file ids
	tokens []string
	posts  map[string][]int // token -> files
	byHash map[[20]byte]int
}

// catalogue sizes: names take two topic words (Zipf over a small
// vocabulary, so that they repeat), one title word from a large one, and
// sometimes a year or a quality tag.
const (
	topicWords = 2000
	titleWords = 200000
)

var tags = []string{"1080p", "720p", "flac", "mp3", "x264", "remastered", "live", "deluxe"}

// NewCatalogue places files on nodes: file i (by popularity rank) has
// max(1, round(maxReplicas / i^alpha)) replicas on distinct random nodes,
// with files added until the shares average perNode per node, so most
// files have a single copy.
func NewCatalogue(rng *rand.Rand, nodes, perNode int, maxReplicas int, alpha float64) *Catalogue {
	c := &Catalogue{Shares: make([][]int, nodes), posts: make(map[string][]int), byHash: make(map[[20]byte]int)}
	topic := rand.NewZipf(rng, 1.1, 1, topicWords-1)
	total := 0
	for i := 1; total < nodes*perNode; i++ {
		r := max(1, int(math.Round(float64(maxReplicas)/math.Pow(float64(i), alpha))))
		r = min(r, nodes)
		f := c.newFile(rng, len(c.Files), topic)
		f.Replicas = pickNodes(rng, nodes, r)
		for _, n := range f.Replicas {
			c.Shares[n] = append(c.Shares[n], f.ID)
		}
		total += r
		c.Files = append(c.Files, f)
		c.byHash[f.Entry.InfoHash] = f.ID
		c.index(f)
	}
	c.tokens = make([]string, 0, len(c.posts))
	for t := range c.posts {
		c.tokens = append(c.tokens, t)
	}
	sort.Strings(c.tokens)
	return c
}

// newFile makes file id's entry.
func (c *Catalogue) newFile(rng *rand.Rand, id int, topic *rand.Zipf) File {
	t1, t2 := word(int(topic.Uint64())), word(int(topic.Uint64()))
	title := word(topicWords + id*7919%titleWords)
	name := []string{accent(rng, t1), t2, strings.ToUpper(title[:1]) + title[1:]}
	if rng.IntN(3) == 0 {
		name = append(name, fmt.Sprint(1960+rng.IntN(65)))
	}
	if rng.IntN(2) == 0 {
		name = append(name, tags[rng.IntN(len(tags))])
	}
	var files []string
	for k := range 1 + rng.IntN(3) {
		files = append(files, fmt.Sprintf("%s/%02d %s.%s", strings.Join(name, " "), k+1, word(int(topic.Uint64())), "dat"))
	}
	ih := sha1.Sum(binary.BigEndian.AppendUint64([]byte("sim file"), uint64(id)))
	return File{ID: id, rare: title, topic: t2, Entry: overlay.Entry{InfoHash: ih, Name: strings.Join(name, " "),
		Size: int64(1+rng.IntN(4000)) << 20, Files: files}}
}

// word returns the i-th pseudo-word: syllables from i's digits in base 45.
func word(i int) string {
	const cons, vows = "bcdfghjklmnprstvz", "aeiou"
	var b strings.Builder
	for n := i + 45; n > 0; n /= 45 {
		d := n % 45
		b.WriteByte(cons[d%len(cons)])
		b.WriteByte(vows[d%len(vows)])
		if d%3 == 0 {
			b.WriteByte(cons[(d/3)%len(cons)])
		}
	}
	return b.String()
}

// accent sometimes writes an e or a as é or á, which queries written
// without accents must still find.
func accent(rng *rand.Rand, w string) string {
	if rng.IntN(10) != 0 {
		return w
	}
	w = strings.Replace(w, "e", "é", 1)
	return strings.Replace(w, "a", "á", 1)
}

func pickNodes(rng *rand.Rand, nodes, r int) []int {
	if r*3 > nodes {
		return rng.Perm(nodes)[:r]
	}
	seen := make(map[int]bool, r)
	out := make([]int, 0, r)
	for len(out) < r {
		n := rng.IntN(nodes)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// fold lower-cases and drops diacritics, as the FTS5 index does for the
// Latin letters the catalogue uses.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// tokensOf splits text into folded words.
func tokensOf(s string) []string {
	return strings.FieldsFunc(fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

func (c *Catalogue) index(f File) {
	seen := map[string]bool{}
	for _, t := range tokensOf(f.Entry.Name + "\n" + strings.Join(f.Entry.Files, "\n")) {
		if !seen[t] {
			seen[t] = true
			c.posts[t] = append(c.posts[t], f.ID)
		}
	}
}

// Matching returns the files whose name or paths have, for every query
// word, a word starting with it: what the index answers.
func (c *Catalogue) Matching(query string) []int {
	var result []int
	for i, w := range tokensOf(query) {
		lo := sort.SearchStrings(c.tokens, w)
		var ids []int
		for j := lo; j < len(c.tokens) && strings.HasPrefix(c.tokens[j], w); j++ {
			ids = append(ids, c.posts[c.tokens[j]]...)
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if i == 0 {
			result = ids
		} else {
			result = intersect(result, ids)
		}
	}
	return result
}

func intersect(a, b []int) []int {
	var out []int
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// Query is one search of the workload.
type Query struct {
	Words  string
	Target int  // the file it was made from
	ByPop  bool // target picked by popularity (else uniformly)
}

// NewQuery picks a target file, uniformly or by replica count, and makes
// words from its name: the title word (sometimes only its first letters)
// and, mostly, a topic word.
func (c *Catalogue) NewQuery(rng *rand.Rand, byPop bool, cum []int) Query {
	var f File
	if byPop {
		x := rng.IntN(cum[len(cum)-1])
		f = c.Files[sort.SearchInts(cum, x+1)]
	} else {
		f = c.Files[rng.IntN(len(c.Files))]
	}
	title := f.rare
	if rng.IntN(4) == 0 {
		title = title[:min(len(title), 4+rng.IntN(2))]
	}
	words := title
	if rng.IntN(4) != 0 {
		words = f.topic + " " + title
	}
	return Query{Words: words, Target: f.ID, ByPop: byPop}
}

// replicaCum returns the running sum of replica counts, for picking files
// by popularity.
func (c *Catalogue) replicaCum() []int {
	cum := make([]int, len(c.Files))
	total := 0
	for i, f := range c.Files {
		total += len(f.Replicas)
		cum[i] = total
	}
	return cum
}
