package overlay

import "sync/atomic"

// Traffic counts the frames and bytes (length header included) a node
// sent, by kind.
type Traffic struct {
	QueryFrames, QueryBytes   uint64
	HitFrames, HitBytes       uint64
	AdvertFrames, AdvertBytes uint64 // adverts, digests and table requests
	OtherFrames, OtherBytes   uint64 // hellos, shares, pings, errors, ...
	// Frames dropped because the link's queue was full (a slow peer).
	DroppedQueries, DroppedHits, DroppedAdverts, DroppedOther uint64
}

// Add returns the sum of t and u.
func (t Traffic) Add(u Traffic) Traffic {
	return Traffic{
		QueryFrames: t.QueryFrames + u.QueryFrames, QueryBytes: t.QueryBytes + u.QueryBytes,
		HitFrames: t.HitFrames + u.HitFrames, HitBytes: t.HitBytes + u.HitBytes,
		AdvertFrames: t.AdvertFrames + u.AdvertFrames, AdvertBytes: t.AdvertBytes + u.AdvertBytes,
		OtherFrames: t.OtherFrames + u.OtherFrames, OtherBytes: t.OtherBytes + u.OtherBytes,
		DroppedQueries: t.DroppedQueries + u.DroppedQueries, DroppedHits: t.DroppedHits + u.DroppedHits,
		DroppedAdverts: t.DroppedAdverts + u.DroppedAdverts, DroppedOther: t.DroppedOther + u.DroppedOther,
	}
}

// Sub returns t minus an earlier reading u.
func (t Traffic) Sub(u Traffic) Traffic {
	return Traffic{
		QueryFrames: t.QueryFrames - u.QueryFrames, QueryBytes: t.QueryBytes - u.QueryBytes,
		HitFrames: t.HitFrames - u.HitFrames, HitBytes: t.HitBytes - u.HitBytes,
		AdvertFrames: t.AdvertFrames - u.AdvertFrames, AdvertBytes: t.AdvertBytes - u.AdvertBytes,
		OtherFrames: t.OtherFrames - u.OtherFrames, OtherBytes: t.OtherBytes - u.OtherBytes,
		DroppedQueries: t.DroppedQueries - u.DroppedQueries, DroppedHits: t.DroppedHits - u.DroppedHits,
		DroppedAdverts: t.DroppedAdverts - u.DroppedAdverts, DroppedOther: t.DroppedOther - u.DroppedOther,
	}
}

// traffic is the live counter behind Traffic.
type traffic struct {
	frames, bytes, dropped [4]atomic.Uint64
}

const (
	kindQuery = iota
	kindHits
	kindAdvert
	kindOther
)

func kindOf(typ string) int {
	switch typ {
	case typeQuery:
		return kindQuery
	case typeHits:
		return kindHits
	case typeAdvert, typeDigest, typeTableReq:
		return kindAdvert
	}
	return kindOther
}

// add counts one frame of n bytes; t may be nil.
func (t *traffic) add(typ string, n int) {
	if t == nil {
		return
	}
	k := kindOf(typ)
	t.frames[k].Add(1)
	t.bytes[k].Add(uint64(n))
}

// drop counts one frame dropped on a full queue; t may be nil.
func (t *traffic) drop(typ string) {
	if t != nil {
		t.dropped[kindOf(typ)].Add(1)
	}
}

func (t *traffic) read() Traffic {
	return Traffic{
		QueryFrames: t.frames[kindQuery].Load(), QueryBytes: t.bytes[kindQuery].Load(),
		HitFrames: t.frames[kindHits].Load(), HitBytes: t.bytes[kindHits].Load(),
		AdvertFrames: t.frames[kindAdvert].Load(), AdvertBytes: t.bytes[kindAdvert].Load(),
		OtherFrames: t.frames[kindOther].Load(), OtherBytes: t.bytes[kindOther].Load(),
		DroppedQueries: t.dropped[kindQuery].Load(), DroppedHits: t.dropped[kindHits].Load(),
		DroppedAdverts: t.dropped[kindAdvert].Load(), DroppedOther: t.dropped[kindOther].Load(),
	}
}
