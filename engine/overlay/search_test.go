package overlay

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestMergeHit(t *testing.T) {
	t.Parallel()
	merged := map[[20]byte]*Hit{}
	steps := []struct {
		in      Hit
		emit    bool
		sources []string
	}{
		{Hit{InfoHash: ih(1), Name: "a", Sources: []string{"127.0.0.1:1"}}, true, []string{"127.0.0.1:1"}},
		{Hit{InfoHash: ih(1), Name: "other name", Sources: []string{"127.0.0.1:1"}}, true, []string{"127.0.0.1:1"}},
		{Hit{InfoHash: ih(1), Name: "other name", Sources: []string{"127.0.0.1:1"}}, false, nil},
		{Hit{InfoHash: ih(1), Name: "a", Sources: []string{"127.0.0.1:2", "127.0.0.1:1"}}, true, []string{"127.0.0.1:1", "127.0.0.1:2"}},
		{Hit{InfoHash: ih(2), Name: "b"}, true, nil},
	}
	for i, st := range steps {
		got, ok := mergeHit(merged, st.in)
		if ok != st.emit {
			t.Fatalf("step %d: emit %v, want %v", i, ok, st.emit)
		}
		if ok && !slices.Equal(got.Sources, st.sources) {
			t.Fatalf("step %d: %+v", i, got)
		}
	}
	if merged[ih(1)].Name != "a" || !slices.Equal(merged[ih(1)].Names, []string{"a", "other name"}) {
		t.Fatalf("first name must stick, others listed: %q %q", merged[ih(1)].Name, merged[ih(1)].Names)
	}
	var many []string
	for i := range 3 * maxMergedSources {
		many = append(many, fmt.Sprintf("127.0.0.1:%d", 1000+i))
	}
	mergeHit(merged, Hit{InfoHash: ih(1), Sources: many})
	if n := len(merged[ih(1)].Sources); n != maxMergedSources {
		t.Fatalf("%d sources kept, cap %d", n, maxMergedSources)
	}
}

// TestSourcesMergedAcrossSupernodes: the same infohash registered on two
// supernodes comes back as one hit whose sources are the union.
func TestSourcesMergedAcrossSupernodes(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 2, meshConfig)
	waitNeighbours(t, nodes, 1, 1)
	one := startLeaf(t, "127.0.0.1:40091", 1, nodes[0].addr)
	one.SetShares([]Entry{{InfoHash: ih(60), Name: "shared twice"}})
	two := startLeaf(t, "127.0.0.1:40092", 1, nodes[1].addr)
	two.SetShares([]Entry{{InfoHash: ih(60), Name: "shared twice, renamed"}})
	waitFor(t, 5*time.Second, "registrations", func() bool {
		return indexed(nodes[0].sn, "twice") && indexed(nodes[1].sn, "twice")
	})
	searcher := startLeaf(t, "127.0.0.1:40093", 1, nodes[0].addr)
	hit := searchUntil(t, searcher, "shared twice", ih(60), "127.0.0.1:40091", "127.0.0.1:40092")
	if len(hit.Sources) != 2 {
		t.Fatalf("sources %v", hit.Sources)
	}
	names := slices.Sorted(slices.Values(hit.Names))
	if !slices.Equal(names, []string{"shared twice", "shared twice, renamed"}) {
		t.Fatalf("names %q", hit.Names)
	}
}
