package portmap

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// rtfGateway is RTF_GATEWAY: the route goes through a gateway.
const rtfGateway = 0x2

var errNoDefaultRoute = errors.New("no IPv4 default route")

// parseRoutes finds the default gateway in the text of /proc/net/route:
// a header line, then whitespace-separated fields per route, addresses
// as little-endian hex. The route with the lowest metric wins.
func parseRoutes(b []byte) (netip.Addr, error) {
	var best netip.Addr
	bestMetric := uint64(1<<64 - 1)
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 8 {
			continue
		}
		dest, ok1 := hexAddr(f[1])
		gw, ok2 := hexAddr(f[2])
		mask, ok3 := hexAddr(f[7])
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		metric, err2 := strconv.ParseUint(f[6], 10, 64)
		if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil {
			continue
		}
		if !dest.IsUnspecified() || !mask.IsUnspecified() || flags&rtfGateway == 0 || gw.IsUnspecified() {
			continue
		}
		if metric < bestMetric {
			best, bestMetric = gw, metric
		}
	}
	if !best.IsValid() {
		return best, errNoDefaultRoute
	}
	return best, nil
}

func hexAddr(s string) (netip.Addr, bool) {
	if len(s) != 8 {
		return netip.Addr{}, false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return netip.Addr{}, false
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], binary.LittleEndian.Uint32(b))
	return netip.AddrFrom4(a), true
}
