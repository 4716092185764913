package compat

import (
	"net/netip"
	"strings"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Resolver looks up the names ipvsadm accepts in place of numbers.
type Resolver interface {
	// LookupHost is gethostbyname restricted to IPv4: the first IPv4
	// address of name. It is asked only about words that are not
	// inet_aton numbers.
	LookupHost(name string) (netip.Addr, bool)
	// LookupPort is getservbyname(name, "tcp"|"udp"|"sctp"). It is asked
	// only for those three protocols.
	LookupPort(name string, proto ipvs.Protocol) (uint16, bool)
}

func lookupHost(res Resolver, name string) (netip.Addr, bool) {
	if res == nil {
		return netip.Addr{}, false
	}
	addr, ok := res.LookupHost(name)
	if !ok || !addr.Is4() {
		return netip.Addr{}, false
	}
	return addr, true
}

func lookupPort(res Resolver, name string, proto ipvs.Protocol) (uint16, bool) {
	if res == nil {
		return 0, false
	}
	switch proto {
	case ipvs.TCP, ipvs.UDP, ipvs.SCTP:
		return res.LookupPort(name, proto)
	}
	return 0, false
}

// parseService is ipvsadm's parse_service: it sets the address, family
// (and for IPv6 the netmask 128) and, when one is given, the port of svc.
// Port names are looked up for svc.Protocol. ok is false for an invalid
// argument; portGiven tells whether a port was part of it, and numeric
// whether the argument needed no name looked up.
func parseService(buf string, svc *ipvs.Service, res Resolver) (ok, portGiven, numeric bool) {
	if isAllDigits(buf) {
		return false, false, false
	}
	host := buf
	port := ""
	portGiven = false
	if buf[0] == '[' {
		inner, after, found := strings.Cut(buf[1:], "]")
		if !found || !strings.HasPrefix(after, ":") {
			return false, false, false
		}
		host, port, portGiven = inner, after[1:], true
	}
	numeric = true
	if addr, isV6 := inetPton6(host); isV6 {
		svc.Addr = addr
		svc.Family = ipvs.IPv6
		svc.Netmask = 128
	} else {
		// ipvsadm looks for a port again inside the host part, so
		// "[192.0.2.1]:80" has no port and "[192.0.2.1:99]:80" has 99.
		portGiven = false
		if k := strings.LastIndexByte(host, ':'); k >= 0 {
			host, port, portGiven = host[:k], host[k+1:], true
		}
		addr, isV4, named := parseIPv4Host(host, res)
		if !isV4 {
			return false, false, false
		}
		svc.Addr, numeric = addr, !named
		svc.Family = ipvs.IPv4
	}
	if portGiven {
		if n, isNumber := stringToNumber(port, 0, 65535); isNumber {
			svc.Port = uint16(n)
		} else if n, found := lookupPort(res, port, svc.Protocol); found {
			svc.Port, numeric = n, false
		} else {
			return false, false, false
		}
	}
	return true, portGiven, numeric
}

// parseIPv4Host accepts an inet_aton number or an IPv4 host name; named
// tells that it was a name.
func parseIPv4Host(host string, res Resolver) (addr netip.Addr, ok, named bool) {
	if v, isNumber := inetAton(host); isNumber {
		return addrFromUint32(v), true, false
	}
	addr, ok = lookupHost(res, host)
	return addr, ok, true
}

func addrFromUint32(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func uint32FromAddr(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
