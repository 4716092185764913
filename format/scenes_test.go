package format

import (
	"net/netip"

	"github.com/lvsadm/lvsadm/ipvs"
)

// The scenes below are the tables testdata/capture-vm.sh builds with the
// reference ipvsadm, written out as the kernel reports them: in the kernel's
// dump order (the --nosort captures), with the HASHED flag set, host masks
// where no -M was given, no protocol for fwmark services, all counters zero.

// referenceInfo is what the VM's kernel reports.
var referenceInfo = ipvs.Info{Version: 0x010201, ConnTableSize: 4096}

func serviceKey(proto ipvs.Protocol, addrPort string) ipvs.ServiceKey {
	ap := netip.MustParseAddrPort(addrPort)
	fam := ipvs.IPv4
	if ap.Addr().Is6() {
		fam = ipvs.IPv6
	}
	return ipvs.ServiceKey{Family: fam, Protocol: proto, Addr: ap.Addr(), Port: ap.Port()}
}

func tcp(addrPort string) ipvs.ServiceKey  { return serviceKey(ipvs.TCP, addrPort) }
func udp(addrPort string) ipvs.ServiceKey  { return serviceKey(ipvs.UDP, addrPort) }
func sctp(addrPort string) ipvs.ServiceKey { return serviceKey(ipvs.SCTP, addrPort) }

func fwmark(mark uint32) ipvs.ServiceKey {
	return ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: mark}
}

func fwmark6(mark uint32) ipvs.ServiceKey {
	return ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: mark}
}

type serviceOption func(*ipvs.ServiceEntry)

func persistent(timeout uint32) serviceOption {
	return func(s *ipvs.ServiceEntry) { s.Flags |= ipvs.FlagPersistent; s.Timeout = timeout }
}

func netmask(m uint32) serviceOption { return func(s *ipvs.ServiceEntry) { s.Netmask = m } }

func flags(f ipvs.ServiceFlags) serviceOption { return func(s *ipvs.ServiceEntry) { s.Flags |= f } }

func pe(name string) serviceOption { return func(s *ipvs.ServiceEntry) { s.PE = name } }

func service(k ipvs.ServiceKey, scheduler string, opts ...serviceOption) ipvs.ServiceEntry {
	s := ipvs.ServiceEntry{Service: ipvs.Service{
		ServiceKey: k,
		Scheduler:  scheduler,
		Flags:      ipvs.FlagHashed,
		Netmask:    0xffffffff,
	}}
	if k.Family == ipvs.IPv6 {
		s.Netmask = 128
	}
	for _, opt := range opts {
		opt(&s)
	}
	return s
}

type destOption func(*ipvs.DestinationEntry)

func thresholds(upper, lower uint32) destOption {
	return func(d *ipvs.DestinationEntry) { d.UpperThreshold, d.LowerThreshold = upper, lower }
}

func encap(t ipvs.TunnelType, port uint16, f ipvs.TunnelFlags) destOption {
	return func(d *ipvs.DestinationEntry) { d.TunnelType, d.TunnelPort, d.TunnelFlags = t, port, f }
}

func dest(addrPort string, fwd ipvs.ForwardMethod, weight uint32, opts ...destOption) ipvs.DestinationEntry {
	ap := netip.MustParseAddrPort(addrPort)
	fam := ipvs.IPv4
	if ap.Addr().Is6() {
		fam = ipvs.IPv6
	}
	d := ipvs.DestinationEntry{Destination: ipvs.Destination{
		Family: fam, Addr: ap.Addr(), Port: ap.Port(), ForwardMethod: fwd, Weight: weight,
	}}
	for _, opt := range opts {
		opt(&d)
	}
	return d
}

func table(s ipvs.ServiceEntry, dests ...ipvs.DestinationEntry) Table {
	return Table{Service: s, Dests: dests}
}

const (
	masq  = ipvs.Masquerade
	route = ipvs.Route
	tun   = ipvs.Tunnel
)

// servicesScene: flags, persistence, masks, PE, fwmarks, IPv6, SCTP.
var servicesScene = []Table{
	table(service(tcp("192.0.2.3:443"), "wrr", persistent(300), netmask(0xffffff00)),
		dest("198.51.100.7:443", masq, 10)),
	table(service(sctp("192.0.2.2:3868"), "sh", flags(ipvs.FlagSched1|ipvs.FlagSched2)),
		dest("198.51.100.6:3868", masq, 1)),
	table(service(udp("[2001:db8::1]:53"), "fo")),
	table(service(tcp("[2001:db8::1]:80"), "rr", persistent(200), netmask(64)),
		dest("[2001:db8:1234:5678:9abc:def0:1234:5679]:65535", masq, 1, thresholds(7, 3)),
		dest("[2001:db8::10]:80", masq, 2)),
	table(service(udp("192.0.2.5:5060"), "rr", persistent(60), pe("sip"), flags(ipvs.FlagOnePacket))),
	table(service(udp("192.0.2.9:5060"), "rr", pe("sip"))),
	table(service(udp("192.0.2.1:53"), "wlc", flags(ipvs.FlagOnePacket)),
		dest("198.51.100.1:53", masq, 3)),
	table(service(sctp("[2001:db8::2]:9"), "ovf", persistent(1))),
	table(service(tcp("192.0.2.4:0"), "lc", persistent(360))),
	table(service(tcp("192.0.2.10:65535"), "dh", flags(ipvs.FlagSched2), persistent(100), netmask(0xffff0000))),
	table(service(tcp("[2001:db8:ffff:ffff:ffff:ffff:ffff:fffe]:65535"), "nq")),
	table(service(tcp("192.0.2.6:80"), "mh", flags(ipvs.FlagSched1))),
	table(service(tcp("192.0.2.7:80"), "sh", flags(ipvs.FlagSched3))),
	table(service(tcp("192.0.2.1:80"), "rr"),
		dest("203.0.113.1:80", masq, 1),
		dest("198.51.100.5:80", route, 2147483647, thresholds(2147483647, 0)),
		dest("198.51.100.4:80", tun, 65535),
		dest("198.51.100.3:80", route, 0),
		dest("198.51.100.2:8080", masq, 5, thresholds(100, 10)),
		dest("198.51.100.1:80", masq, 1)),
	table(service(tcp("192.0.2.8:80"), "wlc", flags(ipvs.FlagSched1|ipvs.FlagSched3))),
	table(service(fwmark(1), "rr"),
		dest("198.51.100.11:8080", masq, 1),
		dest("198.51.100.10:0", route, 1)),
	table(service(fwmark6(2), "rr", persistent(120), netmask(64)),
		dest("[2001:db8::20]:0", route, 1)),
	table(service(fwmark(3), "sed", persistent(10), flags(ipvs.FlagOnePacket))),
}

// tunnelsScene: every tunnel type and checksum setting, mixed families.
var tunnelsScene = []Table{
	table(service(udp("[2001:db8::1]:53"), "rr"),
		dest("[2001:db8::22]:53", masq, 1),
		dest("[2001:db8::21]:53", tun, 1, encap(ipvs.TunnelGRE, 0, ipvs.TunnelChecksum)),
		dest("198.51.100.20:53", tun, 1, encap(ipvs.TunnelIPIP, 0, ipvs.TunnelNoChecksum))),
	table(service(tcp("192.0.2.20:80"), "rr"),
		dest("198.51.100.40:80", route, 1),
		dest("198.51.100.39:80", masq, 1),
		dest("[2001:db8::31]:80", tun, 1, encap(ipvs.TunnelGUE, 6080, ipvs.TunnelChecksum)),
		dest("[2001:db8::30]:80", tun, 1, encap(ipvs.TunnelIPIP, 0, ipvs.TunnelNoChecksum)),
		dest("198.51.100.38:80", tun, 1, encap(ipvs.TunnelGRE, 0, ipvs.TunnelNoChecksum)),
		dest("198.51.100.37:80", tun, 1, encap(ipvs.TunnelGRE, 0, ipvs.TunnelChecksum)),
		dest("198.51.100.36:80", tun, 1, encap(ipvs.TunnelGRE, 0, ipvs.TunnelNoChecksum)),
		dest("198.51.100.35:80", tun, 1, encap(ipvs.TunnelGUE, 1, ipvs.TunnelNoChecksum)),
		dest("198.51.100.34:80", tun, 1, encap(ipvs.TunnelGUE, 65535, ipvs.TunnelRemoteChecksum)),
		dest("198.51.100.33:80", tun, 1, encap(ipvs.TunnelGUE, 6080, ipvs.TunnelChecksum)),
		dest("198.51.100.32:80", tun, 1, encap(ipvs.TunnelGUE, 6080, ipvs.TunnelNoChecksum)),
		dest("198.51.100.31:80", tun, 1, encap(ipvs.TunnelIPIP, 0, ipvs.TunnelNoChecksum)),
		dest("198.51.100.30:80", tun, 1, encap(ipvs.TunnelIPIP, 0, ipvs.TunnelNoChecksum))),
}

// wrapScene: fwmarks and IPv6 address words 2^31 or more apart, and mixed
// families among destinations, where ipvsadm's comparator wraps.
var wrapScene = []Table{
	table(service(tcp("[2001:db8::2]:80"), "rr"),
		dest("[2001:db8::4]:80", masq, 1),
		dest("198.51.100.3:80", tun, 1),
		dest("[2001:db8:8000::5]:81", masq, 1),
		dest("[2001:db8:7fff::5]:80", masq, 1),
		dest("[2001:db8:8000::5]:80", masq, 1),
		dest("[2001:db8:ffff::5]:80", masq, 1),
		dest("[2001:db8::5]:80", masq, 1)),
	table(service(tcp("[2001:db8:c000::1]:80"), "rr")),
	table(service(tcp("[2001:db8:4000::1]:80"), "rr")),
	table(service(tcp("[2001:db8:ffff::1]:80"), "rr")),
	table(service(tcp("[2001:db8:8000::1]:80"), "rr")),
	table(service(tcp("[2001:db8::1]:80"), "rr")),
	table(service(tcp("192.0.2.1:80"), "rr"),
		dest("203.0.113.5:80", tun, 1),
		dest("198.51.100.2:80", tun, 1),
		dest("[2001:db8:8000::1]:80", tun, 1),
		dest("[2001:db8:ffff::1]:80", tun, 1),
		dest("[2001:db8::1]:80", tun, 1),
		dest("198.51.100.1:80", tun, 1)),
	table(service(fwmark(2147483647), "rr")),
	table(service(fwmark(4294967295), "rr")),
	table(service(fwmark(2147483648), "rr")),
	table(service(fwmark(3000000000), "rr")),
	table(service(fwmark(1), "rr")),
	table(service(fwmark(5), "rr")),
	table(service(fwmark6(7), "rr")),
}

// namesScene: listed without -n, against the VM's /etc/hosts additions
// and Debian's /etc/services (see referenceNames).
var namesScene = []Table{
	table(service(tcp("192.0.2.50:80"), "rr"),
		dest("198.51.100.50:80", masq, 1),
		dest("198.51.100.51:8080", masq, 1),
		dest("198.51.100.52:12345", masq, 1),
		dest("203.0.113.60:443", masq, 1)),
	table(service(udp("192.0.2.50:53"), "rr"),
		dest("198.51.100.51:53", masq, 1)),
	table(service(sctp("192.0.2.50:80"), "rr"),
		dest("198.51.100.51:80", masq, 1)),
	table(service(tcp("[2001:db8::50]:443"), "rr"),
		dest("[2001:db8::51]:443", masq, 1),
		dest("[2001:db8::52]:5060", masq, 1)),
	table(service(tcp("203.0.113.60:80"), "rr")),
	table(service(udp("203.0.113.60:5060"), "rr")),
	table(service(fwmark(9), "rr"),
		dest("198.51.100.50:80", route, 1)),
}

// fakeNames answers from fixed tables.
type fakeNames struct {
	hosts    map[netip.Addr]string
	services map[portProto]string
}

type portProto struct {
	port  uint16
	proto ipvs.Protocol
}

func (f fakeNames) HostName(addr netip.Addr) (string, bool) {
	name, ok := f.hosts[addr]
	return name, ok
}

func (f fakeNames) ServiceName(port uint16, proto ipvs.Protocol) (string, bool) {
	name, ok := f.services[portProto{port, proto}]
	return name, ok
}

// referenceNames holds what the VM resolves: the lines capture-vm.sh adds
// to /etc/hosts, and the entries of Debian's /etc/services for the ports
// the captures use (SCTP has none there).
var referenceNames = fakeNames{
	hosts: map[netip.Addr]string{
		netip.MustParseAddr("127.0.0.1"):     "localhost",
		netip.MustParseAddr("::1"):           "localhost",
		netip.MustParseAddr("192.0.2.50"):    "www.example.org",
		netip.MustParseAddr("198.51.100.50"): "backend-with-a-rather-long-name.example.net",
		netip.MustParseAddr("198.51.100.51"): "short",
		netip.MustParseAddr("2001:db8::50"):  "v6host.example.org",
		netip.MustParseAddr("2001:db8::51"):  "an-extremely-long-ipv6-host-name-that-overflows-buffers.example.com",
		netip.MustParseAddr("203.0.113.60"):  "a-name-longer-than-fifty-nine-characters-to-test-the-cut.example.com",
	},
	services: map[portProto]string{
		{1, ipvs.TCP}:    "tcpmux",
		{9, ipvs.TCP}:    "discard",
		{9, ipvs.UDP}:    "discard",
		{53, ipvs.TCP}:   "domain",
		{53, ipvs.UDP}:   "domain",
		{80, ipvs.TCP}:   "http",
		{443, ipvs.TCP}:  "https",
		{5060, ipvs.TCP}: "sip",
		{5060, ipvs.UDP}: "sip",
		{8080, ipvs.TCP}: "http-alt",
	},
}
