package portmap

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/huin/goupnp"
	"github.com/huin/goupnp/httpu"
	"github.com/huin/goupnp/soap"
	"github.com/huin/goupnp/ssdp"
)

// Bounds on what a UPnP device may make us do.
const (
	ssdpWait        = 2 * time.Second
	maxLocations    = 8        // distinct devices looked at per search
	maxBody         = 64 << 10 // description or SOAP response bytes
	maxHeaderBytes  = 16 << 10
	httpTimeout     = 4 * time.Second
	urnWANIP1       = "urn:schemas-upnp-org:service:WANIPConnection:1"
	urnWANIP2       = "urn:schemas-upnp-org:service:WANIPConnection:2"
	urnWANPPP1      = "urn:schemas-upnp-org:service:WANPPPConnection:1"
	rootDeviceQuery = "upnp:rootdevice"
)

// upnpMapper is one WAN*Connection service of an Internet gateway device.
type upnpMapper struct {
	urn      string
	soap     *soap.SOAPClient
	internal string // our address as the gateway sees it
	desc     string
	http     *http.Client
}

func (u *upnpMapper) method() string { return MethodUPnP }

// discoverUPnP searches the LAN for root devices over SSDP, reads each
// description (bounded), and returns the first WAN connection service
// that tells its external address.
func (m *Mapper) discoverUPnP(ctx context.Context) (mapper, error) {
	locs, err := m.search(ctx)
	if err != nil {
		return nil, err
	}
	hc := m.httpClient()
	cands := m.describeAll(ctx, hc, locs)
	var lastErr error = errNoGateway
	for _, c := range cands {
		if _, err := c.externalIP(ctx); err != nil {
			lastErr = err
			continue
		}
		return c, nil
	}
	hc.CloseIdleConnections()
	return nil, fmt.Errorf("portmap: UPnP: %w", lastErr)
}

// search sends an SSDP M-SEARCH from every allowed local IPv4 address and
// returns the distinct description URLs on allowed hosts.
func (m *Mapper) search(ctx context.Context) ([]*url.URL, error) {
	var clients []httpu.ClientInterfaceCtx
	for _, a := range m.localAddrs() {
		c, err := httpu.NewHTTPUClientAddr(a.String())
		if err != nil {
			continue
		}
		defer c.Close()
		clients = append(clients, c)
	}
	if len(clients) == 0 {
		return nil, fmt.Errorf("portmap: UPnP: no usable network interface: %w", errNoGateway)
	}
	sctx, cancel := context.WithTimeout(ctx, ssdpWait)
	defer cancel()
	resps, err := ssdp.RawSearch(sctx, httpu.NewMultiClientCtx(clients), rootDeviceQuery, 2)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	seen := map[string]bool{}
	var locs []*url.URL
	for _, r := range resps {
		loc, err := r.Location()
		if err != nil || seen[loc.String()] || len(locs) >= maxLocations || m.checkURL(loc) != nil {
			continue
		}
		seen[loc.String()] = true
		locs = append(locs, loc)
	}
	if len(locs) == 0 {
		return nil, fmt.Errorf("portmap: UPnP: %w", errNoGateway)
	}
	return locs, nil
}

// localAddrs lists the IPv4 addresses of up, multicast-capable, non-loopback
// interfaces that the policy allows.
func (m *Mapper) localAddrs() []netip.Addr {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagMulticast == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if ok && ip.Unmap().Is4() && m.cfg.Policy.Allows(ip) {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

// checkURL accepts only http URLs whose host is an allowed IP literal.
func (m *Mapper) checkURL(u *url.URL) error {
	if u.Scheme != "http" {
		return fmt.Errorf("portmap: UPnP URL %q is not http", u)
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return fmt.Errorf("portmap: UPnP URL %q has no IP address", u)
	}
	return m.cfg.Policy.CheckIP(ip.AsSlice())
}

// describeAll reads the descriptions in parallel (a slow device does not
// hold up the others) and returns the WAN connection services found, in
// the order of locs.
func (m *Mapper) describeAll(ctx context.Context, hc *http.Client, locs []*url.URL) []*upnpMapper {
	found := make([][]*upnpMapper, len(locs))
	var wg sync.WaitGroup
	for i, loc := range locs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i] = m.describe(ctx, hc, loc)
		}()
	}
	wg.Wait()
	var out []*upnpMapper
	for _, f := range found {
		out = append(out, f...)
	}
	return out
}

// describe fetches one device description and makes a client for each
// WAN connection service whose control URL is on the same host.
func (m *Mapper) describe(ctx context.Context, hc *http.Client, loc *url.URL) []*upnpMapper {
	root, err := fetchDescription(ctx, hc, loc)
	if err != nil {
		m.log.Debug("UPnP description refused", "url", loc.String(), "err", err)
		return nil
	}
	internal, err := localAddrTo(loc)
	if err != nil {
		return nil
	}
	var out []*upnpMapper
	for _, urn := range []string{urnWANIP2, urnWANIP1, urnWANPPP1} {
		for _, srv := range root.Device.FindService(urn) {
			ctl := srv.ControlURL.URL
			if ctl.Host != loc.Host || m.checkURL(&ctl) != nil {
				continue
			}
			sc := soap.NewSOAPClient(ctl)
			sc.HTTPClient = *hc
			out = append(out, &upnpMapper{urn: urn, soap: sc, internal: internal, desc: m.cfg.Description, http: hc})
		}
	}
	return out
}

// fetchDescription GETs and decodes a root device description, bounded in
// size and time; relative URLs resolve against loc (a URLBase in the
// description is ignored).
func fetchDescription(ctx context.Context, hc *http.Client, loc *url.URL) (*goupnp.RootDevice, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("description: HTTP %s", resp.Status)
	}
	root := new(goupnp.RootDevice)
	dec := xml.NewDecoder(resp.Body)
	dec.DefaultSpace = goupnp.DeviceXMLNamespace
	if err := dec.Decode(root); err != nil {
		return nil, fmt.Errorf("description: %w", err)
	}
	root.SetURLBase(loc)
	return root, nil
}

// localAddrTo is our address on the route to u's host (a UDP "connect"
// sends nothing).
func localAddrTo(u *url.URL) (string, error) {
	port := u.Port()
	if port == "" {
		port = "80"
	}
	c, err := net.Dial("udp4", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

func (u *upnpMapper) externalIP(ctx context.Context) (netip.Addr, error) {
	out := &struct{ NewExternalIPAddress string }{}
	if err := u.soap.PerformActionCtx(ctx, u.urn, "GetExternalIPAddress", &struct{}{}, out); err != nil {
		return netip.Addr{}, fmt.Errorf("portmap: UPnP GetExternalIPAddress: %w", err)
	}
	ip, err := netip.ParseAddr(out.NewExternalIPAddress)
	if err != nil {
		return netip.Addr{}, &notPublicError{} // empty: the router has none it will admit to
	}
	return ip, nil
}

// errOnlyPermanent is UPnP error 725: the router grants only leases of 0.
const errOnlyPermanent = 725

func (u *upnpMapper) add(ctx context.Context, proto string, port int, lease time.Duration) (int, time.Duration, error) {
	err := u.addLease(ctx, proto, port, uint32(lease/time.Second))
	var fault *soap.SOAPFaultError
	if errors.As(err, &fault) && fault.Detail.UPnPError.Errorcode == errOnlyPermanent {
		err = u.addLease(ctx, proto, port, 0)
		lease = 0
	}
	if err != nil {
		return 0, 0, err
	}
	return port, lease, nil
}

func (u *upnpMapper) addLease(ctx context.Context, proto string, port int, secs uint32) error {
	in := &struct {
		NewRemoteHost, NewExternalPort, NewProtocol, NewInternalPort string
		NewInternalClient, NewEnabled, NewPortMappingDescription     string
		NewLeaseDuration                                             string
	}{"", strconv.Itoa(port), proto, strconv.Itoa(port), u.internal, "1", u.desc, strconv.FormatUint(uint64(secs), 10)}
	if err := u.soap.PerformActionCtx(ctx, u.urn, "AddPortMapping", in, nil); err != nil {
		return fmt.Errorf("portmap: UPnP AddPortMapping %s %d: %w", proto, port, err)
	}
	return nil
}

func (u *upnpMapper) remove(ctx context.Context, proto string, ext int) error {
	in := &struct{ NewRemoteHost, NewExternalPort, NewProtocol string }{"", strconv.Itoa(ext), proto}
	if err := u.soap.PerformActionCtx(ctx, u.urn, "DeletePortMapping", in, nil); err != nil {
		return fmt.Errorf("portmap: UPnP DeletePortMapping %s %d: %w", proto, ext, err)
	}
	return nil
}

// httpClient talks to devices through the policy's dialer, with bounded
// headers, bodies and time, no redirects and no kept-alive connections.
func (m *Mapper) httpClient() *http.Client {
	tr := &http.Transport{
		DialContext:            m.cfg.Policy.Dial,
		ResponseHeaderTimeout:  httpTimeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
		DisableKeepAlives:      true,
	}
	return &http.Client{
		Transport:     limitTransport{tr},
		Timeout:       httpTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// limitTransport caps every response body at maxBody bytes.
type limitTransport struct{ rt http.RoundTripper }

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: maxBody}
	return resp, nil
}

// errTooLarge is a device sending more than maxBody bytes.
var errTooLarge = errors.New("portmap: UPnP response too large")

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
