package wire

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestMetadataPieceLen(t *testing.T) {
	t.Parallel()
	tests := []struct{ total, piece, want int }{
		{0, 0, 0}, {1, 0, 1}, {16384, 0, 16384}, {16384, 1, 0}, {16385, 1, 1},
		{40000, 2, 40000 - 32768}, {40000, 3, 0}, {40000, -1, 0}, {-5, 0, 0},
	}
	for _, tc := range tests {
		if got := MetadataPieceLen(tc.total, tc.piece); got != tc.want {
			t.Errorf("MetadataPieceLen(%d, %d) = %d, want %d", tc.total, tc.piece, got, tc.want)
		}
	}
}

func TestMetadataMarshal(t *testing.T) {
	t.Parallel()
	full := bytes.Repeat([]byte{'x'}, MetadataPieceSize)
	tests := []struct {
		m    MetadataMsg
		want string
	}{
		{MetadataMsg{Type: MetadataRequest, Piece: 0}, "d8:msg_typei0e5:piecei0ee"},
		{MetadataMsg{Type: MetadataReject, Piece: 3}, "d8:msg_typei2e5:piecei3ee"},
		{MetadataMsg{Type: MetadataData, Piece: 1, TotalSize: 16390, Data: []byte("abcdef")},
			"d8:msg_typei1e5:piecei1e10:total_sizei16390eeabcdef"},
		{MetadataMsg{Type: MetadataData, Piece: 0, TotalSize: 40000, Data: full},
			"d8:msg_typei1e5:piecei0e10:total_sizei40000ee" + string(full)},
	}
	for _, tc := range tests {
		b, err := tc.m.Marshal()
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%+v) = %.60q, %v; want %.60q", tc.m.Type, b, err, tc.want)
			continue
		}
		got, err := ParseMetadataMsg(b)
		if err != nil || !reflect.DeepEqual(got, tc.m) {
			t.Errorf("round trip of type %d = %+v, %v", tc.m.Type, got.Type, err)
		}
	}
}

func TestMetadataMarshalRejectsInvalid(t *testing.T) {
	t.Parallel()
	for _, m := range []MetadataMsg{
		{Type: MetadataRequest, Piece: -1},
		{Type: MetadataRequest, Piece: 1, Data: []byte("x")},
		{Type: MetadataData, Piece: 0, TotalSize: 10, Data: []byte("short")},
		{Type: MetadataData, Piece: 1, TotalSize: 10, Data: []byte("0123456789")},
		{Type: MetadataData, Piece: 0, TotalSize: MaxMetadataSize + 1, Data: make([]byte, MetadataPieceSize)},
	} {
		if _, err := m.Marshal(); !errors.Is(err, ErrMalformed) {
			t.Errorf("Marshal(%+v) error = %v, want ErrMalformed", m, err)
		}
	}
}

// metadataCases seed FuzzParseMetadataMsg; a nil want means ErrMalformed.
var metadataCases = []decodeCase[MetadataMsg]{
	{"request", "d8:msg_typei0e5:piecei2ee", &MetadataMsg{Type: MetadataRequest, Piece: 2}},
	{"data with d and e in block", "d8:msg_typei1e5:piecei0e10:total_sizei5eedeedd",
		&MetadataMsg{Type: MetadataData, TotalSize: 5, Data: []byte("deedd")}},
	{"extra keys", "d1:ai1e8:msg_typei2e5:piecei0e1:zlee", &MetadataMsg{Type: MetadataReject}},
	{"unknown type", "d8:msg_typei7e5:piecei1eeXY", &MetadataMsg{Type: 7, Piece: 1, Data: []byte("XY")}},
	{"empty", "", nil},
	{"not a dict", "li1ee", nil},
	{"missing piece", "d8:msg_typei0ee", nil},
	{"missing msg_type", "d5:piecei0ee", nil},
	{"negative piece", "d8:msg_typei0e5:piecei-1ee", nil},
	{"piece past max", "d8:msg_typei0e5:piecei512ee", nil},
	{"negative type", "d8:msg_typei-1e5:piecei0ee", nil},
	{"request with data", "d8:msg_typei0e5:piecei0eeX", nil},
	{"data without total_size", "d8:msg_typei1e5:piecei0eeX", nil},
	{"data shorter than piece", "d8:msg_typei1e5:piecei0e10:total_sizei5eeabcd", nil},
	{"data longer than piece", "d8:msg_typei1e5:piecei0e10:total_sizei5eeabcdef", nil},
	{"piece past total", "d8:msg_typei1e5:piecei1e10:total_sizei5eeabcde", nil},
	{"total_size too big", "d8:msg_typei1e5:piecei0e10:total_sizei8388609ee" + strings.Repeat("a", MetadataPieceSize), nil},
	{"block over 16 KiB", "d8:msg_typei1e5:piecei0e10:total_sizei16385ee" + strings.Repeat("a", MetadataPieceSize+1), nil},
	{"truncated dict", "d8:msg_typei1e5:piecei0e", nil},
	{"string piece", "d8:msg_typei0e5:piece1:0e", nil},
	{"dict too long", "d1:x2000:" + strings.Repeat("a", 2000) + "8:msg_typei0e5:piecei0ee", nil},
	{"nesting bomb", "d1:x" + strings.Repeat("l", 50) + strings.Repeat("e", 50) + "8:msg_typei0e5:piecei0ee", nil},
}

func TestParseMetadataMsg(t *testing.T) {
	t.Parallel()
	checkDecodes(t, metadataCases, ParseMetadataMsg)
}
