package format

import (
	"net/netip"
	"strconv"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Names turns addresses and ports into names for listings without -n, the
// way ipvsadm uses gethostbyaddr and getservbyport. A nil Names, or a false
// result, means the number is printed.
type Names interface {
	// HostName is the name of a host address (a 4-byte address for IPv4).
	HostName(addr netip.Addr) (string, bool)
	// ServiceName is the name of a port for one protocol; it is only asked
	// about TCP, UDP and SCTP ports.
	ServiceName(port uint16, proto ipvs.Protocol) (string, bool)
}

// addrPortMax is the longest address:port text ipvsadm keeps: it formats
// into a 60-byte buffer with snprintf, so long host names lose their tail.
const addrPortMax = 59

// family is the address family the kernel reported, or for an entry built
// without one, the family of its address.
func family(f ipvs.Family, addr netip.Addr) ipvs.Family {
	if f != 0 {
		return f
	}
	if addr.Is6() {
		return ipvs.IPv6
	}
	return ipvs.IPv4
}

// rawAddr lays an address out as the kernel's union nf_inet_addr: IPv4 in
// the first four bytes, the rest zero. ipvsadm reads that union according to
// the entry's family, whatever the address really is.
func rawAddr(a netip.Addr) [16]byte {
	var raw [16]byte
	switch {
	case a.Is4():
		b := a.As4()
		copy(raw[:4], b[:])
	case a.Is6():
		raw = a.As16()
	}
	return raw
}

// hostAddr is the address ipvsadm would look up: four bytes of the union for
// IPv4, all sixteen otherwise.
func hostAddr(af ipvs.Family, raw [16]byte) netip.Addr {
	if af == ipvs.IPv4 {
		return netip.AddrFrom4([4]byte(raw[:4]))
	}
	return netip.AddrFrom16(raw)
}

// ntop prints an address as glibc's inet_ntop does. Families other than
// IPv4 are printed as IPv6 (the kernel reports no others).
func ntop(af ipvs.Family, raw [16]byte) string {
	var buf [46]byte // INET6_ADDRSTRLEN
	return string(appendNtop(buf[:0], af, &raw))
}

func appendNtop(b []byte, af ipvs.Family, raw *[16]byte) []byte {
	if af == ipvs.IPv4 {
		return appendNtop4(b, raw[0], raw[1], raw[2], raw[3])
	}
	return appendNtop6(b, raw)
}

// appendNtop4 appends a dotted quad.
func appendNtop4(b []byte, b0, b1, b2, b3 byte) []byte {
	for i, v := range [4]byte{b0, b1, b2, b3} {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

// appendNtop6 follows glibc's inet_ntop for IPv6, which differs from
// netip.Addr.String: it prints an embedded IPv4 address for every address
// whose first 96 bits are zero (::c000:201 is "::192.0.2.1").
func appendNtop6(b []byte, raw *[16]byte) []byte {
	var words [8]uint16
	for i := range words {
		words[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	// The longest run of zero words (the first one on a tie) becomes "::",
	// but only if it covers at least two words.
	bestBase, bestLen := -1, 0
	curBase, curLen := -1, 0
	for i, w := range words {
		if w == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
			bestBase, bestLen = curBase, curLen
		}
		curBase = -1
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}

	for i := 0; i < len(words); i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xffff)) {
			return appendNtop4(b, raw[12], raw[13], raw[14], raw[15])
		}
		b = strconv.AppendUint(b, uint64(words[i]), 16)
	}
	if bestBase != -1 && bestBase+bestLen == len(words) {
		b = append(b, ':')
	}
	return b
}

// addrPort formats an address and port as ipvsadm's addrport_to_anyname:
// "a.b.c.d:port" for IPv4, "[addr]:port" for anything else (also when the
// address was resolved to a name), names unless numeric.
func addrPort(af ipvs.Family, raw [16]byte, port uint16, proto ipvs.Protocol, numeric bool, n Names) string {
	return string(appendAddrPort(nil, af, &raw, port, proto, numeric, n))
}

// appendAddrPort appends what addrPort returns.
func appendAddrPort(b []byte, af ipvs.Family, raw *[16]byte, port uint16, proto ipvs.Protocol, numeric bool, n Names) []byte {
	host, hostOK := "", false
	portText, portOK := "", false
	if !numeric && n != nil {
		host, hostOK = n.HostName(hostAddr(af, *raw))
		if proto == ipvs.TCP || proto == ipvs.UDP || proto == ipvs.SCTP {
			portText, portOK = n.ServiceName(port, proto)
		}
	}
	start := len(b)
	if af != ipvs.IPv4 {
		b = append(b, '[')
	}
	if hostOK {
		b = append(b, host...)
	} else {
		b = appendNtop(b, af, raw)
	}
	if af != ipvs.IPv4 {
		b = append(b, ']')
	}
	b = append(b, ':')
	if portOK {
		b = append(b, portText...)
	} else {
		b = appendUint(b, uint64(port))
	}
	return truncateFrom(b, start, addrPortMax)
}
