package keepalived

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
)

// Options change how a configuration is read.
type Options struct {
	// ConfigID is keepalived's configuration id (its -i option): @ID lines
	// apply when it is ID, @^ID lines when it is not. Empty: every @ line
	// is skipped and named.
	ConfigID string
}

// Import converts the keepalived configuration data (read from the file
// name; includes are read relative to it) into lvsadm's format. Warnings
// name, with file and line, each thing that was not converted. An error
// is input keepalived would reject or the importer cannot read.
func Import(name string, data []byte, opt Options) (*File, []string, error) {
	c := &converter{}
	r := &reader{configID: opt.ConfigID, warn: c.warn}
	if err := r.file(name, data); err != nil {
		return nil, nil, err
	}
	roots, err := tree(r.items)
	if err != nil {
		return nil, nil, err
	}
	f := &File{SchemaVersion: desired.SchemaVersion, Services: []Service{}}
	seen := map[string]pos{}
	var skipped []*node // blocks named once as a whole
	for _, n := range roots {
		if n.keyword() != "virtual_server" || len(n.words) > 1 && n.words[1] == "group" {
			c.warn(n.at, "%s", skipReason(n))
			skipped = append(skipped, n)
			continue
		}
		s, err := c.virtualServer(n)
		if err != nil {
			return nil, nil, err
		}
		if s == nil {
			continue
		}
		key := serviceKey(s)
		if first, ok := seen[key]; ok {
			return nil, nil, errorAt(n.at, "virtual_server %s is already defined at %s", strings.Join(n.args(), " "), first)
		}
		seen[key] = n.at
		f.Services = append(f.Services, *s)
	}
	// What the reader named within a block named as a whole (@ lines in a
	// vrrp_instance) is not named again.
	c.warnings = slices.DeleteFunc(c.warnings, func(w warning) bool {
		return slices.ContainsFunc(skipped, func(n *node) bool { return n.hasBlock && n.at.seq < w.at.seq && w.at.seq <= n.end.seq })
	})
	// Each part of the input is converted when its virtual server is
	// complete; the warnings are given in the input's order.
	sort.SliceStable(c.warnings, func(i, j int) bool { return c.warnings[i].at.seq < c.warnings[j].at.seq })
	var out []string
	for _, w := range c.warnings {
		out = append(out, w.at.String()+": "+w.msg)
	}
	return f, out, nil
}

// skipReason names a top-level statement other than a virtual_server.
func skipReason(n *node) string {
	switch kw := n.keyword(); {
	case kw == "virtual_server":
		return fmt.Sprintf("virtual_server group %s not converted: the importer does not expand virtual_server_group; write one virtual_server per address", strings.Join(n.words[2:], " "))
	case strings.HasPrefix(kw, "vrrp_"):
		return strings.Join(n.words, " ") + " skipped: VRRP stays keepalived's job"
	case kw == "global_defs":
		return "global_defs skipped: keepalived's global settings have no lvsadm equivalent"
	case kw == "virtual_server_group":
		return strings.Join(n.words, " ") + " skipped: the importer does not expand virtual server groups"
	default:
		return kw + " not converted: only virtual_server blocks become lvsadm services"
	}
}

func serviceKey(s *Service) string {
	if s.FWMark != 0 {
		return fmt.Sprintf("fwmark %d %s", s.FWMark, s.Family)
	}
	return fmt.Sprintf("%s %s %d", s.Protocol, s.Address, *s.Port)
}

type converter struct {
	warnings []warning
}

// warning is something not converted, or converted otherwise than
// written, and where.
type warning struct {
	at  pos
	msg string
}

func (c *converter) warn(at pos, format string, args ...any) {
	c.warnings = append(c.warnings, warning{at, fmt.Sprintf(format, args...)})
}

// notConverted names a keyword that has no lvsadm equivalent.
func (c *converter) notConverted(n *node, why string) {
	c.warn(n.at, "%s not converted: %s", n.keyword(), why)
}

// timers are the settings that a checker takes from its real server when
// it has none, and a real server from its virtual server.
type timers struct {
	delayLoop, connectTimeout, retryDelay, warmup *time.Duration
	retry                                         *uint64
	alpha                                         *bool
}

// read reads n if it is one of the timers' keywords. At the virtual and
// real server levels keepalived wants retry 1 or more; checkers take 0.
func (t *timers) read(n *node, level string) (bool, error) {
	var err error
	dur := func(dst **time.Duration, min time.Duration) {
		var d time.Duration
		if d, err = timer(n, min); err == nil {
			*dst = &d
		}
	}
	switch n.keyword() {
	case "delay_loop":
		dur(&t.delayLoop, time.Microsecond)
	case "connect_timeout":
		dur(&t.connectTimeout, time.Microsecond)
	case "delay_before_retry":
		dur(&t.retryDelay, 0)
	case "warmup":
		dur(&t.warmup, 0)
	case "retry", "nb_get_retry":
		lo := uint64(0)
		if level != "checker" {
			lo = 1
		}
		var v uint64
		if v, err = number(n, lo, math.MaxUint32); err == nil {
			t.retry = &v
		}
	case "alpha":
		var v bool
		if level == "virtual_server" {
			v, err = true, noArgs(n)
		} else {
			v, err = flag(n)
		}
		t.alpha = &v
	default:
		return false, nil
	}
	return true, err
}

// forwarding is a forwarding method (lb_kind, lvs_method).
type forwarding struct {
	method string // nat, dr or tunnel
	tunnel *desired.TunnelJSON
}

func readForwarding(n *node) (*forwarding, error) {
	args := n.args()
	if len(args) == 0 {
		return nil, errorAt(n.at, "%s: want NAT, DR or TUN", n.keyword())
	}
	switch args[0] {
	case "NAT", "DR":
		if len(args) > 1 {
			return nil, errorAt(n.at, "%s %s takes no options", n.keyword(), args[0])
		}
		return &forwarding{method: strings.ToLower(args[0])}, nil
	case "TUN":
	default:
		return nil, errorAt(n.at, "%s %s: want NAT, DR or TUN", n.keyword(), args[0])
	}
	t := desired.TunnelJSON{Type: "ipip"}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; a {
		case "type", "port":
			if i+1 == len(args) {
				return nil, errorAt(n.at, "%s TUN: %s needs a value", n.keyword(), a)
			}
			i++
			if a == "type" {
				if !slices.Contains([]string{"ipip", "gue", "gre"}, args[i]) {
					return nil, errorAt(n.at, "%s TUN: tunnel type %s: want ipip, gue or gre", n.keyword(), args[i])
				}
				t.Type = args[i]
				continue
			}
			p, err := number(&node{words: []string{"port", args[i]}, at: n.at}, 1, math.MaxUint16)
			if err != nil {
				return nil, err
			}
			t.Port = uint16(p)
		case "nocsum":
			t.Checksum = ""
		case "csum", "remcsum":
			t.Checksum = a
		default:
			return nil, errorAt(n.at, "%s TUN: unknown option %s", n.keyword(), a)
		}
	}
	switch {
	case (t.Type == "gue") != (t.Port != 0):
		return nil, errorAt(n.at, "%s TUN: a gue tunnel needs a port, and only gue takes one", n.keyword())
	case t.Type == "ipip" && t.Checksum != "":
		return nil, errorAt(n.at, "%s TUN: ipip tunnels have no checksum option", n.keyword())
	case t.Type == "gre" && t.Checksum == "remcsum":
		return nil, errorAt(n.at, "%s TUN: gre tunnels have no remcsum option", n.keyword())
	}
	f := &forwarding{method: "tunnel"}
	if t.Type != "ipip" {
		f.tunnel = &t
	}
	return f, nil
}

// keepalived's schedulers (lb_algo, lvs_sched).
var schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"}

// Defaults of keepalived (check_data.c, ipvswrapper.h, libipvs.h).
const (
	defaultDelayLoop          = 60 * time.Second
	defaultConnectTimeout     = 5 * time.Second
	defaultPersistenceTimeout = 360 // seconds
	maxPersistenceTimeout     = 31 * 86400
	maxWeight                 = math.MaxInt32
)

type virtualServer struct {
	n           *node
	fwmark      uint32
	addr        netip.Addr
	port        uint16
	protocol    string
	protocolAt  *node
	sched       string
	flags       []string
	ops         *node
	fwd         *forwarding
	persistence uint32
	granularity *node
	pe          string
	family      string
	quorum      *node
	quorumValue uint32
	hysteresis  uint32
	hystAt      *node
	sorry       *node
	sorryAddr   netip.Addr
	sorryPort   uint16
	sorryFwd    *forwarding
	timers      timers
	inhibit     bool
	weight      uint32
	vhost       string
	servers     []*realServer
}

type realServer struct {
	n        *node
	addr     netip.Addr
	port     uint16 // as written; 0 if none
	weight   *uint32
	fwd      *forwarding
	upper    uint32
	lower    uint32
	inhibit  *bool
	timers   timers
	vhost    string
	checkers []*checker
}

// address reads IP [PORT] (virtual_server, real_server, sorry_server).
func address(n *node, args []string) (netip.Addr, uint16, error) {
	if len(args) == 0 || len(args) > 2 {
		return netip.Addr{}, 0, errorAt(n.at, "%s: want an address and, optionally, a port", n.keyword())
	}
	a, err := netip.ParseAddr(args[0])
	if err != nil || a.Zone() != "" || a.Is4In6() {
		return netip.Addr{}, 0, errorAt(n.at, "%s %s: not an IPv4 or IPv6 address", n.keyword(), args[0])
	}
	var port uint64
	if len(args) == 2 {
		if port, err = number(&node{words: args, at: n.at}, 0, math.MaxUint16); err != nil {
			return netip.Addr{}, 0, errorAt(n.at, "%s: port %s: want a whole number from 0 to 65535", n.keyword(), args[1])
		}
	}
	return a, uint16(port), nil
}

// Keywords of keepalived's virtual_server block that lvsadm has no
// equivalent for, and why.
var vsNotConverted = map[string]string{
	"ha_suspend":           "lvsadm checks real servers whether or not the virtual address is up",
	"smtp_alert":           "lvsadm sends no mail",
	"snmp_name":            "lvsadm has no SNMP agent",
	"omega":                "lvsadm runs no notify scripts",
	"quorum_up":            "lvsadm runs no notify scripts",
	"quorum_down":          "lvsadm runs no notify scripts",
	"hashed":               "keepalived sets no flag for it",
	"sorry_server_inhibit": "lvsadm adds and removes the sorry server, it does not set its weight to 0",
}

func (c *converter) virtualServer(n *node) (*Service, error) {
	vs := &virtualServer{n: n, weight: 1}
	args := n.args()
	if len(args) == 2 && args[0] == "fwmark" {
		m, err := number(&node{words: args, at: n.at}, 1, math.MaxUint32)
		if err != nil {
			return nil, errorAt(n.at, "virtual_server fwmark %s: want a whole number from 1 to %d", args[1], uint32(math.MaxUint32))
		}
		vs.fwmark = uint32(m)
	} else {
		var err error
		if vs.addr, vs.port, err = address(n, args); err != nil {
			return nil, err
		}
	}
	if !n.hasBlock {
		return nil, errorAt(n.at, "virtual_server without a { } block")
	}
	for _, k := range n.block {
		if ok, err := vs.timers.read(k, "virtual_server"); ok || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		if why, ok := vsNotConverted[k.keyword()]; ok {
			c.notConverted(k, why)
			continue
		}
		if err := c.vsKeyword(vs, k); err != nil {
			return nil, err
		}
	}
	return c.service(vs)
}

func (c *converter) vsKeyword(vs *virtualServer, k *node) error {
	var err error
	switch kw := k.keyword(); kw {
	case "real_server":
		var rs *realServer
		if rs, err = c.realServer(k); err == nil {
			vs.servers = append(vs.servers, rs)
		}
	case "lb_algo", "lvs_sched":
		var s string
		if s, err = oneArg(k); err == nil {
			if !slices.Contains(schedulers, s) {
				return errorAt(k.at, "%s %s: want one of %s", kw, s, strings.Join(schedulers, ", "))
			}
			vs.sched = s
		}
	case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
		if err = noArgs(k); err == nil && !slices.Contains(vs.flags, kw) {
			vs.flags = append(vs.flags, kw)
		}
	case "ops":
		vs.ops, err = k, noArgs(k)
	case "lb_kind", "lvs_method":
		vs.fwd, err = readForwarding(k)
	case "sorry_server_lvs_method":
		vs.sorryFwd, err = readForwarding(k)
	case "persistence_timeout":
		var v uint64 = defaultPersistenceTimeout
		if len(k.words) > 1 {
			// 0 is out of keepalived's range: it ignores it, which leaves
			// the service not persistent.
			v, err = number(k, 0, maxPersistenceTimeout)
		}
		vs.persistence = uint32(v)
	case "persistence_granularity":
		vs.granularity = k
		_, err = oneArg(k)
	case "persistence_engine":
		vs.pe, err = oneArg(k)
	case "protocol":
		var p string
		if p, err = oneArg(k); err == nil {
			vs.protocol, vs.protocolAt = strings.ToLower(p), k
			if !slices.Contains([]string{"tcp", "udp", "sctp"}, vs.protocol) {
				return errorAt(k.at, "protocol %s: want TCP, UDP or SCTP", p)
			}
		}
	case "ip_family":
		var f string
		if f, err = oneArg(k); err == nil {
			if f != "inet" && f != "inet6" {
				return errorAt(k.at, "ip_family %s: want inet or inet6", f)
			}
			vs.family = f
		}
	case "inhibit_on_failure":
		vs.inhibit, err = true, noArgs(k)
	case "quorum":
		var v uint64
		if v, err = number(k, 1, math.MaxInt32); err == nil {
			vs.quorum, vs.quorumValue = k, uint32(v)
		}
	case "hysteresis":
		var v uint64
		if v, err = number(k, 0, math.MaxInt32); err == nil {
			vs.hysteresis, vs.hystAt = uint32(v), k
		}
	case "weight":
		var v uint64
		if v, err = number(k, 1, maxWeight); err == nil {
			vs.weight = uint32(v)
		}
	case "virtualhost":
		vs.vhost, err = oneArg(k)
	case "sorry_server":
		vs.sorry = k
		vs.sorryAddr, vs.sorryPort, err = address(k, k.args())
	default:
		return errorAt(k.at, "unknown keyword %s in virtual_server", kw)
	}
	return err
}

// Keywords of keepalived's real_server block that lvsadm has no
// equivalent for, and why.
var rsNotConverted = map[string]string{
	"notify_up":   "lvsadm runs no notify scripts",
	"notify_down": "lvsadm runs no notify scripts",
	"smtp_alert":  "lvsadm sends no mail",
	"snmp_name":   "lvsadm has no SNMP agent",
}

func (c *converter) realServer(n *node) (*realServer, error) {
	rs := &realServer{n: n}
	var err error
	if rs.addr, rs.port, err = address(n, n.args()); err != nil {
		return nil, err
	}
	if !n.hasBlock {
		return nil, errorAt(n.at, "real_server without a { } block")
	}
	for _, k := range n.block {
		if ok, err := rs.timers.read(k, "real_server"); ok || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		if why, ok := rsNotConverted[k.keyword()]; ok {
			c.notConverted(k, why)
			continue
		}
		if kind, ok := checkerKinds[k.keyword()]; ok {
			ch, err := readChecker(k, kind)
			if err != nil {
				return nil, err
			}
			rs.checkers = append(rs.checkers, ch)
			continue
		}
		switch kw := k.keyword(); kw {
		case "weight":
			var v uint64
			if v, err = number(k, 0, maxWeight); err == nil {
				w := uint32(v)
				rs.weight = &w
			}
		case "lvs_method":
			rs.fwd, err = readForwarding(k)
		case "uthreshold", "lthreshold":
			var v uint64
			if v, err = number(k, 0, math.MaxInt32); err == nil {
				if kw == "uthreshold" {
					rs.upper = uint32(v)
				} else {
					rs.lower = uint32(v)
				}
			}
		case "inhibit_on_failure":
			var v bool
			v, err = flag(k)
			rs.inhibit = &v
		case "virtualhost":
			rs.vhost, err = oneArg(k)
		default:
			return nil, errorAt(k.at, "unknown keyword %s in real_server", kw)
		}
		if err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// service converts a virtual server that has been read, completing it as
// keepalived does when it checks its configuration.
func (c *converter) service(vs *virtualServer) (*Service, error) {
	n := vs.n
	s := &Service{Scheduler: vs.sched, PersistenceEngine: vs.pe}
	if s.Scheduler == "" {
		s.Scheduler = "wlc" // keepalived's IPVS_DEF_SCHED
	}
	s.SchedulerFlags = vs.flags
	family := 4
	if vs.fwmark != 0 {
		s.FWMark = vs.fwmark
		if vs.protocolAt != nil {
			c.warn(vs.protocolAt.at, "protocol not converted: a fwmark service has no protocol (keepalived ignores it too)")
		}
		family = vs.fwmarkFamily()
		if family == 6 {
			s.Family = "ipv6"
		}
	} else if vs.addr.Is6() {
		family = 6
	}
	if vs.granularity != nil {
		m, err := netmask(vs.granularity, family)
		if err != nil {
			return nil, err
		}
		s.Netmask = m
		if vs.persistence == 0 {
			vs.persistence = defaultPersistenceTimeout // keepalived: granularity implies persistence
		}
	}
	if vs.fwmark == 0 {
		if vs.protocol == "" {
			vs.protocol = "udp"
			c.warn(n.at, "virtual_server %s has no protocol: converted as udp, keepalived's default", strings.Join(n.args(), " "))
		}
		port := vs.port
		s.Protocol, s.Address, s.Port = vs.protocol, vs.addr.String(), &port
		if vs.port == 0 && vs.persistence == 0 {
			// Only persistent services may have port 0; keepalived makes
			// them so.
			vs.persistence = defaultPersistenceTimeout
			c.warn(n.at, "virtual_server %s has no port: converted as persistent %d s, as keepalived does", strings.Join(n.args(), " "), defaultPersistenceTimeout)
		}
	}
	s.Persistent = vs.persistence
	if vs.ops != nil {
		if vs.fwmark == 0 && vs.protocol != "udp" {
			c.notConverted(vs.ops, "one-packet scheduling needs UDP (keepalived drops it too)")
		} else {
			s.OnePacket = true
		}
	}
	if vs.fwd == nil {
		vs.fwd = &forwarding{method: "nat"}
		c.warn(n.at, "virtual_server %s has no lb_kind: converted as NAT, keepalived's default", strings.Join(n.args(), " "))
	}

	var weightSum uint64
	seen := map[desired.ServerKey]pos{}
	for _, rs := range vs.servers {
		srv, ok := c.server(vs, rs, family)
		if !ok {
			continue
		}
		key := desired.ServerKey{Addr: rs.addr, Port: srv.Port}
		if first, dup := seen[key]; dup {
			c.warn(rs.n.at, "real_server %s not converted: it is already defined at %s (keepalived drops it too)", strings.Join(rs.n.args(), " "), first)
			continue
		}
		seen[key] = rs.n.at
		weightSum += uint64(srv.Weight)
		s.RealServers = append(s.RealServers, srv)
	}
	if len(s.RealServers) == 0 {
		c.warn(n.at, "virtual_server %s not converted: it has no real servers (keepalived ignores it too)", strings.Join(n.args(), " "))
		return nil, nil
	}
	hoistCheck(s)

	if vs.sorry != nil {
		srv, ok := c.sorryServer(vs, family)
		if ok {
			s.SorryServer = &srv
		}
	}
	if vs.quorum != nil || s.SorryServer != nil {
		q := vs.quorumValue
		if vs.quorum == nil {
			q = 1 // keepalived's default
		}
		if uint64(q) > weightSum {
			// keepalived lowers it, or the service could never be up.
			at := n.at
			if vs.quorum != nil {
				at = vs.quorum.at
			}
			c.warn(at, "quorum %d converted as %d, the real servers' total weight, as keepalived does", q, weightSum)
			q = uint32(weightSum)
		}
		s.Quorum = &q
		s.Hysteresis = vs.hysteresis
		if q > 0 && s.Hysteresis >= q {
			s.Hysteresis = q - 1
			c.warn(vs.hystAt.at, "hysteresis %d converted as %d, one less than quorum, as keepalived does", vs.hysteresis, s.Hysteresis)
		}
	} else if vs.hysteresis != 0 {
		c.warn(vs.hystAt.at, "hysteresis not converted: it needs a quorum or a sorry_server")
	}
	return s, nil
}

// fwmarkFamily is a fwmark service's address family: ip_family, else that
// of its real servers that are not tunnelled (which must all have one),
// else that of all of them if they agree, else IPv4 (keepalived's rules).
func (vs *virtualServer) fwmarkFamily() int {
	switch vs.family {
	case "inet":
		return 4
	case "inet6":
		return 6
	}
	all := 0
	for _, rs := range vs.servers {
		if vs.method(rs) != "tunnel" {
			return addrFamily(rs.addr)
		}
		switch {
		case all == 0:
			all = addrFamily(rs.addr)
		case all != addrFamily(rs.addr):
			return 4
		}
	}
	if all == 0 {
		return 4
	}
	return all
}

func (vs *virtualServer) method(rs *realServer) string {
	if rs.fwd != nil {
		return rs.fwd.method
	}
	if vs.fwd != nil {
		return vs.fwd.method
	}
	return "nat"
}

// netmask reads persistence_granularity: a dotted IPv4 mask, or an IPv6
// prefix length.
func netmask(n *node, family int) (any, error) {
	s := n.words[1]
	if family == 6 {
		v, err := number(n, 1, 128)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return nil, errorAt(n.at, "persistence_granularity %s: want an IPv4 netmask such as 255.255.255.0", s)
	}
	if s == "255.255.255.255" {
		return nil, nil // IPVS's default: every client on its own
	}
	return s, nil
}

// serverPort is the port IPVS gets for a real or sorry server written
// with port (0: none): NAT keeps it (the service's if none); the other
// methods take the service's; fwmark services have none but for NAT.
func (vs *virtualServer) serverPort(method string, port uint16) uint16 {
	switch {
	case method == "nat" && port == 0 && vs.fwmark == 0:
		return vs.port
	case method == "nat":
		return port
	case vs.fwmark != 0:
		return 0
	}
	return vs.port
}

func (c *converter) server(vs *virtualServer, rs *realServer, family int) (Server, bool) {
	fwd := rs.fwd
	if fwd == nil {
		fwd = vs.fwd
	}
	if fwd.method != "tunnel" && addrFamily(rs.addr) != family {
		c.warn(rs.n.at, "real_server %s not converted: its address family is not the virtual server's (keepalived drops it too)", strings.Join(rs.n.args(), " "))
		return Server{}, false
	}
	weight := vs.weight
	if rs.weight != nil {
		weight = *rs.weight
	}
	srv := Server{
		Address: rs.addr.String(), Port: vs.serverPort(fwd.method, rs.port), Method: fwd.method, Weight: weight,
		UpperThreshold: rs.upper, LowerThreshold: rs.lower, Tunnel: fwd.tunnel,
	}
	srv.HealthCheck = c.serverCheck(vs, rs, &srv)
	return srv, true
}

func addrFamily(a netip.Addr) int {
	if a.Is6() {
		return 6
	}
	return 4
}

func (c *converter) sorryServer(vs *virtualServer, fam int) (desired.ServerJSON, bool) {
	fwd := vs.sorryFwd
	if fwd == nil {
		fwd = vs.fwd
	}
	if fwd.method != "tunnel" && addrFamily(vs.sorryAddr) != fam {
		c.warn(vs.sorry.at, "sorry_server not converted: its address family is not the virtual server's (keepalived drops it too)")
		return desired.ServerJSON{}, false
	}
	return desired.ServerJSON{
		Address: vs.sorryAddr.String(), Port: vs.serverPort(fwd.method, vs.sorryPort), Method: fwd.method,
		Weight: 1, Tunnel: fwd.tunnel,
	}, true
}

// hoistCheck moves a check that every real server has, the same, to the
// service, where it is the default of all of them.
func hoistCheck(s *Service) {
	first := s.RealServers[0].HealthCheck
	if first == nil {
		return
	}
	for _, r := range s.RealServers[1:] {
		if r.HealthCheck == nil || !equalChecks(r.HealthCheck, first) {
			return
		}
	}
	s.HealthCheck = first
	for i := range s.RealServers {
		s.RealServers[i].HealthCheck = nil
	}
}
