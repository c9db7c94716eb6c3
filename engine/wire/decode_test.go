package wire

import (
	"errors"
	"reflect"
	"testing"
)

// decodeCase is one row of a decoder's table, shared with its fuzz target
// as a seed: the input, and what it decodes to, or nil when the decoder
// must refuse it with ErrMalformed.
type decodeCase[T any] struct {
	name string
	in   string
	want *T
}

// checkDecodes runs decode over a table of cases.
func checkDecodes[T any](t *testing.T, cases []decodeCase[T], decode func([]byte) (T, error)) {
	t.Helper()
	for _, tc := range cases {
		got, err := decode([]byte(tc.in))
		if tc.want == nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: error = %v, want ErrMalformed", tc.name, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, *tc.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, *tc.want)
		}
	}
}
