// Package kerneltable reads a network namespace's whole IPVS table the way
// lvsadm's listings do: every field of the services from one netlink
// service dump, and the destinations from /proc/net/ip_vs, which shows all
// of them in one read, wherever that file matches the dump.
//
// /proc lacks thresholds, tunnel settings and counters. A service with a
// tunnel destination there is read over netlink, and so is any service
// the caller asks for (NetlinkFor). /proc lists services in the dump's
// order, and each of its services must match the dumped service at the
// same position by identity and scheduler; if any does not (the table
// changed between the two reads, or the 6.1 kernel's iterator skipped
// services because another network namespace holds some), or the file
// cannot be read or has a service line it should not, every service's
// destinations come from netlink. A service whose destination lines cannot
// be read gets its netlink dump. A service deleted between the reads shows
// no destinations, as with ipvsadm.
package kerneltable

import (
	"io"

	"github.com/lvsadm/lvsadm/cmd/internal/procipvs"
	"github.com/lvsadm/lvsadm/ipvs"
)

// Table is the services of one read, in the kernel's order, and the means
// to read each one's destinations.
type Table struct {
	Services []ipvs.ServiceEntry
	// NetlinkFor, if set, names services whose destinations must come from
	// netlink even where /proc has them (for fields /proc lacks).
	NetlinkFor func(*ipvs.ServiceEntry) bool

	client *ipvs.Client
	procs  []procipvs.Service // nil unless /proc matched the dump
}

// Read dumps the services and then, if openProc is not nil, reads
// /proc/net/ip_vs through it. The error is the service dump's.
func Read(c *ipvs.Client, openProc func() (io.ReadCloser, error)) (*Table, error) {
	svcs, err := c.Services()
	if err != nil {
		return nil, err
	}
	t := &Table{Services: svcs, client: c}
	if openProc != nil {
		if procs := readProc(openProc); matches(procs, svcs) {
			t.procs = procs
		}
	}
	return t, nil
}

// readProc reads /proc/net/ip_vs; nil if it cannot.
func readProc(open func() (io.ReadCloser, error)) []procipvs.Service {
	f, err := open()
	if err != nil {
		return nil
	}
	defer f.Close()
	procs, err := procipvs.Read(f)
	if err != nil {
		return nil
	}
	return procs
}

// matches reports whether procs, the services of /proc/net/ip_vs, are
// svcs one for one.
func matches(procs []procipvs.Service, svcs []ipvs.ServiceEntry) bool {
	if len(procs) != len(svcs) {
		return false
	}
	for i := range procs {
		if !procs[i].Matches(&svcs[i]) {
			return false
		}
	}
	return true
}

// FromProc reports whether Dests reads Services[i]'s destinations from
// /proc, which lacks some of their fields (Dests may still fall back to
// netlink for it).
func (t *Table) FromProc(i int) bool {
	return t.procs != nil && (t.NetlinkFor == nil || !t.NetlinkFor(&t.Services[i]))
}

// Dests appends the destinations of Services[i] to dst. The error is a
// netlink dump's.
func (t *Table) Dests(dst []ipvs.DestinationEntry, i int) ([]ipvs.DestinationEntry, error) {
	svc := &t.Services[i]
	if t.FromProc(i) {
		n := len(dst)
		dests, err := t.procs[i].AppendDests(dst)
		if err == nil && !hasTunnel(dests[n:]) {
			return dests, nil
		}
		dst = dests[:n]
	}
	dests, err := t.client.Destinations(svc.ServiceKey)
	if err != nil {
		return dst, err
	}
	return append(dst, dests...), nil
}

func hasTunnel(dests []ipvs.DestinationEntry) bool {
	for i := range dests {
		if dests[i].ForwardMethod == ipvs.Tunnel {
			return true
		}
	}
	return false
}
