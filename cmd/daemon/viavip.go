package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/health"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/sysctl"
)

// DefaultViaVIPMark is the first firewall mark of the services that carry
// via_vip checks; they use ViaVIPMarks marks from it.
const DefaultViaVIPMark = 0x4c560000

// ViaVIPMarks is how many marks the via_vip services may use.
const ViaVIPMarks = 1 << 16

// viaVIP sends via_vip checks through IPVS itself, as seesaw does: every
// real server (address and forwarding method) with such a check gets a
// firewall-mark service of its own whose one destination is that server,
// and the check's socket carries the mark. The kernel matches marked
// packets to the mark's service before the VIP's, so a check of VIP:port
// leaves by direct routing or tunnel to exactly that server, as clients'
// packets do; the server answers from the VIP to the director's address
// the check is bound to.
type viaVIP struct {
	client *ipvs.Client
	sysctl sysctl.FS
	first  uint32 // the first mark of the range
	// source and iface find the director's address facing a server and
	// the interface that has it; nil means sourceFor and interfaceOf.
	source func(netip.Addr) (netip.Addr, error)
	iface  func(netip.Addr) (string, error)

	mu     sync.Mutex
	routes map[viaKey]viaRoute
}

// viaKey is a real server as the forwarding path sees it.
type viaKey struct {
	addr   netip.Addr
	method ipvs.ForwardMethod
}

// viaRoute is how a check reaches its server: the mark of the server's
// service and the director's address facing the server.
type viaRoute struct {
	mark   uint32
	source netip.Addr
}

func (v *viaVIP) inRange(mark uint32) bool {
	return mark >= v.first && mark-v.first < ViaVIPMarks
}

// needs lists the servers of t with via_vip checks, each with the first
// server entry that names it (whose tunnel settings its service copies).
func needs(t *desired.Table) map[viaKey]*desired.Server {
	need := map[viaKey]*desired.Server{}
	for i := range t.Services {
		s := &t.Services[i]
		for j := range s.Servers {
			r := &s.Servers[j]
			k := viaKey{r.Addr, r.ForwardMethod}
			if _, ok := need[k]; ok || r.Check == nil || !r.Check.ViaVIP {
				continue
			}
			need[k] = r
		}
	}
	return need
}

// sortedKeys orders need's servers by address and method, so that marks
// are handed out and errors reported in the same order every time.
func sortedKeys(need map[viaKey]*desired.Server) []viaKey {
	keys := make([]viaKey, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b viaKey) int {
		return cmp.Or(a.addr.Compare(b.addr), cmp.Compare(a.method, b.method))
	})
	return keys
}

// check refuses a table whose via_vip checks cannot work here: a service
// of its own in the mark range, a server without a route, or (IPv4) a
// director that would drop the answers, which come from the VIP, one of
// its own addresses. It changes nothing.
func (v *viaVIP) check(t *desired.Table) (map[viaKey]netip.Addr, error) {
	var errs []error
	for i := range t.Services {
		if s := &t.Services[i]; s.IsFWMark() && v.inRange(s.FWMark) {
			errs = append(errs, fmt.Errorf("%s: firewall mark %d is in the range lvsadm run keeps for via_vip checks (%d-%d, --via-vip-mark)",
				s.Source, s.FWMark, v.first, v.first+ViaVIPMarks-1))
		}
	}
	sources := map[viaKey]netip.Addr{}
	need := needs(t)
	for _, k := range sortedKeys(need) {
		r := need[k]
		src, err := v.sourceFor(k.addr)
		if err == nil && k.addr.Is4() {
			err = v.acceptsLocal(src)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: via_vip check of %s: %w", r.Source, k.addr, err))
			continue
		}
		sources[k] = src
	}
	return sources, errors.Join(errs...)
}

func (v *viaVIP) sourceFor(addr netip.Addr) (netip.Addr, error) {
	if v.source != nil {
		return v.source(addr)
	}
	return sourceFor(addr)
}

func (v *viaVIP) interfaceOf(addr netip.Addr) (string, error) {
	if v.iface != nil {
		return v.iface(addr)
	}
	return interfaceOf(addr)
}

// sourceFor is the address the kernel sends from to reach addr.
func sourceFor(addr netip.Addr) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 9)))
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			err = errno // "network is unreachable", without the dial's words
		}
		return netip.Addr{}, fmt.Errorf("no route: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// acceptsLocal tells whether IPv4 packets from a local address are taken
// in on the interface that holds src (accept_local on it or on all).
func (v *viaVIP) acceptsLocal(src netip.Addr) error {
	iface, err := v.interfaceOf(src)
	if err != nil {
		return err
	}
	for _, name := range []string{sysctl.All, iface} {
		if n, err := v.sysctl.ReadInt(sysctl.ConfKey(name, sysctl.AcceptLocal)); err == nil && n != 0 {
			return nil
		}
	}
	return fmt.Errorf("the answers come from the VIP, an address of this host, which %s drops: set net.ipv4.conf.%s.accept_local=1", iface, iface)
}

// interfaceOf is the name of the interface that has addr.
func interfaceOf(addr netip.Addr) (string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	for _, iface := range ifaces {
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if p, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(p.IP); ok && ip.Unmap() == addr {
					return iface.Name, nil
				}
			}
		}
	}
	return "", fmt.Errorf("no interface has %s", addr)
}

// prepare makes the kernel's via_vip services those of t: it keeps the
// ones that already serve a server of t (after a restart or reload),
// removes the others in the mark range and adds the missing ones. Nothing
// changes if t cannot be served (see check), nor, so that a daemon without
// via_vip checks leaves the range alone, while neither t nor the daemon
// has any.
func (v *viaVIP) prepare(t *desired.Table) error {
	sources, err := v.check(t)
	if err != nil {
		return err
	}
	return v.apply(t, sources)
}

// apply is prepare for a table that check has passed, with the sources it
// found.
func (v *viaVIP) apply(t *desired.Table, sources map[viaKey]netip.Addr) error {
	need := needs(t)
	v.mu.Lock()
	had := len(v.routes)
	v.mu.Unlock()
	if len(need) == 0 && had == 0 {
		return nil
	}
	svcs, err := v.client.Services()
	if err != nil {
		return err
	}
	routes := map[viaKey]viaRoute{}
	used := map[uint32]bool{}
	b := v.client.NewBatch()
	for i := range svcs {
		s := &svcs[i]
		if !s.IsFWMark() || !v.inRange(s.FWMark) {
			continue
		}
		used[s.FWMark] = true
		dests, err := v.client.Destinations(s.ServiceKey)
		if err != nil {
			return err
		}
		if len(dests) == 1 {
			d := &dests[0].Destination
			k := viaKey{d.Addr, d.ForwardMethod}
			if _, ok := routes[k]; !ok && need[k] != nil && sameTunnel(d, &need[k].Destination) && s.Family == familyOf(k.addr) {
				routes[k] = viaRoute{mark: s.FWMark, source: sources[k]}
				continue
			}
		}
		b.DeleteService(s.ServiceKey)
		delete(used, s.FWMark)
	}
	next := v.first
	for _, k := range sortedKeys(need) {
		if _, ok := routes[k]; ok {
			continue
		}
		for used[next] {
			next++
		}
		if !v.inRange(next) {
			return fmt.Errorf("via_vip checks: more than %d real servers", ViaVIPMarks)
		}
		used[next] = true
		key := ipvs.ServiceKey{Family: familyOf(k.addr), FWMark: next}
		netmask := uint32(0xffffffff)
		if k.addr.Is6() {
			netmask = 128
		}
		b.AddService(ipvs.Service{ServiceKey: key, Scheduler: "rr", Netmask: netmask})
		d := &need[k].Destination
		b.AddDestination(key, ipvs.Destination{Addr: k.addr, ForwardMethod: k.method, Weight: 1,
			TunnelType: d.TunnelType, TunnelPort: d.TunnelPort, TunnelFlags: d.TunnelFlags})
		routes[k] = viaRoute{mark: next, source: sources[k]}
	}
	if b.Len() > 0 {
		results, err := b.Send()
		for _, r := range results {
			err = errors.Join(err, r)
		}
		if err != nil {
			return fmt.Errorf("via_vip services: %w", err)
		}
	}
	v.mu.Lock()
	v.routes = routes
	v.mu.Unlock()
	return nil
}

// remove deletes the via_vip services it made.
func (v *viaVIP) remove() error {
	v.mu.Lock()
	routes := v.routes
	v.routes = nil
	v.mu.Unlock()
	b := v.client.NewBatch()
	for k, r := range routes {
		b.DeleteService(ipvs.ServiceKey{Family: familyOf(k.addr), FWMark: r.mark})
	}
	if b.Len() == 0 {
		return nil
	}
	results, err := b.Send()
	for _, r := range results {
		if r != nil && !errors.Is(r, ipvs.ErrServiceNotFound) {
			err = errors.Join(err, r)
		}
	}
	return err
}

// dial is the checks' health.ViaVIPDialFunc: from the director's address
// facing the server, with the server's mark.
func (v *viaVIP) dial(ctx context.Context, network string, vip netip.AddrPort, t health.Target) (net.Conn, error) {
	v.mu.Lock()
	r, ok := v.routes[viaKey{t.Addr, t.Forward}]
	v.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no via_vip service for %s", t.Addr)
	}
	d := net.Dialer{KeepAlive: -1, Control: markControl(r.mark)}
	if network == "udp" {
		d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.source, 0))
	} else {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(r.source, 0))
	}
	return d.DialContext(ctx, network, vip.String())
}

// sameTunnel reports whether a mark service's destination k has the
// tunnel settings of the desired server w.
func sameTunnel(k, w *ipvs.Destination) bool {
	return k.TunnelType == w.TunnelType && k.TunnelPort == w.TunnelPort && k.TunnelFlags == w.TunnelFlags
}

func familyOf(a netip.Addr) ipvs.Family {
	if a.Is4() {
		return ipvs.IPv4
	}
	return ipvs.IPv6
}
