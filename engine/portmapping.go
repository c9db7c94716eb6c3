package engine

import "github.com/shoalp2p/shoal/engine/portmap"

// Port-mapping modes for Config.PortMapping.
const (
	PortMappingAuto = ""    // on, except in loopback-only mode
	PortMappingOn   = "on"  // map the listen port through UPnP or NAT-PMP
	PortMappingOff  = "off" // never talk to the router
)

// startPortMap prepares the router port mapping (it runs with Run) when
// Config.PortMapping allows it.
func (e *Engine) startPortMap() error {
	switch e.cfg.PortMapping {
	case PortMappingOff:
		return nil
	case PortMappingAuto:
		if e.cfg.LoopbackOnly {
			return nil
		}
	case PortMappingOn:
	default:
		return errBadPortMapping
	}
	e.pm = portmap.New(portmap.Config{
		Port:     e.port,
		Lease:    e.cfg.PortMappingLease,
		Policy:   e.policy,
		OnChange: e.portMapChanged,
		Logger:   e.log.With("part", "portmap"),
	})
	return nil
}

// portMapChanged keeps the advertised port in step with the mapping and
// tells the front ends.
func (e *Engine) portMapChanged() {
	st := e.pm.Status()
	port := 0
	if st.External.IsValid() {
		port = int(st.External.Port())
	}
	old := e.extPort.Swap(int32(port))
	e.announceChange()
	if old != int32(port) {
		e.TestReachability() // the address others should reach changed
	}
}

// announcePort is the port other peers should dial: the router's mapped
// port when there is one, else the listen port.
func (e *Engine) announcePort() int {
	if p := e.extPort.Load(); p > 0 {
		return int(p)
	}
	return e.port
}

// portMapStatus fills the port-mapping fields of n.
func (e *Engine) portMapStatus(n *NetStatus) {
	n.PortMapping = portmap.MethodNone
	if e.pm == nil {
		return
	}
	st := e.pm.Status()
	n.PortMapping, n.PortMappingErr = st.Method, st.Err
	if st.External.IsValid() {
		n.ExternalAddr = st.External.String()
	}
}
