package torrentfile

import (
	"github.com/anacrolix/torrent/bencode"
)

// dict is a bencoded dictionary with its values still encoded, so that each
// key is checked on its own and a key of the wrong type reads as absent.
type dict map[string]bencode.Bytes

// decodeDict decodes b, which must be exactly one dictionary.
func decodeDict(b []byte) (dict, error) {
	var d dict
	if err := bencode.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	return d, nil
}

// kind returns the bencode type of a value: 'i', 'l', 'd' or 's'.
func kind(raw bencode.Bytes) byte {
	switch {
	case len(raw) == 0:
		return 0
	case raw[0] >= '0' && raw[0] <= '9':
		return 's'
	default:
		return raw[0]
	}
}

// int returns an integer value; ok is false when absent or not an integer.
func (d dict) int(key string) (v int64, ok bool) {
	raw := d[key]
	if kind(raw) != 'i' || bencode.Unmarshal(raw, &v) != nil {
		return 0, false
	}
	return v, true
}

// str returns a string value; ok is false when absent or not a string.
func (d dict) str(key string) (v string, ok bool) {
	raw := d[key]
	if kind(raw) != 's' || bencode.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return v, true
}

// list returns a list's encoded elements; ok is false when absent or not a
// list.
func (d dict) list(key string) (v []bencode.Bytes, ok bool) {
	return asList(d[key])
}

func asList(raw bencode.Bytes) (v []bencode.Bytes, ok bool) {
	if kind(raw) != 'l' || bencode.Unmarshal(raw, &v) != nil {
		return nil, false
	}
	if v == nil {
		v = []bencode.Bytes{}
	}
	return v, true
}

// strings returns a list of strings; ok is false when absent, not a list,
// or any element is not a string.
func (d dict) strings(key string) ([]string, bool) {
	l, ok := d.list(key)
	if !ok {
		return nil, false
	}
	out := make([]string, len(l))
	for i, raw := range l {
		if kind(raw) != 's' || bencode.Unmarshal(raw, &out[i]) != nil {
			return nil, false
		}
	}
	return out, true
}

// asDict decodes an encoded value that must be a dictionary.
func asDict(raw bencode.Bytes) (dict, bool) {
	if kind(raw) != 'd' {
		return nil, false
	}
	d, err := decodeDict(raw)
	return d, err == nil
}
