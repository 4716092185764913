// Package reconcile makes the kernel's IPVS table what a desired table
// says, changing only what differs: plan computes the changes, apply makes
// them without disrupting traffic.
//
// A service in the desired table is owned by it whole: its settings and
// its complete list of real servers. Services the desired table does not
// name are left alone unless pruning is asked for. Whatever the kernel
// lets be edited in place (a service's scheduler, flags, persistence,
// netmask and engine; a real server's method, weight, thresholds and
// tunnel settings) is edited, so counters, persistence templates and
// connections survive; only identities are added and deleted. A real
// server that goes can be drained first: weight 0, deleted once its
// connections have ended or a timeout has passed.
package reconcile

import (
	"io"
	"slices"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/internal/kerneltable"
	"github.com/lvsadm/lvsadm/ipvs"
)

// Action is what a change does.
type Action int

// Actions, in the order a plan lists them within a service.
const (
	Add Action = iota + 1
	Edit
	Remove
)

func (a Action) String() string {
	switch a {
	case Add:
		return "add"
	case Edit:
		return "edit"
	case Remove:
		return "remove"
	}
	return "?"
}

// Change is one difference between the kernel and the desired table: a
// service (Server nil) or one real server of it.
type Change struct {
	Action Action
	// Service is the desired service, or for a removal the kernel's; it
	// points into the tables the plan was made from.
	Service *ipvs.Service
	// OldService is the kernel's service for an edit of it.
	OldService *ipvs.Service
	// Server is the desired real server, or for a removal the kernel's;
	// OldServer is the kernel's for an edit.
	// Both point into the tables the plan was made from.
	Server, OldServer *ipvs.Destination
	// Source is where the desired service or server is defined (empty for
	// removals).
	Source desired.Source
	// Servers are, for the removal of a whole service, its real servers.
	Servers []ipvs.DestinationEntry
}

// IsServer reports whether the change is to a real server.
func (c *Change) IsServer() bool { return c.Server != nil }

// Plan is the changes that make the kernel's table the desired one, in the
// order apply makes them.
type Plan struct {
	Changes []Change
}

// Empty reports whether nothing differs.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Counts returns how many things a plan adds, changes and removes.
func (p *Plan) Counts() (add, change, remove int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Add:
			add++
		case Edit:
			change++
		case Remove:
			remove++
		}
	}
	return add, change, remove
}

// Options say what a plan may do.
type Options struct {
	// Prune removes services the desired table does not name.
	Prune bool
	// FullRead reads every service's real servers over netlink, where
	// otherwise /proc/net/ip_vs serves for services whose desired servers
	// have no thresholds or tunnels. /proc does not show thresholds, so
	// without it thresholds set in the kernel on such services are not seen.
	FullRead bool
}

// current is the kernel's table as diff reads it: the services, and each
// one's real servers on demand, so that a large table's servers need not
// all be held at once.
type current struct {
	services []ipvs.ServiceEntry
	index    map[ipvs.ServiceKey]int
	// dests appends service i's real servers to dst; they may lack what
	// /proc does not show.
	dests func(dst []ipvs.DestinationEntry, i int) ([]ipvs.DestinationEntry, error)
	// complete returns service i's real servers with every field, in a
	// slice of their own that changes may point into; have is what dests
	// gave, or nil.
	complete func(i int, have []ipvs.DestinationEntry) ([]ipvs.DestinationEntry, error)
}

// Make reads the kernel's table once and plans the changes that make it
// want: ReadKernel, then Kernel.Plan.
func Make(c *ipvs.Client, openProc func() (io.ReadCloser, error), want *desired.Table, o Options) (*Plan, error) {
	k, err := ReadKernel(c, openProc, o)
	if err != nil {
		return nil, err
	}
	return k.Plan(want, o)
}

// Kernel is the kernel's table as a plan reads it. It needs no desired
// table, so a command can read it while it parses its file.
type Kernel struct {
	c   *ipvs.Client
	tbl *kerneltable.Table
}

// ReadKernel reads the kernel's table once: the services over netlink,
// their real servers from /proc/net/ip_vs through openProc (nil, or
// o.FullRead: everything over netlink). c must not be used elsewhere
// until it returns.
func ReadKernel(c *ipvs.Client, openProc func() (io.ReadCloser, error), o Options) (*Kernel, error) {
	if o.FullRead {
		openProc = nil
	}
	tbl, err := kerneltable.Read(c, openProc)
	if err != nil {
		return nil, err
	}
	return &Kernel{c: c, tbl: tbl}, nil
}

// Plan plans the changes that make the kernel's table want. A service
// whose real servers are to be edited or removed is read again over
// netlink, so that their edits and rollbacks carry every field; so is one
// whose desired servers have what /proc does not show.
func (k *Kernel) Plan(want *desired.Table, o Options) (*Plan, error) {
	c, tbl := k.c, k.tbl
	netlinkFor := needsNetlink(want)
	tbl.NetlinkFor = func(s *ipvs.ServiceEntry) bool { return netlinkFor[desired.Key(s.ServiceKey)] }
	cur := &current{services: tbl.Services, index: make(map[ipvs.ServiceKey]int, len(tbl.Services)), dests: tbl.Dests,
		complete: func(i int, have []ipvs.DestinationEntry) ([]ipvs.DestinationEntry, error) {
			if tbl.FromProc(i) {
				return c.Destinations(tbl.Services[i].ServiceKey)
			}
			if have == nil {
				return tbl.Dests(nil, i)
			}
			return slices.Clone(have), nil
		}}
	for i := range tbl.Services {
		cur.index[desired.Key(tbl.Services[i].ServiceKey)] = i
	}
	return diff(cur, want, o)
}

// needsNetlink names the desired services whose servers have fields
// /proc/net/ip_vs does not show.
func needsNetlink(want *desired.Table) map[ipvs.ServiceKey]bool {
	m := map[ipvs.ServiceKey]bool{}
	for i := range want.Services {
		s := &want.Services[i]
		for j := range s.Servers {
			d := &s.Servers[j].Destination
			if d.UpperThreshold != 0 || d.LowerThreshold != 0 || d.ForwardMethod == ipvs.Tunnel {
				m[desired.Key(s.ServiceKey)] = true
			}
		}
	}
	return m
}

// diff compares the kernel's table with the desired one: the desired
// services in file order, each followed by its real servers' changes
// (additions, edits, then removals, so that capacity comes before it
// goes), then the services to prune.
func diff(cur *current, want *desired.Table, o Options) (*Plan, error) {
	var p Plan
	// Room for adding every service the kernel lacks: a large apply into an
	// empty kernel otherwise copies the growing list several times over.
	size := 0
	for i := range want.Services {
		if _, exists := cur.index[desired.Key(want.Services[i].ServiceKey)]; !exists {
			size += 1 + len(want.Services[i].Servers)
		}
	}
	p.Changes = make([]Change, 0, size)
	named := make(map[ipvs.ServiceKey]bool, len(want.Services))
	var scratch []ipvs.DestinationEntry // one service's servers at a time
	for i := range want.Services {
		ws := &want.Services[i]
		key := desired.Key(ws.ServiceKey)
		named[key] = true
		ci, exists := cur.index[key]
		if !exists {
			p.Changes = append(p.Changes, Change{Action: Add, Service: &ws.Service, Source: ws.Source})
			for j := range ws.Servers {
				p.Changes = append(p.Changes, Change{Action: Add, Service: &ws.Service, Server: &ws.Servers[j].Destination, Source: ws.Servers[j].Source})
			}
			continue
		}
		ks := cur.services[ci].Service
		if !sameService(&ks, &ws.Service) {
			old := ks
			p.Changes = append(p.Changes, Change{Action: Edit, Service: &ws.Service, OldService: &old, Source: ws.Source})
		}
		have, err := cur.dests(scratch[:0], ci)
		if err != nil {
			return nil, err
		}
		scratch = have
		changes := diffServers(ws, have)
		if pointsInto(changes) {
			// Edits and removals keep the kernel's servers (for drains
			// and rollbacks): complete ones, in memory of their own.
			if have, err = cur.complete(ci, have); err != nil {
				return nil, err
			}
			changes = diffServers(ws, have)
		}
		p.Changes = append(p.Changes, changes...)
	}
	if o.Prune {
		for i := range cur.services {
			if !named[desired.Key(cur.services[i].ServiceKey)] {
				servers, err := cur.complete(i, nil)
				if err != nil {
					return nil, err
				}
				p.Changes = append(p.Changes, Change{Action: Remove, Service: &cur.services[i].Service, Servers: servers})
			}
		}
	}
	return &p, nil
}

// pointsInto reports whether one of a service's changes keeps a kernel
// server: an edit (its old state) or a removal.
func pointsInto(changes []Change) bool {
	for i := range changes {
		if changes[i].Action != Add {
			return true
		}
	}
	return false
}

func diffServers(ws *desired.Service, have []ipvs.DestinationEntry) []Change {
	af := desired.Key(ws.ServiceKey).Family
	keys := make([]desired.ServerKey, len(have))
	for i := range have {
		keys[i] = desired.DestKey(af, &have[i].Destination)
	}
	// A service has few real servers: a map only pays for many.
	var byKey map[desired.ServerKey]int
	if len(have) > 32 {
		byKey = make(map[desired.ServerKey]int, len(have))
		for i, k := range keys {
			byKey[k] = i
		}
	}
	find := func(k desired.ServerKey) int {
		if byKey != nil {
			if i, ok := byKey[k]; ok {
				return i
			}
			return -1
		}
		for i := range keys {
			if keys[i] == k {
				return i
			}
		}
		return -1
	}
	var adds, edits, removes []Change
	wanted := make([]bool, len(have))
	for j := range ws.Servers {
		wd := &ws.Servers[j]
		i := find(desired.DestKey(af, &wd.Destination))
		switch {
		case i < 0:
			adds = append(adds, Change{Action: Add, Service: &ws.Service, Server: &wd.Destination, Source: wd.Source})
		case !sameServer(&have[i].Destination, &wd.Destination):
			wanted[i] = true
			edits = append(edits, Change{Action: Edit, Service: &ws.Service, Server: &wd.Destination, OldServer: &have[i].Destination, Source: wd.Source})
		default:
			wanted[i] = true
		}
	}
	for i := range have {
		if !wanted[i] {
			removes = append(removes, Change{Action: Remove, Service: &ws.Service, Server: &have[i].Destination})
		}
	}
	return append(append(adds, edits...), removes...)
}

// sameService compares the settings of a kernel service k with a desired
// one w. The kernel marks every listed service hashed.
func sameService(k, w *ipvs.Service) bool {
	return k.Scheduler == w.Scheduler && k.PE == w.PE && k.Flags&^ipvs.FlagHashed == w.Flags&^ipvs.FlagHashed &&
		k.Timeout == w.Timeout && k.Netmask == w.Netmask
}

// sameServer compares a kernel real server k with a desired one w. The
// kernel makes a real server with a local address Local whatever method
// it is given, so Local matches any method.
func sameServer(k, w *ipvs.Destination) bool {
	return (k.ForwardMethod == w.ForwardMethod || k.ForwardMethod == ipvs.Local) && k.Weight == w.Weight &&
		k.UpperThreshold == w.UpperThreshold && k.LowerThreshold == w.LowerThreshold &&
		k.TunnelType == w.TunnelType && k.TunnelPort == w.TunnelPort && k.TunnelFlags == w.TunnelFlags
}

// Between plans the changes that turn the table before into the table
// after for the services after names, without reading the kernel: for a
// caller that knows what it last applied (the health-checking daemon).
// Servers whose desired state has no thresholds compare as usual.
func Between(before, after *desired.Table) *Plan {
	var all [][]ipvs.DestinationEntry
	cur := &current{index: map[ipvs.ServiceKey]int{},
		dests: func(_ []ipvs.DestinationEntry, i int) ([]ipvs.DestinationEntry, error) { return all[i], nil },
		complete: func(i int, _ []ipvs.DestinationEntry) ([]ipvs.DestinationEntry, error) {
			return all[i], nil
		}}
	for i := range before.Services {
		s := &before.Services[i]
		cur.index[desired.Key(s.ServiceKey)] = len(cur.services)
		cur.services = append(cur.services, ipvs.ServiceEntry{Service: s.Service})
		dests := make([]ipvs.DestinationEntry, len(s.Servers))
		for j := range s.Servers {
			dests[j] = ipvs.DestinationEntry{Destination: s.Servers[j].Destination}
		}
		all = append(all, dests)
	}
	p, _ := diff(cur, after, Options{}) // reads nothing that can fail
	return p
}
