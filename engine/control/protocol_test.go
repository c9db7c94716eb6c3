package control

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// requestCases are the decoder's table; the fuzz target starts from them.
var requestCases = []struct {
	line string
	want Request
	ok   bool
}{
	{`{"cmd":"status"}`, Request{Cmd: CmdStatus}, true},
	{`{"cmd":"show"}`, Request{Cmd: CmdShow}, true},
	{`{"cmd":"reach"}`, Request{Cmd: CmdReach}, true},
	{`{"cmd":"reach","link":"x"}`, Request{}, false}, // reach takes no link
	{` {"cmd":"status"} `, Request{Cmd: CmdStatus}, true},
	{`{"cmd":"add","link":"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"}`,
		Request{Cmd: CmdAdd, Link: "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"}, true},
	{`{"cmd":"add","link":"0123456789abcdef0123456789ABCDEF01234567"}`,
		Request{Cmd: CmdAdd, Link: "0123456789abcdef0123456789ABCDEF01234567"}, true},
	{`{"cmd":"add","link":"/home/a/x.torrent"}`, Request{Cmd: CmdAdd, Link: "/home/a/x.torrent"}, true},
	{`{"cmd":"add","link":"x.torrent"}`, Request{}, false},        // relative path
	{`{"cmd":"add","link":"../x.torrent"}`, Request{}, false},     // relative path
	{`{"cmd":"add"}`, Request{}, false},                           // no link
	{`{"cmd":"status","link":"magnet:?"}`, Request{}, false},      // link on status
	{`{"cmd":"delete"}`, Request{}, false},                        // unknown command
	{`{"cmd":"status","extra":1}`, Request{}, false},              // unknown field
	{`{"cmd":"status"}{"cmd":"show"}`, Request{}, false},          // two values
	{`{"cmd":5}`, Request{}, false},                               // wrong type
	{`["status"]`, Request{}, false},                              // not an object
	{`null`, Request{}, false},                                    // empty command
	{``, Request{}, false},                                        // empty line
	{`{"cmd":"status"`, Request{}, false},                         // truncated
	{"{\"cmd\":\"add\",\"link\":\"\xff\xfe\"}", Request{}, false}, // invalid UTF-8 becomes U+FFFD: a relative path
}

func TestDecodeRequest(t *testing.T) {
	for _, tc := range requestCases {
		got, err := DecodeRequest([]byte(tc.line))
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("DecodeRequest(%q) = %+v, %v; want %+v ok=%v", tc.line, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadRequest) {
			t.Errorf("DecodeRequest(%q): error %v is not ErrBadRequest", tc.line, err)
		}
	}
	long := `{"cmd":"add","link":"magnet:?` + strings.Repeat("a", MaxRequestLine) + `"}`
	if _, err := DecodeRequest([]byte(long)); !errors.Is(err, ErrBadRequest) {
		t.Errorf("over-long line: %v, want ErrBadRequest", err)
	}
}

// FuzzDecodeRequest: any line either fails with ErrBadRequest or gives a
// valid request that survives a round trip through its own encoding.
func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range requestCases {
		f.Add([]byte(tc.line))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := DecodeRequest(line)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v is not ErrBadRequest", err)
			}
			return
		}
		if err := r.validate(); err != nil {
			t.Fatalf("decoded request %+v does not validate: %v", r, err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeRequest(b)
		if err != nil || again != r {
			t.Fatalf("round trip of %+v: %+v, %v", r, again, err)
		}
	})
}
