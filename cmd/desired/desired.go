// Package desired is lvsadm's desired state of an IPVS table: the services
// and real servers that plan and apply compare with the kernel's. A table
// is read from ipvsadm rules (what ipvsadm -S and ipvsadm-save write) or
// from lvsadm's own format in YAML or JSON (docs/config.md), and written
// back in either.
//
// Every service and real server is held as ipvsadm would send it to the
// kernel (defaults included), so that a table read from rules and the same
// table read from YAML are equal, and both compare field by field with
// what the kernel lists. Each remembers where in its file it was defined.
package desired

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Table is a desired IPVS table.
type Table struct {
	Services []Service
}

// Service is a virtual service and its complete list of real servers.
type Service struct {
	ipvs.Service
	Servers []Server
	Source  Source

	// Quorum is the least sum of the weights of the real servers that are
	// up for the service to be served by them; below it (by Hysteresis
	// before it counts as regained) SorryServer, if set, is added. Only
	// the health-checking daemon (lvsadm run) acts on these.
	Quorum, Hysteresis uint32
	SorryServer        *Server
}

// Server is a real server of a service.
type Server struct {
	ipvs.Destination
	Source Source
	// Check is its health check; nil means none (always up).
	Check *Check
}

// Source is where something was defined: a file, a line and, for YAML and
// JSON, a column.
type Source struct {
	File   string
	Line   int
	Column int
}

func (s Source) String() string { return string(s.AppendTo(nil)) }

// AppendTo appends s as String writes it to b.
func (s Source) AppendTo(b []byte) []byte {
	b = append(b, s.File...)
	if s.Line == 0 {
		return b
	}
	b = strconv.AppendInt(append(b, ':'), int64(s.Line), 10)
	if s.Column == 0 {
		return b
	}
	return strconv.AppendInt(append(b, ':'), int64(s.Column), 10)
}

// Error is a problem with the input at one place.
type Error struct {
	Source Source
	Msg    string
}

func (e *Error) Error() string { return e.Source.String() + ": " + e.Msg }

// maxErrors bounds how many problems one read reports.
const maxErrors = 20

// errorList collects the problems of one read, in input order, each once.
type errorList struct {
	errs []error
	seen map[Error]bool
}

func (l *errorList) add(src Source, format string, args ...any) {
	e := Error{Source: src, Msg: fmt.Sprintf(format, args...)}
	if len(l.errs) >= maxErrors || l.seen[e] {
		return
	}
	if l.seen == nil {
		l.seen = map[Error]bool{}
	}
	l.seen[e] = true
	l.errs = append(l.errs, &e)
}

func (l *errorList) full() bool { return len(l.errs) >= maxErrors }

func (l *errorList) err() error { return errors.Join(l.errs...) }

// Key identifies a service however it was spelled: the fields of
// ipvs.ServiceKey that matter for its kind (fwmark or not), with the
// family filled in.
func Key(k ipvs.ServiceKey) ipvs.ServiceKey {
	if k.Family == 0 {
		k.Family = ipvs.IPv4
		if k.Addr.Is6() {
			k.Family = ipvs.IPv6
		}
	}
	if k.FWMark != 0 {
		return ipvs.ServiceKey{Family: k.Family, FWMark: k.FWMark}
	}
	return k
}

// ServerKey identifies a real server within its service.
type ServerKey struct {
	Family ipvs.Family
	Addr   netip.Addr
	Port   uint16
}

// DestKey is the ServerKey of a destination of a service of family af.
func DestKey(af ipvs.Family, d *ipvs.Destination) ServerKey {
	f := d.Family
	if f == 0 {
		f = af
		if d.Addr.Is4() {
			f = ipvs.IPv4
		} else if d.Addr.Is6() {
			f = ipvs.IPv6
		}
	}
	return ServerKey{Family: f, Addr: d.Addr, Port: d.Port}
}

// Describe names a service as ipvsadm's options do: "-t 192.0.2.1:80",
// "-u [2001:db8::1]:53", "-f 5" (with " -6" for IPv6 marks).
func Describe(k ipvs.ServiceKey) string {
	k = Key(k)
	if k.FWMark != 0 {
		if k.Family == ipvs.IPv6 {
			return fmt.Sprintf("-f %d -6", k.FWMark)
		}
		return fmt.Sprintf("-f %d", k.FWMark)
	}
	opt := "--sctp-service"
	switch k.Protocol {
	case ipvs.TCP:
		opt = "-t"
	case ipvs.UDP:
		opt = "-u"
	}
	return opt + " " + AddrPort(k.Addr, k.Port)
}

// AddrPort is "a.b.c.d:port" or "[v6]:port", as ipvsadm writes them.
func AddrPort(a netip.Addr, port uint16) string {
	if a.Is6() {
		return fmt.Sprintf("[%s]:%d", a, port)
	}
	return fmt.Sprintf("%s:%d", a, port)
}

// check finds what no single line can show: a service defined twice, a
// real server defined twice within its service.
func (t *Table) check(errs *errorList) {
	seen := make(map[ipvs.ServiceKey]Source, len(t.Services))
	for i := range t.Services {
		s := &t.Services[i]
		k := Key(s.ServiceKey)
		if first, ok := seen[k]; ok {
			errs.add(s.Source, "service %s is already defined at %s", Describe(k), first)
			continue
		}
		seen[k] = s.Source
		checkServers(s, k, errs)
	}
}

// checkServers finds a real server defined twice within service s (key k).
func checkServers(s *Service, k ipvs.ServiceKey, errs *errorList) {
	dup := func(d *Server, first Source) {
		errs.add(d.Source, "real server %s of service %s is already defined at %s", AddrPort(d.Addr, d.Port), Describe(k), first)
	}
	// A service has few real servers: comparing each pair is cheaper than
	// a map per service until there are many.
	if len(s.Servers) <= 32 {
		for j := range s.Servers {
			dk := DestKey(k.Family, &s.Servers[j].Destination)
			for i := range j {
				if DestKey(k.Family, &s.Servers[i].Destination) == dk {
					dup(&s.Servers[j], s.Servers[i].Source)
					break
				}
			}
		}
		return
	}
	servers := make(map[ServerKey]Source, len(s.Servers))
	for j := range s.Servers {
		d := &s.Servers[j]
		dk := DestKey(k.Family, &d.Destination)
		if first, ok := servers[dk]; ok {
			dup(d, first)
			continue
		}
		servers[dk] = d.Source
	}
}
