package wire

import (
	"reflect"
	"strings"
	"testing"
)

func TestExtHandshakeMarshal(t *testing.T) {
	t.Parallel()
	h := ExtHandshake{
		M: map[string]int{ExtMetadataName: 1, ExtPEXName: 2}, V: "Shoal 0.1", P: 6881,
		MetadataSize: 1000, Reqq: 250, YourIP: []byte{127, 0, 0, 1},
	}
	b, err := h.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "d1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei1000e1:pi6881e4:reqqi250e1:v9:Shoal 0.16:yourip4:\x7f\x00\x00\x01e"
	if string(b) != want {
		t.Fatalf("Marshal = %q, want %q", b, want)
	}
	got, err := ParseExtHandshake(b)
	if err != nil || !reflect.DeepEqual(got, h) {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, h)
	}
	empty, err := ExtHandshake{}.Marshal()
	if err != nil || string(empty) != "d1:mdee" {
		t.Fatalf("empty Marshal = %q, %v; want d1:mdee", empty, err)
	}
}

// extHandshakeCases seed FuzzParseExtHandshake; a nil want means ErrMalformed.
var extHandshakeCases = []decodeCase[ExtHandshake]{
	{"minimal", "d1:mdee", &ExtHandshake{M: map[string]int{}}},
	{"libtorrent style",
		"d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e1:pi51413e4:reqqi500e11:upload_onlyi1e1:v17:qBittorrent/4.6.26:yourip4:\x7f\x00\x00\x01e",
		&ExtHandshake{M: map[string]int{"lt_donthave": 7, "share_mode": 8, "upload_only": 3, "ut_holepunch": 4,
			"ut_metadata": 2, "ut_pex": 1}, V: "qBittorrent/4.6.2", P: 51413, MetadataSize: 31235, Reqq: 500,
			YourIP: []byte{127, 0, 0, 1}}},
	{"disabled extension", "d1:md6:ut_pexi0eee", &ExtHandshake{M: map[string]int{"ut_pex": 0}}},
	{"no m", "d1:v3:abce", &ExtHandshake{M: map[string]int{}, V: "abc"}},
	{"bad field types ignored", "d1:md1:ai1e1:b3:xyz1:ci300e1:di-1ee1:pi70000e4:reqqi-5e1:vi5e6:yourip3:abce",
		&ExtHandshake{M: map[string]int{"a": 1}}},
	{"m not a dict", "d1:m3:abc1:v1:xe", &ExtHandshake{M: map[string]int{}, V: "x"}},
	{"ipv6 yourip", "d6:yourip16:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01e",
		&ExtHandshake{M: map[string]int{}, YourIP: []byte{15: 1}}},
	{"max metadata size", "d13:metadata_sizei8388608ee", &ExtHandshake{M: map[string]int{}, MetadataSize: MaxMetadataSize}},
	{"empty", "", nil},
	{"list", "le", nil},
	{"integer", "i1e", nil},
	{"truncated", "d1:md11:ut_metadatai1e", nil},
	{"trailing bytes", "d1:mdeeXYZ", nil},
	{"negative metadata size", "d13:metadata_sizei-1ee", nil},
	{"huge metadata size", "d13:metadata_sizei8388609ee", nil},
	{"overflowing metadata size", "d13:metadata_sizei99999999999999999999ee", nil},
	{"string metadata size", "d13:metadata_size3:abce", nil},
	{"integer key", "di1ei2ee", nil},
	{"leading zero", "d1:pi01ee", nil},
	{"negative zero", "d1:pi-0ee", nil},
	{"string length past end", "d1:v999:abce", nil},
	{"nesting bomb", "d1:x" + strings.Repeat("l", 100) + strings.Repeat("e", 100) + "e", nil},
	{"oversize", "d1:v65536:" + strings.Repeat("a", 65536) + "e", nil},
}

func TestParseExtHandshake(t *testing.T) {
	t.Parallel()
	checkDecodes(t, extHandshakeCases, ParseExtHandshake)
}
