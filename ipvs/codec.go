package ipvs

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// Encoding notes. The IPVS family mixes byte orders inside one nest: ports
// (service, destination, tunnel) and the IPv4 netmask and multicast group are
// in network order; everything else is in host order. Addresses are sent as
// the 16 bytes of the kernel's union nf_inet_addr, as libipvs does.

func encodeAddr(w *wire, typ uint16, a netip.Addr) {
	var b [16]byte
	if a.Is4() {
		v4 := a.As4()
		copy(b[:], v4[:])
	} else if a.IsValid() {
		b = a.As16()
	}
	w.attr(typ, b[:])
}

// encodeServiceKey writes the attributes that identify a service.
func encodeServiceKey(w *wire, k ServiceKey) {
	w.u16(uapi.SvcAttrAF, uint16(k.Family))
	if k.IsFWMark() {
		w.u32(uapi.SvcAttrFWMark, k.FWMark)
		return
	}
	w.u16(uapi.SvcAttrProtocol, uint16(k.Protocol))
	encodeAddr(w, uapi.SvcAttrAddr, k.Addr)
	w.be16(uapi.SvcAttrPort, k.Port)
}

// encodeService writes the full service, as NEW_SERVICE and SET_SERVICE need.
func encodeService(w *wire, s Service) {
	encodeServiceKey(w, s.ServiceKey)
	w.str(uapi.SvcAttrSchedName, s.Scheduler)
	if s.PE != "" {
		w.str(uapi.SvcAttrPEName, s.PE)
	}
	w.header(uapi.SvcAttrFlags, 8)
	w.b = binary.NativeEndian.AppendUint32(w.b, uint32(s.Flags))
	w.b = binary.NativeEndian.AppendUint32(w.b, ^uint32(0)) // mask: replace every flag
	w.u32(uapi.SvcAttrTimeout, s.Timeout)
	if s.Family == IPv6 {
		w.u32(uapi.SvcAttrNetmask, s.Netmask)
	} else {
		w.be32(uapi.SvcAttrNetmask, s.Netmask)
	}
}

func destFamily(k ServiceKey, d Destination) Family {
	if d.Family != 0 {
		return d.Family
	}
	return k.Family
}

// encodeDestinationKey writes what DEL_DEST needs to find a destination.
func encodeDestinationKey(w *wire, k ServiceKey, d Destination) {
	w.u16(uapi.DestAttrAddrFamily, uint16(destFamily(k, d)))
	encodeAddr(w, uapi.DestAttrAddr, d.Addr)
	w.be16(uapi.DestAttrPort, d.Port)
}

// encodeDestination writes the full destination, as NEW_DEST and SET_DEST need.
func encodeDestination(w *wire, k ServiceKey, d Destination) {
	encodeDestinationKey(w, k, d)
	w.u32(uapi.DestAttrFwdMethod, uint32(d.ForwardMethod))
	w.u32(uapi.DestAttrWeight, d.Weight)
	w.u8(uapi.DestAttrTunType, uint8(d.TunnelType))
	w.be16(uapi.DestAttrTunPort, d.TunnelPort)
	w.u16(uapi.DestAttrTunFlags, uint16(d.TunnelFlags))
	w.u32(uapi.DestAttrUThresh, d.UpperThreshold)
	w.u32(uapi.DestAttrLThresh, d.LowerThreshold)
}

func encodeDaemon(w *wire, d Daemon) {
	w.u32(uapi.DaemonAttrState, uint32(d.State))
	w.str(uapi.DaemonAttrMcastIfn, d.Interface)
	w.u32(uapi.DaemonAttrSyncID, d.SyncID)
	if d.MaxLen != 0 {
		w.u16(uapi.DaemonAttrSyncMaxLen, d.MaxLen)
	}
	if d.Port != 0 {
		w.u16(uapi.DaemonAttrMcastPort, d.Port)
	}
	if d.TTL != 0 {
		w.u8(uapi.DaemonAttrMcastTTL, d.TTL)
	}
	switch {
	case d.Group.Is4():
		g := d.Group.As4()
		w.attr(uapi.DaemonAttrMcastGroup, g[:])
	case d.Group.Is6():
		g := d.Group.As16()
		w.attr(uapi.DaemonAttrMcastGroup6, g[:])
	}
}

// Decoding. Every fixed-size attribute is length-checked (the decoder's typed
// getters fail on a wrong length, and Do closures check explicitly);
// attributes the client does not know are skipped.

func lengthError(name string, got, want int) error {
	return fmt.Errorf("%w: %s attribute is %d bytes, want %d", errInvalidReply, name, got, want)
}

func decodeBE16(name string, dst *uint16) func([]byte) error {
	return func(b []byte) error {
		if len(b) != 2 {
			return lengthError(name, len(b), 2)
		}
		*dst = binary.BigEndian.Uint16(b)
		return nil
	}
}

// decodeRawAddr keeps an address's bytes until the family is known.
func decodeRawAddr(name string, dst *[]byte) func([]byte) error {
	return func(b []byte) error {
		if len(b) != 4 && len(b) != 16 {
			return fmt.Errorf("%w: %s attribute is %d bytes, want 4 or 16", errInvalidReply, name, len(b))
		}
		*dst = append([]byte(nil), b...)
		return nil
	}
}

// addrOf interprets raw address bytes for a family. A missing address
// decodes to the unset netip.Addr.
func addrOf(f Family, b []byte) (netip.Addr, error) {
	switch {
	case len(b) == 0:
		return netip.Addr{}, nil
	case f == IPv6 && len(b) == 16:
		return netip.AddrFrom16([16]byte(b)), nil
	case f == IPv6:
		return netip.Addr{}, fmt.Errorf("%w: IPv6 address of %d bytes", errInvalidReply, len(b))
	default:
		return netip.AddrFrom4([4]byte(b[:4])), nil
	}
}

func decodeStats(wide bool, st *Stats) func(*netlink.AttributeDecoder) error {
	return func(ad *netlink.AttributeDecoder) error {
		// In the 32-bit nest only the byte counters are 64-bit.
		num := func(always64 bool) uint64 {
			if wide || always64 {
				return ad.Uint64()
			}
			return uint64(ad.Uint32())
		}
		for ad.Next() {
			switch ad.Type() {
			case uapi.StatsConns:
				st.Connections = num(false)
			case uapi.StatsInPkts:
				st.PacketsIn = num(false)
			case uapi.StatsOutPkts:
				st.PacketsOut = num(false)
			case uapi.StatsInBytes:
				st.BytesIn = num(true)
			case uapi.StatsOutBytes:
				st.BytesOut = num(true)
			case uapi.StatsCPS:
				st.CPS = num(false)
			case uapi.StatsInPPS:
				st.PPSIn = num(false)
			case uapi.StatsOutPPS:
				st.PPSOut = num(false)
			case uapi.StatsInBPS:
				st.BPSIn = num(false)
			case uapi.StatsOutBPS:
				st.BPSOut = num(false)
			}
		}
		return nil
	}
}

// decodeService decodes the attributes inside IPVS_CMD_ATTR_SERVICE.
func decodeService(ad *netlink.AttributeDecoder) (ServiceEntry, error) {
	var (
		s                 ServiceEntry
		addr              []byte
		netmask           []byte
		stats32, stats64  Stats
		has32, has64, has bool
	)
	for ad.Next() {
		switch ad.Type() {
		case uapi.SvcAttrAF:
			s.Family = Family(ad.Uint16())
		case uapi.SvcAttrProtocol:
			s.Protocol = Protocol(ad.Uint16())
		case uapi.SvcAttrAddr:
			ad.Do(decodeRawAddr("service address", &addr))
		case uapi.SvcAttrPort:
			ad.Do(decodeBE16("service port", &s.Port))
		case uapi.SvcAttrFWMark:
			s.FWMark = ad.Uint32()
		case uapi.SvcAttrSchedName:
			s.Scheduler = ad.String()
		case uapi.SvcAttrPEName:
			s.PE = ad.String()
		case uapi.SvcAttrFlags:
			ad.Do(func(b []byte) error {
				if len(b) != 8 {
					return lengthError("service flags", len(b), 8)
				}
				s.Flags = ServiceFlags(binary.NativeEndian.Uint32(b[0:4]))
				return nil
			})
		case uapi.SvcAttrTimeout:
			s.Timeout = ad.Uint32()
		case uapi.SvcAttrNetmask:
			ad.Do(func(b []byte) error {
				if len(b) != 4 {
					return lengthError("service netmask", len(b), 4)
				}
				netmask = append([]byte(nil), b...)
				return nil
			})
		case uapi.SvcAttrStats:
			has32 = true
			ad.Nested(decodeStats(false, &stats32))
		case uapi.SvcAttrStats64:
			has64 = true
			ad.Nested(decodeStats(true, &stats64))
		}
		has = true
	}
	if err := ad.Err(); err != nil {
		return ServiceEntry{}, err
	}
	if !has {
		return ServiceEntry{}, fmt.Errorf("%w: empty service", errInvalidReply)
	}
	var err error
	if s.Addr, err = addrOf(s.Family, addr); err != nil {
		return ServiceEntry{}, err
	}
	if netmask != nil {
		// The IPv4 mask travels in network order, the IPv6 prefix length in host order.
		if s.Family == IPv6 {
			s.Netmask = binary.NativeEndian.Uint32(netmask)
		} else {
			s.Netmask = binary.BigEndian.Uint32(netmask)
		}
	}
	switch {
	case has64:
		s.Stats = stats64
	case has32:
		s.Stats = stats32
	}
	return s, nil
}

// decodeDestination decodes the attributes inside IPVS_CMD_ATTR_DEST. A
// destination without an address family attribute (kernels before 3.18) has
// its service's family.
func decodeDestination(ad *netlink.AttributeDecoder, svcFamily Family) (DestinationEntry, error) {
	var (
		d                DestinationEntry
		addr             []byte
		stats32, stats64 Stats
		has32, has64     bool
	)
	d.Family = svcFamily
	for ad.Next() {
		switch ad.Type() {
		case uapi.DestAttrAddr:
			ad.Do(decodeRawAddr("destination address", &addr))
		case uapi.DestAttrPort:
			ad.Do(decodeBE16("destination port", &d.Port))
		case uapi.DestAttrFwdMethod:
			d.ForwardMethod = ForwardMethod(ad.Uint32())
		case uapi.DestAttrWeight:
			d.Weight = ad.Uint32()
		case uapi.DestAttrUThresh:
			d.UpperThreshold = ad.Uint32()
		case uapi.DestAttrLThresh:
			d.LowerThreshold = ad.Uint32()
		case uapi.DestAttrActiveConns:
			d.ActiveConns = ad.Uint32()
		case uapi.DestAttrInactConns:
			d.InactiveConns = ad.Uint32()
		case uapi.DestAttrPersistConns:
			d.PersistentConns = ad.Uint32()
		case uapi.DestAttrAddrFamily:
			d.Family = Family(ad.Uint16())
		case uapi.DestAttrTunType:
			d.TunnelType = TunnelType(ad.Uint8())
		case uapi.DestAttrTunPort:
			ad.Do(decodeBE16("tunnel port", &d.TunnelPort))
		case uapi.DestAttrTunFlags:
			d.TunnelFlags = TunnelFlags(ad.Uint16())
		case uapi.DestAttrStats:
			has32 = true
			ad.Nested(decodeStats(false, &stats32))
		case uapi.DestAttrStats64:
			has64 = true
			ad.Nested(decodeStats(true, &stats64))
		}
	}
	if err := ad.Err(); err != nil {
		return DestinationEntry{}, err
	}
	var err error
	if d.Addr, err = addrOf(d.Family, addr); err != nil {
		return DestinationEntry{}, err
	}
	switch {
	case has64:
		d.Stats = stats64
	case has32:
		d.Stats = stats32
	}
	return d, nil
}

func decodeDaemon(ad *netlink.AttributeDecoder) (Daemon, error) {
	var d Daemon
	for ad.Next() {
		switch ad.Type() {
		case uapi.DaemonAttrState:
			d.State = DaemonState(ad.Uint32())
		case uapi.DaemonAttrMcastIfn:
			d.Interface = ad.String()
		case uapi.DaemonAttrSyncID:
			d.SyncID = ad.Uint32()
		case uapi.DaemonAttrSyncMaxLen:
			d.MaxLen = ad.Uint16()
		case uapi.DaemonAttrMcastGroup:
			ad.Do(func(b []byte) error {
				if len(b) != 4 {
					return lengthError("multicast group", len(b), 4)
				}
				d.Group = netip.AddrFrom4([4]byte(b))
				return nil
			})
		case uapi.DaemonAttrMcastGroup6:
			ad.Do(func(b []byte) error {
				if len(b) != 16 {
					return lengthError("IPv6 multicast group", len(b), 16)
				}
				// The kernel sends both groups; only a set IPv6 one counts.
				if g := netip.AddrFrom16([16]byte(b)); !g.IsUnspecified() {
					d.Group = g
				}
				return nil
			})
		case uapi.DaemonAttrMcastPort:
			d.Port = ad.Uint16()
		case uapi.DaemonAttrMcastTTL:
			d.TTL = ad.Uint8()
		}
	}
	return d, ad.Err()
}
