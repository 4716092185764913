package hostsetup

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
)

// Ethernet and protocol numbers used by the announcement frames.
const (
	etherTypeARP  = 0x0806
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd
	arpHTypeEther = 1
	arpOpRequest  = 1
	protoICMPv6   = 58
	icmpv6NA      = 136
	ndOptTLLA     = 2 // target link-layer address option (RFC 4861 §4.6.1)

	naFlagRouter   = 0x80
	naFlagOverride = 0x20

	minEtherFrame = 60 // without the FCS, which the NIC appends
)

var (
	etherBroadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	// allNodes is ff02::1 and its Ethernet multicast address (RFC 2464 §7).
	allNodes      = netip.MustParseAddr("ff02::1")
	allNodesEther = net.HardwareAddr{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}
)

// gratuitousARP builds the Ethernet frame of an ARP announcement for ip
// (RFC 5227 §2.3, layout RFC 826): a broadcast ARP request whose sender and
// target protocol addresses are both ip and whose target hardware address is
// zero. Neighbours that have ip cached update it to src; nobody replies.
func gratuitousARP(src net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	if len(src) != 6 {
		return nil, fmt.Errorf("gratuitous ARP needs a 6-byte Ethernet address, not %q", src)
	}
	if !ip.Is4() {
		return nil, fmt.Errorf("gratuitous ARP is for IPv4 addresses, not %s", ip)
	}
	ip4 := ip.As4()
	f := make([]byte, minEtherFrame) // bytes after the ARP body stay zero: padding
	copy(f[0:6], etherBroadcast)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:14], etherTypeARP)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:2], arpHTypeEther)
	binary.BigEndian.PutUint16(a[2:4], etherTypeIPv4)
	a[4] = 6 // hardware address length
	a[5] = 4 // protocol address length
	binary.BigEndian.PutUint16(a[6:8], arpOpRequest)
	copy(a[8:14], src)     // sender hardware address
	copy(a[14:18], ip4[:]) // sender protocol address
	// a[18:24]: target hardware address, zero (RFC 5227 §2.3)
	copy(a[24:28], ip4[:]) // target protocol address
	return f, nil
}

// unsolicitedNA builds the Ethernet frame of an unsolicited neighbour
// advertisement for ip (RFC 4861 §4.4, §7.2.6): from ip to all-nodes
// ff02::1, hop limit 255, Solicited clear, Override set, Router set when the
// sender forwards, with a target link-layer address option carrying src.
func unsolicitedNA(src net.HardwareAddr, ip netip.Addr, router bool) ([]byte, error) {
	if len(src) != 6 {
		return nil, fmt.Errorf("neighbour advertisement needs a 6-byte Ethernet address, not %q", src)
	}
	if !ip.Is6() || ip.Is4In6() {
		return nil, fmt.Errorf("neighbour advertisement is for IPv6 addresses, not %s", ip)
	}
	const icmpLen = 4 + 4 + 16 + 8 // header, flags+reserved, target, TLLA option
	f := make([]byte, 14+40+icmpLen)
	copy(f[0:6], allNodesEther)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:14], etherTypeIPv6)

	src16, dst16 := ip.As16(), allNodes.As16()
	h := f[14:54]
	h[0] = 0x60 // version 6, traffic class 0, flow label 0
	binary.BigEndian.PutUint16(h[4:6], icmpLen)
	h[6] = protoICMPv6
	h[7] = 255 // hop limit: receivers drop NDP with any other value
	copy(h[8:24], src16[:])
	copy(h[24:40], dst16[:])

	m := f[54:]
	m[0] = icmpv6NA
	m[1] = 0 // code
	m[4] = naFlagOverride
	if router {
		m[4] |= naFlagRouter
	}
	copy(m[8:24], src16[:]) // target address
	m[24] = ndOptTLLA
	m[25] = 1 // option length in units of 8 bytes
	copy(m[26:32], src)
	binary.BigEndian.PutUint16(m[2:4], icmpv6Checksum(src16, dst16, m))
	return f, nil
}

// icmpv6Checksum is the Internet checksum (RFC 1071) of the IPv6
// pseudo-header (RFC 8200 §8.1) followed by msg, whose checksum field must be
// zero.
func icmpv6Checksum(src, dst [16]byte, msg []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(src[:])
	add(dst[:])
	var lenNext [8]byte
	binary.BigEndian.PutUint32(lenNext[0:4], uint32(len(msg)))
	lenNext[7] = protoICMPv6
	add(lenNext[:])
	add(msg)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
