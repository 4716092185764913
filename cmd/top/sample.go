package top

import (
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/internal/kerneltable"
	"github.com/lvsadm/lvsadm/format"
	"github.com/lvsadm/lvsadm/ipvs"
)

// counters are the 64-bit totals rates are computed from; packets and
// bytes are in and out together.
type counters struct {
	conns, packets, bytes uint64
}

func countersOf(s *ipvs.Stats) counters {
	return counters{s.Connections, s.PacketsIn + s.PacketsOut, s.BytesIn + s.BytesOut}
}

// rates are per second over the time between two reads of the counters;
// ok is false when there is no earlier read (or the counters went back, as
// after ipvsadm -Z).
type rates struct {
	conns, packets, bytes float64
	ok                    bool
}

// row is what a service and a real server have in common. A real
// server's texts are made only when shown, as there can be many.
type row struct {
	server netip.AddrPort // a real server's address
	method ipvs.ForwardMethod
	weight uint64 // a service's: the sum of its real servers' weights
	active uint64
	inact  uint64
	rates  rates
	health string // empty without lvsadm run's status
	rank   int    // a service's position in ipvsadm's order
}

// service is a service row with its real servers.
type service struct {
	row
	id    string // identity across reads: "-t 192.0.2.1:80"
	name  string // the first column: "TCP  192.0.2.1:80 rr"
	addr  string // what the filter matches: "TCP  192.0.2.1:80"
	key   ipvs.ServiceKey
	dests []row
	// counted says whether the real servers' counters were read (over
	// netlink); without them their rates are unknown.
	counted bool
	// zeroWeight is the number of real servers at weight 0.
	zeroWeight int
}

// snapshot is one read of the table.
type snapshot struct {
	services []service
	health   bool // whether lvsadm run's status was read
}

// sample is a counter read, kept for the next refresh's rates.
type sample struct {
	c  counters
	at time.Time
}

// sampler reads the table and turns counter differences into rates.
type sampler struct {
	client   *ipvs.Client
	openProc func() (io.ReadCloser, error)
	now      func() time.Time
	status   func() *statusIndex // nil or returning nil: no health column
	prev     map[string]sample
}

// read reads the table once: the services (with their counters) from one
// netlink dump, the real servers from /proc/net/ip_vs through package
// kerneltable, except for the services counted names, whose real servers
// are dumped over netlink for their counters.
func (s *sampler) read(counted func(ipvs.ServiceKey) bool) (*snapshot, error) {
	tbl, err := kerneltable.Read(s.client, s.openProc)
	if err != nil {
		return nil, err
	}
	if counted == nil {
		counted = func(ipvs.ServiceKey) bool { return false }
	}
	tbl.NetlinkFor = func(e *ipvs.ServiceEntry) bool { return counted(e.ServiceKey) }
	at := s.now()
	next := make(map[string]sample, len(tbl.Services))
	snap := &snapshot{services: make([]service, len(tbl.Services))}
	var dests []ipvs.DestinationEntry
	for rank, i := range format.ServiceOrder(tbl.Services) {
		e := &tbl.Services[i]
		if dests, err = tbl.Dests(dests[:0], i); err != nil {
			return nil, err
		}
		svc := &snap.services[rank]
		desc := describe(e.ServiceKey)
		addr := serviceAddr(e)
		*svc = service{row: row{rank: rank}, id: desc, name: addr + " " + e.Scheduler, addr: addr, key: e.ServiceKey}
		svc.counted = counted(e.ServiceKey)
		svc.rates = s.rate(next, svc.id, countersOf(&e.Stats), at)
		svc.dests = make([]row, len(dests))
		for j := range dests {
			d := &dests[j]
			r := row{server: netip.AddrPortFrom(d.Addr, d.Port), method: d.ForwardMethod,
				weight: uint64(d.Weight), active: uint64(d.ActiveConns), inact: uint64(d.InactiveConns)}
			if svc.counted {
				r.rates = s.rate(next, desc+" -> "+r.server.String(), countersOf(&d.Stats), at)
			}
			if d.Weight == 0 {
				svc.zeroWeight++
			}
			svc.weight += r.weight
			svc.active += r.active
			svc.inact += r.inact
			svc.dests[j] = r
		}
	}
	s.prev = next
	// The status comes last, once every counter of this read is taken.
	if s.status != nil {
		if st := s.status(); st != nil {
			snap.setHealth(st)
		}
	}
	return snap, nil
}

// setHealth gives each real server its state in lvsadm run's status, and
// each service how many of its checked servers are up.
func (snap *snapshot) setHealth(st *statusIndex) {
	snap.health = true
	for i := range snap.services {
		svc := &snap.services[i]
		var up, checked int
		for j := range svc.dests {
			d := &svc.dests[j]
			d.health = st.server(svc.id, d.server.String())
			if d.health != "" && d.health != "unchecked" {
				checked++
				if d.health == "up" {
					up++
				}
			}
		}
		if checked > 0 {
			svc.health = strconv.Itoa(up) + "/" + strconv.Itoa(checked) + " up"
		}
		if st.sorry[svc.id] {
			svc.health = strings.TrimSpace(svc.health + " sorry")
		}
	}
}

// rate records c for id in next and returns the rates since the previous
// read of id, if there was one.
func (s *sampler) rate(next map[string]sample, id string, c counters, at time.Time) rates {
	next[id] = sample{c, at}
	p, ok := s.prev[id]
	secs := at.Sub(p.at).Seconds()
	if !ok || secs <= 0 || c.conns < p.c.conns || c.packets < p.c.packets || c.bytes < p.c.bytes {
		return rates{}
	}
	return rates{
		conns:   float64(c.conns-p.c.conns) / secs,
		packets: float64(c.packets-p.c.packets) / secs,
		bytes:   float64(c.bytes-p.c.bytes) / secs,
		ok:      true,
	}
}

// describe is desired.Describe, which lvsadm run's status names services
// by, without fmt for the common case.
func describe(k ipvs.ServiceKey) string {
	switch {
	case k.IsFWMark():
		return desired.Describe(k)
	case k.Protocol == ipvs.TCP:
		return "-t " + netip.AddrPortFrom(k.Addr, k.Port).String()
	case k.Protocol == ipvs.UDP:
		return "-u " + netip.AddrPortFrom(k.Addr, k.Port).String()
	}
	return "--sctp-service " + netip.AddrPortFrom(k.Addr, k.Port).String()
}

// serviceAddr is the service without its scheduler: "TCP  192.0.2.1:80".
func serviceAddr(e *ipvs.ServiceEntry) string {
	if e.IsFWMark() {
		s := "FWM  " + strconv.FormatUint(uint64(e.FWMark), 10)
		if desired.Key(e.ServiceKey).Family == ipvs.IPv6 {
			s += " IPv6"
		}
		return s
	}
	p := e.Protocol.String()
	for len(p) < 4 {
		p += " "
	}
	return p + " " + netip.AddrPortFrom(e.Addr, e.Port).String()
}
