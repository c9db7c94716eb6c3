package portmap

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	benchmark = netip.MustParsePrefix("198.18.0.0/15") // RFC 2544: never routed; home LANs in the lab
)

// notPublicError is a router whose own (WAN) address cannot be reached
// from the Internet, so any mapping it made would be useless.
type notPublicError struct{ ip netip.Addr }

func (e *notPublicError) Error() string {
	if !e.ip.IsValid() || e.ip.IsUnspecified() {
		return "portmap: the router has no public address"
	}
	return fmt.Sprintf("portmap: the router's address %s is not public", e.ip)
}

// IsPublic reports whether the Internet could reach ip: not private,
// loopback, link-local, carrier-grade NAT or benchmark space.
// Documentation ranges (a lab's public segment) count as public.
func IsPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsUnspecified() && !ip.IsPrivate() && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast() && !cgnat.Contains(ip) && !benchmark.Contains(ip)
}

// checkPublic refuses a router address that the Internet cannot reach.
func checkPublic(ip netip.Addr) error {
	if !IsPublic(ip) {
		return &notPublicError{ip.Unmap()}
	}
	return nil
}

// natpmpNetworkFailure is NAT-PMP result code 3 (RFC 6886 §3.5), what
// miniupnpd answers when its own WAN address is not public.
const natpmpNetworkFailure = "result code 3"

// pcpNetworkFailure is PCP's NETWORK_FAILURE (RFC 6887 §7.4), what
// miniupnpd answers when its own WAN address is not public.
const pcpNetworkFailure = 7

// explain turns the protocols' failures into one sentence for people:
// the most telling failure wins.
func explain(errs []error) string {
	var np *notPublicError
	for _, err := range errs {
		if errors.As(err, &np) {
			return sayNotPublic(np.ip)
		}
	}
	var pe *pcpError
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), natpmpNetworkFailure) || errors.As(err, &pe) && pe.code == pcpNetworkFailure {
			return sayNotPublic(netip.Addr{})
		}
	}
	var ref *refusedError
	for _, err := range errs {
		if errors.As(err, &ref) {
			return fmt.Sprintf("Your router refused to open a port (%s said: %s). Forward the port to this computer by hand in the router's settings.",
				methodName(ref.method), short(ref.err))
		}
	}
	for _, err := range errs {
		if errors.As(err, &pe) {
			return fmt.Sprintf("Your router refused to open a port (PCP said: %s). Forward the port to this computer by hand in the router's settings.", pe.words())
		}
	}
	return "No router answered UPnP or NAT-PMP. Turn one of them on in your router's settings, or forward the port to this computer by hand."
}

func sayNotPublic(ip netip.Addr) string {
	switch {
	case !ip.IsValid() || ip.IsUnspecified():
		return "Your router refused to open a port: it has no public address of its own (carrier-grade NAT, or another router in front of it?)"
	case cgnat.Contains(ip):
		return fmt.Sprintf("Your router refused to open a port: its own address %s is not public (carrier-grade NAT?)", ip)
	}
	return fmt.Sprintf("Your router refused to open a port: its own address %s is not public (another router in front of it?)", ip)
}

func methodName(m string) string {
	switch m {
	case MethodUPnP:
		return "UPnP"
	case MethodPCP:
		return "PCP"
	}
	return "NAT-PMP"
}

// short is an error's innermost text, cut to a readable length.
func short(err error) string {
	for errors.Unwrap(err) != nil {
		err = errors.Unwrap(err)
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
