package utp

import (
	"testing"
)

func TestSelectiveAckBitmaskBytesLen(t *testing.T) {
	for _, _case := range []struct {
		BitIndex    int
		ExpectedLen int
	}{
		{0, 4},
		{31, 4},
		{32, 8},
	} {
		var selAck selectiveAckBitmask
		selAck.SetBit(_case.BitIndex)
		if len(selAck.Bytes) != _case.ExpectedLen {
			t.Errorf("bit %d: %d bytes, want %d", _case.BitIndex, len(selAck.Bytes), _case.ExpectedLen)
		}
	}
}
