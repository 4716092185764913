// Package ipvs is a client for the Linux kernel's IP Virtual Server (IPVS)
// generic-netlink family: virtual services, their destinations (real
// servers), connection-synchronisation daemons, timeouts, counters.
//
// The client speaks to the kernel over one mdlayher/netlink socket; it does
// no logging, loads no modules and has no side effects beyond the requests
// it is asked to send. Values are plain structs; identity (ServiceKey,
// Destination address and port) is separate from kernel-observed state
// (ServiceEntry, DestinationEntry). Many changes at once go in a Batch.
//
// Errors are *Error values that read as sentences and match the package's
// sentinels and the kernel's errno with errors.Is. Every reply is awaited
// for at most Config.ReceiveTimeout.
//
// IPVS exists only on Linux: elsewhere Dial fails with an error matching
// ErrNotAvailable, while NewFromConn still works with a fake kernel (package
// ipvstest), except that mdlayher/netlink there reports the kernel's error
// numbers only as "not implemented".
package ipvs

import (
	"fmt"
	"net/netip"
	"strings"
)

// Family is an address family as the kernel numbers it.
type Family uint16

// Address families.
const (
	IPv4 Family = 2  // AF_INET
	IPv6 Family = 10 // AF_INET6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "inet"
	case IPv6:
		return "inet6"
	}
	return fmt.Sprintf("family(%d)", uint16(f))
}

// Protocol is an IP protocol number.
type Protocol uint16

// Protocols IPVS balances.
const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return fmt.Sprintf("protocol(%d)", uint16(p))
}

// ServiceFlags are the IP_VS_SVC_F_* bits of a service.
type ServiceFlags uint32

// Service flags.
const (
	FlagPersistent ServiceFlags = 0x01
	FlagHashed     ServiceFlags = 0x02 // set by the kernel on every listed service
	FlagOnePacket  ServiceFlags = 0x04
	FlagSched1     ServiceFlags = 0x08 // sh-fallback, mh-fallback
	FlagSched2     ServiceFlags = 0x10 // sh-port, mh-port
	FlagSched3     ServiceFlags = 0x20
)

// SchedFlagsMask covers the three scheduler-specific flags.
const SchedFlagsMask = FlagSched1 | FlagSched2 | FlagSched3

// ForwardMethod is how a destination receives packets (IP_VS_CONN_F_FWD_MASK).
type ForwardMethod uint32

// Forwarding methods.
const (
	Masquerade ForwardMethod = 0 // NAT
	Local      ForwardMethod = 1
	Tunnel     ForwardMethod = 2
	Route      ForwardMethod = 3 // direct routing, "gatewaying"
	Bypass     ForwardMethod = 4
)

func (m ForwardMethod) String() string {
	switch m {
	case Masquerade:
		return "Masq"
	case Local:
		return "Local"
	case Tunnel:
		return "Tunnel"
	case Route:
		return "Route"
	case Bypass:
		return "Bypass"
	}
	return fmt.Sprintf("fwd(%d)", uint32(m))
}

// TunnelType is the encapsulation of a Tunnel destination.
type TunnelType uint8

// Tunnel types.
const (
	TunnelIPIP TunnelType = 0
	TunnelGUE  TunnelType = 1
	TunnelGRE  TunnelType = 2
)

func (t TunnelType) String() string {
	switch t {
	case TunnelIPIP:
		return "ipip"
	case TunnelGUE:
		return "gue"
	case TunnelGRE:
		return "gre"
	}
	return fmt.Sprintf("tunnel(%d)", uint8(t))
}

// TunnelFlags are the checksum options of a GUE or GRE tunnel. The kernel
// treats them as one value, not as independent bits.
type TunnelFlags uint16

// Tunnel checksum settings.
const (
	TunnelNoChecksum     TunnelFlags = 0
	TunnelChecksum       TunnelFlags = 1
	TunnelRemoteChecksum TunnelFlags = 2
)

// ServiceKey identifies a virtual service: either a protocol, address and
// port, or (when FWMark is non-zero) a firewall mark and address family.
type ServiceKey struct {
	// Family of the service. Zero in a request means the family of Addr,
	// or IPv4 when Addr is unset (a fwmark service).
	Family   Family
	Protocol Protocol   // ignored for fwmark services (the kernel uses TCP)
	Addr     netip.Addr // unset for fwmark services
	Port     uint16
	FWMark   uint32
}

// IsFWMark reports whether the key names a firewall-mark service.
func (k ServiceKey) IsFWMark() bool { return k.FWMark != 0 }

// family is the family a request for k uses.
func (k *ServiceKey) family() Family {
	switch {
	case k.Family != 0:
		return k.Family
	case k.Addr.Is6():
		return IPv6
	}
	return IPv4
}

// describe names the service in error messages: "192.0.2.10:80/tcp",
// "[2001:db8::1]:443/sctp", "fwmark 5/inet6".
func (k *ServiceKey) describe() string {
	if k.IsFWMark() {
		return fmt.Sprintf("fwmark %d/%s", k.FWMark, k.family())
	}
	return addrPort(k.Addr, k.Port) + "/" + strings.ToLower(k.Protocol.String())
}

func addrPort(a netip.Addr, port uint16) string {
	if !a.IsValid() {
		return fmt.Sprintf("(no address):%d", port)
	}
	return netip.AddrPortFrom(a, port).String()
}

// Service is a virtual service's configuration.
type Service struct {
	ServiceKey
	Scheduler string // "rr", "wlc", ...; at most 15 bytes
	PE        string // persistence engine ("sip"), empty for none
	Flags     ServiceFlags
	Timeout   uint32 // persistence timeout in seconds
	// Netmask is the persistence granularity. For IPv4 it is the mask as a
	// number (0xffffff00 for 255.255.255.0, any 32 bits are allowed); for
	// IPv6 it is a prefix length (1..128).
	Netmask uint32
}

// Stats are traffic counters and rate estimates. The kernel reports them in
// a 32-bit and (since 4.1) a 64-bit form; the client prefers the 64-bit one.
type Stats struct {
	Connections uint64
	PacketsIn   uint64
	PacketsOut  uint64
	BytesIn     uint64
	BytesOut    uint64
	CPS         uint64 // connections per second
	PPSIn       uint64
	PPSOut      uint64
	BPSIn       uint64
	BPSOut      uint64
}

// ServiceEntry is a service as the kernel lists it.
type ServiceEntry struct {
	Service
	Stats Stats
}

// Destination is a real server of a service.
type Destination struct {
	// Family of Addr. Zero in a request means the family of Addr, or the
	// service's when Addr is unset; the kernel only accepts a family other
	// than the service's for Tunnel destinations.
	Family         Family
	Addr           netip.Addr
	Port           uint16
	ForwardMethod  ForwardMethod
	Weight         uint32 // the kernel rejects values >= 2^31
	UpperThreshold uint32 // 0 = no limit
	LowerThreshold uint32
	TunnelType     TunnelType
	TunnelPort     uint16 // GUE only
	TunnelFlags    TunnelFlags
}

// family is the family a request for d under the service k uses.
func (d *Destination) family(k *ServiceKey) Family {
	switch {
	case d.Family != 0:
		return d.Family
	case d.Addr.Is4():
		return IPv4
	case d.Addr.Is6():
		return IPv6
	}
	return k.family()
}

// DestinationEntry is a destination as the kernel lists it.
type DestinationEntry struct {
	Destination
	ActiveConns     uint32
	InactiveConns   uint32
	PersistentConns uint32
	Stats           Stats
}

// DaemonState selects the role of a connection-synchronisation daemon.
type DaemonState uint32

// Daemon states.
const (
	DaemonMaster DaemonState = 1
	DaemonBackup DaemonState = 2
)

func (s DaemonState) String() string {
	switch s {
	case DaemonMaster:
		return "master"
	case DaemonBackup:
		return "backup"
	}
	return fmt.Sprintf("state(%d)", uint32(s))
}

// Daemon is a connection-synchronisation daemon. Zero optional fields are
// not sent when starting one, so the kernel applies its defaults.
type Daemon struct {
	State     DaemonState
	Interface string // multicast interface, at most 15 bytes
	SyncID    uint32
	MaxLen    uint16     // sync message size; 0 = kernel default
	Group     netip.Addr // multicast group (IPv4 or IPv6); unset = kernel default
	Port      uint16     // 0 = kernel default (8848)
	TTL       uint8      // 0 = kernel default (1)
}

// Timeouts are the connection timeouts in seconds that ipvsadm manages.
// In SetTimeouts a zero value leaves that timeout unchanged.
type Timeouts struct {
	TCP    uint32 // established TCP
	TCPFin uint32 // TCP after FIN
	UDP    uint32
}

// Info describes the kernel's IPVS.
type Info struct {
	Version       uint32 // 0x010201 is 1.2.1
	ConnTableSize uint32
}

// VersionString formats Version as major.minor.patch.
func (i Info) VersionString() string {
	return fmt.Sprintf("%d.%d.%d", i.Version>>16&0xff, i.Version>>8&0xff, i.Version&0xff)
}
