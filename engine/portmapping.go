package engine

import (
	"context"
	"net/netip"

	"github.com/shoalp2p/shoal/engine/portmap"
)

// Port-mapping modes for Config.PortMapping.
const (
	PortMappingAuto = ""    // Settings.PortMapping (on by default), off in loopback-only mode
	PortMappingOn   = "on"  // map the listen port through UPnP, NAT-PMP or PCP
	PortMappingOff  = "off" // never talk to the router
)

// portMappingWanted says whether the listen port should be mapped:
// Config.PortMapping when set, else the user's setting; never by default
// in loopback-only mode.
func (e *Engine) portMappingWanted(s Settings) (bool, error) {
	switch e.cfg.PortMapping {
	case PortMappingOff:
		return false, nil
	case PortMappingOn:
		return true, nil
	case PortMappingAuto:
		return !e.cfg.LoopbackOnly && s.PortMapping, nil
	}
	return false, errBadPortMapping
}

// startPortMap prepares the router port mapping (it runs with Run) when
// it is wanted.
func (e *Engine) startPortMap() error {
	on, err := e.portMappingWanted(e.settings)
	if on {
		e.pm.Store(e.newMapper())
	}
	return err
}

// newMapper makes a mapper for the listen port; its changes reach
// portMapChanged while it is the current one.
func (e *Engine) newMapper() *portmap.Mapper {
	var m *portmap.Mapper
	m = portmap.New(portmap.Config{
		Port:     e.port,
		Lease:    e.cfg.PortMappingLease,
		Policy:   e.policy,
		OnChange: func() { e.portMapChanged(m) },
		Logger:   e.log.With("part", "portmap"),
	})
	return m
}

// runMapper runs m in the background until ctx ends or the mapping is
// turned off.
func (e *Engine) runMapper(ctx context.Context, m *portmap.Mapper) {
	ctx, cancel := context.WithCancel(ctx)
	e.pmMu.Lock()
	e.pmStop = cancel
	e.pmMu.Unlock()
	e.goRun(ctx, m.Run) // never holds up startup
}

// setPortMapping turns the mapping on or off at run time, as the settings
// say (Config.PortMapping, when set, wins). Turning it off removes the
// router's mappings.
func (e *Engine) setPortMapping(s Settings) {
	on, err := e.portMappingWanted(s)
	if err != nil || on == (e.pm.Load() != nil) {
		return
	}
	e.mu.Lock()
	ctx := e.runCtx
	e.mu.Unlock()
	e.pmMu.Lock()
	stop := e.pmStop
	e.pmStop = nil
	e.pmMu.Unlock()
	if stop != nil {
		stop()
	}
	if !on {
		e.pm.Store(nil)
		e.log.Info("port mapping turned off")
	} else {
		m := e.newMapper()
		e.pm.Store(m)
		if ctx != nil {
			e.runMapper(ctx, m)
		}
		e.log.Info("port mapping turned on")
	}
	e.portMapChanged(nil)
}

// portMapChanged keeps the advertised port in step with the current
// mapping and tells the front ends; m is the mapper that changed (nil:
// the current one was replaced).
func (e *Engine) portMapChanged(m *portmap.Mapper) {
	cur := e.pm.Load()
	if m != nil && m != cur {
		return // a mapper turned off, removing its mappings
	}
	port := 0
	var ext *netip.AddrPort
	if cur != nil {
		if st := cur.Status(); st.External.IsValid() {
			port, ext = int(st.External.Port()), &st.External
		}
	}
	e.extAddr.Store(ext)
	old := e.extPort.Swap(int32(port))
	e.announceChange()
	if old != int32(port) {
		e.ann.portChanged() // the DHT knows us by the old port
	}
	if old != int32(port) || m == nil {
		e.TestReachability() // the address others should reach changed
	}
}

// mapStatus is the current mapper's status (Method none when off).
func (e *Engine) mapStatus() (portmap.Status, bool) {
	m := e.pm.Load()
	if m == nil {
		return portmap.Status{Method: portmap.MethodNone}, false
	}
	return m.Status(), true
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
	st, on := e.mapStatus()
	n.PortMapping = portmap.MethodNone
	if !on {
		return
	}
	n.PortMapping, n.PortMappingErr = st.Method, st.Err
	if st.External.IsValid() {
		n.ExternalAddr = st.External.String()
		n.ExternalAddrFrom = "the router (" + st.Method + ")"
	}
}
