package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"

	"github.com/mdlayher/netlink"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// Encoding notes. The IPVS family mixes byte orders inside one nest: ports
// (service, destination, tunnel) and the IPv4 netmask and multicast group
// are in network order; everything else is in host order. Addresses are
// sent as the 16 bytes of the kernel's union nf_inet_addr, as libipvs does,
// and service flags as struct ip_vs_flags (the flags, then a mask).

// requestAttrs names the attributes of one request; each set field becomes
// its top-level attribute, in this order.
type requestAttrs struct {
	service  *Service     // SERVICE with every setting (NEW_SERVICE, SET_SERVICE)
	key      *ServiceKey  // SERVICE with what identifies it
	dest     *Destination // DEST with every setting, under key (NEW_DEST, SET_DEST)
	destKey  *Destination // DEST with what identifies it, under key (DEL_DEST)
	daemon   *Daemon
	timeouts *Timeouts // the three timeout attributes, not nested
}

// subject names what a request for op with these attributes is about, for
// its error: "192.0.2.10:80/tcp", "198.51.100.1:80 to 192.0.2.10:80/tcp",
// "master on eth0".
func (a *requestAttrs) subject(op Op) string {
	switch {
	case a.service != nil:
		return a.service.describe()
	case a.key != nil && a.dest != nil && op == OpAddDestination:
		return addrPort(a.dest.Addr, a.dest.Port) + " to " + a.key.describe()
	case a.key != nil && a.dest != nil:
		return addrPort(a.dest.Addr, a.dest.Port) + " of " + a.key.describe()
	case a.key != nil && a.destKey != nil:
		return addrPort(a.destKey.Addr, a.destKey.Port) + " from " + a.key.describe()
	case a.key != nil && (op == OpZero || op == OpDestinations):
		return "of " + a.key.describe()
	case a.key != nil:
		return a.key.describe()
	case a.daemon != nil && a.daemon.Interface != "" && op == OpStartDaemon:
		return a.daemon.State.String() + " on " + a.daemon.Interface
	case a.daemon != nil:
		return a.daemon.State.String()
	}
	return ""
}

// encodeRequest returns the payload of a request: the generic-netlink
// header for cmd, then the attributes.
func encodeRequest(cmd uint8, a *requestAttrs) ([]byte, error) {
	top := newAttrs(3, 12)
	var key ServiceKey
	if a.key != nil {
		key = *a.key
	}
	if s := a.service; s != nil {
		in := newAttrs(10, 96)
		encodeService(&in, s)
		top.nest(uapi.CmdAttrService, &in)
	}
	if a.key != nil {
		in := newAttrs(5, 24)
		encodeServiceKey(&in, &key)
		top.nest(uapi.CmdAttrService, &in)
	}
	if d := a.dest; d != nil {
		in := newAttrs(10, 48)
		encodeDestination(&in, &key, d)
		top.nest(uapi.CmdAttrDest, &in)
	}
	if d := a.destKey; d != nil {
		in := newAttrs(3, 20)
		encodeDestinationKey(&in, &key, d)
		top.nest(uapi.CmdAttrDest, &in)
	}
	if d := a.daemon; d != nil {
		in := newAttrs(8, 64)
		encodeDaemon(&in, d)
		top.nest(uapi.CmdAttrDaemon, &in)
	}
	if t := a.timeouts; t != nil {
		top.Uint32(uapi.CmdAttrTimeoutTCP, t.TCP)
		top.Uint32(uapi.CmdAttrTimeoutTCPFin, t.TCPFin)
		top.Uint32(uapi.CmdAttrTimeoutUDP, t.UDP)
	}
	if top.tooLong {
		return nil, errAttrTooLong
	}
	attrs, err := netlink.MarshalAttributes(top.list)
	if err != nil {
		return nil, err
	}
	return append([]byte{cmd, uapi.FamilyVersion, 0, 0}, attrs...), nil
}

// attrList gathers one nesting level's attributes for netlink.MarshalAttributes,
// as netlink.AttributeEncoder does (host byte order, strings with their
// NUL), but with the values written into one array: the encoder's
// allocation per value was most of the cost of queueing a large restore.
type attrList struct {
	list    []netlink.Attribute
	data    []byte // the values; each Data is a window of it
	tooLong bool   // a value did not fit an attribute
}

var errAttrTooLong = errors.New("a value is too large to fit in a netlink attribute")

// newAttrs has room for n attributes with size bytes of values: what the
// level usually holds, so that it need not grow.
func newAttrs(n, size int) attrList {
	return attrList{list: make([]netlink.Attribute, 0, n), data: make([]byte, 0, size)}
}

// add makes the bytes written to a.data from start on the value of a typ
// attribute. Windows are capped, and a.data only grows past them: a
// window stays valid when a.data moves to a larger array.
func (a *attrList) add(typ uint16, start int) {
	a.list = append(a.list, netlink.Attribute{Type: typ, Data: a.data[start:len(a.data):len(a.data)]})
}

func (a *attrList) Uint8(typ uint16, v uint8) {
	start := len(a.data)
	a.data = append(a.data, v)
	a.add(typ, start)
}

func (a *attrList) Uint16(typ uint16, v uint16) {
	start := len(a.data)
	a.data = binary.NativeEndian.AppendUint16(a.data, v)
	a.add(typ, start)
}

func (a *attrList) Uint32(typ uint16, v uint32) {
	start := len(a.data)
	a.data = binary.NativeEndian.AppendUint32(a.data, v)
	a.add(typ, start)
}

func (a *attrList) Bytes(typ uint16, b []byte) {
	if len(b) > math.MaxUint16-4 { // the attribute header
		a.tooLong = true
		return
	}
	start := len(a.data)
	a.data = append(a.data, b...)
	a.add(typ, start)
}

// String writes s with a terminating NUL, as the kernel's NLA_NUL_STRING
// policy wants.
func (a *attrList) String(typ uint16, s string) {
	if len(s) > math.MaxUint16-4-1 { // the attribute header, the NUL
		a.tooLong = true
		return
	}
	start := len(a.data)
	a.data = append(append(a.data, s...), 0)
	a.add(typ, start)
}

// nest adds in's attributes as the nested attribute typ.
func (a *attrList) nest(typ uint16, in *attrList) {
	b, err := netlink.MarshalAttributes(in.list)
	if err != nil || in.tooLong || len(b) > math.MaxUint16-4 {
		a.tooLong = true
		return
	}
	a.list = append(a.list, netlink.Attribute{Type: netlink.Nested | typ, Data: b})
}

// stopDaemonAttrs is what stopping a daemon sends: the kernel needs only
// its state, ipvsadm also sends the interface and sync ID.
func stopDaemonAttrs(d Daemon) requestAttrs {
	return requestAttrs{daemon: &Daemon{State: d.State, Interface: d.Interface, SyncID: d.SyncID}}
}

// encodeAddr writes a as the 16 bytes of union nf_inet_addr.
func encodeAddr(ae *attrList, typ uint16, a netip.Addr) {
	var b [16]byte
	if a.Is4() {
		v4 := a.As4()
		copy(b[:], v4[:])
	} else if a.IsValid() {
		b = a.As16()
	}
	ae.Bytes(typ, b[:])
}

func encodeBE16(ae *attrList, typ uint16, v uint16) {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	ae.Bytes(typ, b[:])
}

// encodeServiceKey writes the attributes that identify a service.
func encodeServiceKey(ae *attrList, k *ServiceKey) {
	ae.Uint16(uapi.SvcAttrAF, uint16(k.family()))
	if k.IsFWMark() {
		ae.Uint32(uapi.SvcAttrFWMark, k.FWMark)
		return
	}
	ae.Uint16(uapi.SvcAttrProtocol, uint16(k.Protocol))
	encodeAddr(ae, uapi.SvcAttrAddr, k.Addr)
	encodeBE16(ae, uapi.SvcAttrPort, k.Port)
}

// encodeService writes the full service, as NEW_SERVICE and SET_SERVICE need.
func encodeService(ae *attrList, s *Service) {
	encodeServiceKey(ae, &s.ServiceKey)
	ae.String(uapi.SvcAttrSchedName, s.Scheduler)
	if s.PE != "" {
		ae.String(uapi.SvcAttrPEName, s.PE)
	}
	var flags [8]byte
	binary.NativeEndian.PutUint32(flags[:4], uint32(s.Flags))
	binary.NativeEndian.PutUint32(flags[4:], ^uint32(0)) // mask: replace every flag
	ae.Bytes(uapi.SvcAttrFlags, flags[:])
	ae.Uint32(uapi.SvcAttrTimeout, s.Timeout)
	if s.family() == IPv6 {
		ae.Uint32(uapi.SvcAttrNetmask, s.Netmask) // a prefix length
	} else {
		var mask [4]byte
		binary.BigEndian.PutUint32(mask[:], s.Netmask)
		ae.Bytes(uapi.SvcAttrNetmask, mask[:])
	}
}

// encodeDestinationKey writes what DEL_DEST needs to find a destination.
func encodeDestinationKey(ae *attrList, k *ServiceKey, d *Destination) {
	ae.Uint16(uapi.DestAttrAddrFamily, uint16(d.family(k)))
	encodeAddr(ae, uapi.DestAttrAddr, d.Addr)
	encodeBE16(ae, uapi.DestAttrPort, d.Port)
}

// encodeDestination writes the full destination, as NEW_DEST and SET_DEST need.
func encodeDestination(ae *attrList, k *ServiceKey, d *Destination) {
	encodeDestinationKey(ae, k, d)
	ae.Uint32(uapi.DestAttrFwdMethod, uint32(d.ForwardMethod))
	ae.Uint32(uapi.DestAttrWeight, d.Weight)
	ae.Uint8(uapi.DestAttrTunType, uint8(d.TunnelType))
	encodeBE16(ae, uapi.DestAttrTunPort, d.TunnelPort)
	ae.Uint16(uapi.DestAttrTunFlags, uint16(d.TunnelFlags))
	ae.Uint32(uapi.DestAttrUThresh, d.UpperThreshold)
	ae.Uint32(uapi.DestAttrLThresh, d.LowerThreshold)
}

func encodeDaemon(ae *attrList, d *Daemon) {
	ae.Uint32(uapi.DaemonAttrState, uint32(d.State))
	ae.String(uapi.DaemonAttrMcastIfn, d.Interface)
	ae.Uint32(uapi.DaemonAttrSyncID, d.SyncID)
	if d.MaxLen != 0 {
		ae.Uint16(uapi.DaemonAttrSyncMaxLen, d.MaxLen)
	}
	if d.Port != 0 {
		ae.Uint16(uapi.DaemonAttrMcastPort, d.Port)
	}
	if d.TTL != 0 {
		ae.Uint8(uapi.DaemonAttrMcastTTL, d.TTL)
	}
	switch {
	case d.Group.Is4():
		g := d.Group.As4()
		ae.Bytes(uapi.DaemonAttrMcastGroup, g[:])
	case d.Group.Is6():
		g := d.Group.As16()
		ae.Bytes(uapi.DaemonAttrMcastGroup6, g[:])
	}
}

// Decoding. Every fixed-size attribute is length-checked (the decoder's
// getters report a wrong length); attributes the client does not know are
// skipped; the first malformed attribute ends the decode with an error
// matching errInvalidReply.

// errInvalidReply marks a kernel reply the client cannot decode.
var errInvalidReply = errors.New("invalid reply from the kernel")

func invalid(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", errInvalidReply, what, err)
}

// decodeAttrs runs fn over the attributes in b and returns the decoder's
// error, if any.
func decodeAttrs(b []byte, fn func(ad *netlink.AttributeDecoder)) error {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return err
	}
	for ad.Next() {
		fn(ad)
	}
	return ad.Err()
}

// bigEndian16 reads the current attribute as a big-endian uint16.
func bigEndian16(ad *netlink.AttributeDecoder) uint16 {
	ad.ByteOrder = binary.BigEndian
	v := ad.Uint16()
	ad.ByteOrder = binary.NativeEndian
	return v
}

// fixed keeps a reference to the current attribute's value in *dst after
// checking that it has n bytes.
func fixed(ad *netlink.AttributeDecoder, dst *[]byte, n int) {
	ad.Do(func(b []byte) error {
		if len(b) != n {
			return fmt.Errorf("attribute %d has %d bytes, want %d", ad.Type(), len(b), n)
		}
		*dst = b
		return nil
	})
}

// raw keeps a reference to the current attribute's value in *dst.
func raw(ad *netlink.AttributeDecoder, dst *[]byte) {
	ad.Do(func(b []byte) error {
		*dst = b
		return nil
	})
}

// addrOf interprets the bytes of an address attribute for a family: 16 for
// IPv6, 4 or 16 (an nf_inet_addr) for IPv4. A missing address decodes to
// the unset netip.Addr.
func addrOf(f Family, b []byte) (netip.Addr, error) {
	switch {
	case b == nil:
		return netip.Addr{}, nil
	case f == IPv6 && len(b) == 16:
		return netip.AddrFrom16([16]byte(b)), nil
	case f != IPv6 && (len(b) == 4 || len(b) == 16):
		return netip.AddrFrom4([4]byte(b[:4])), nil
	}
	return netip.Addr{}, fmt.Errorf("%s address of %d bytes", f, len(b))
}

// decodeStats decodes IPVS_*_ATTR_STATS (wide false: 32-bit counters except
// the byte counters) or IPVS_*_ATTR_STATS64 (wide true: all 64-bit).
func decodeStats(b []byte, wide bool) (Stats, error) {
	var st Stats
	err := decodeAttrs(b, func(ad *netlink.AttributeDecoder) {
		var dst *uint64
		always64 := false
		switch ad.Type() {
		case uapi.StatsConns:
			dst = &st.Connections
		case uapi.StatsInPkts:
			dst = &st.PacketsIn
		case uapi.StatsOutPkts:
			dst = &st.PacketsOut
		case uapi.StatsInBytes:
			dst, always64 = &st.BytesIn, true
		case uapi.StatsOutBytes:
			dst, always64 = &st.BytesOut, true
		case uapi.StatsCPS:
			dst = &st.CPS
		case uapi.StatsInPPS:
			dst = &st.PPSIn
		case uapi.StatsOutPPS:
			dst = &st.PPSOut
		case uapi.StatsInBPS:
			dst = &st.BPSIn
		case uapi.StatsOutBPS:
			dst = &st.BPSOut
		default:
			return
		}
		if wide || always64 {
			*dst = ad.Uint64()
		} else {
			*dst = uint64(ad.Uint32())
		}
	})
	return st, err
}

// statsPair holds an entry's 32-bit and 64-bit statistics nests, to decode
// the better one: the 64-bit one when it came (kernels since 4.1).
type statsPair struct{ narrow, wide []byte }

func (p statsPair) decode() (Stats, error) {
	switch {
	case p.wide != nil:
		return decodeStats(p.wide, true)
	case p.narrow != nil:
		return decodeStats(p.narrow, false)
	}
	return Stats{}, nil
}

// decodeService decodes the attributes inside IPVS_CMD_ATTR_SERVICE.
func decodeService(b []byte) (ServiceEntry, error) {
	var (
		s             ServiceEntry
		addr, netmask []byte
		flags         []byte
		stats         statsPair
		seen          bool
	)
	err := decodeAttrs(b, func(ad *netlink.AttributeDecoder) {
		seen = true
		switch ad.Type() {
		case uapi.SvcAttrAF:
			s.Family = Family(ad.Uint16())
		case uapi.SvcAttrProtocol:
			s.Protocol = Protocol(ad.Uint16())
		case uapi.SvcAttrAddr:
			raw(ad, &addr)
		case uapi.SvcAttrPort:
			s.Port = bigEndian16(ad)
		case uapi.SvcAttrFWMark:
			s.FWMark = ad.Uint32()
		case uapi.SvcAttrSchedName:
			s.Scheduler = ad.String()
		case uapi.SvcAttrPEName:
			s.PE = ad.String()
		case uapi.SvcAttrFlags:
			fixed(ad, &flags, 8)
		case uapi.SvcAttrTimeout:
			s.Timeout = ad.Uint32()
		case uapi.SvcAttrNetmask:
			fixed(ad, &netmask, 4)
		case uapi.SvcAttrStats:
			raw(ad, &stats.narrow)
		case uapi.SvcAttrStats64:
			raw(ad, &stats.wide)
		}
	})
	if err == nil && !seen {
		err = errors.New("no attributes")
	}
	if err == nil {
		s.Addr, err = addrOf(s.Family, addr)
	}
	if err == nil {
		s.Stats, err = stats.decode()
	}
	if err != nil {
		return ServiceEntry{}, invalid("service", err)
	}
	if flags != nil {
		s.Flags = ServiceFlags(binary.NativeEndian.Uint32(flags)) // the mask that follows is not needed
	}
	switch {
	case netmask == nil:
	case s.Family == IPv6:
		s.Netmask = binary.NativeEndian.Uint32(netmask) // a prefix length
	default:
		s.Netmask = binary.BigEndian.Uint32(netmask)
	}
	return s, nil
}

// decodeDestination decodes the attributes inside IPVS_CMD_ATTR_DEST. A
// destination without an address family attribute (kernels before 3.18) has
// its service's family.
func decodeDestination(b []byte, svcFamily Family) (DestinationEntry, error) {
	var (
		d     DestinationEntry
		addr  []byte
		stats statsPair
	)
	d.Family = svcFamily
	err := decodeAttrs(b, func(ad *netlink.AttributeDecoder) {
		switch ad.Type() {
		case uapi.DestAttrAddr:
			raw(ad, &addr)
		case uapi.DestAttrPort:
			d.Port = bigEndian16(ad)
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
			d.TunnelPort = bigEndian16(ad)
		case uapi.DestAttrTunFlags:
			d.TunnelFlags = TunnelFlags(ad.Uint16())
		case uapi.DestAttrStats:
			raw(ad, &stats.narrow)
		case uapi.DestAttrStats64:
			raw(ad, &stats.wide)
		}
	})
	if err == nil {
		d.Addr, err = addrOf(d.Family, addr)
	}
	if err == nil {
		d.Stats, err = stats.decode()
	}
	if err != nil {
		return DestinationEntry{}, invalid("destination", err)
	}
	return d, nil
}

func decodeDaemon(b []byte) (Daemon, error) {
	var d Daemon
	var group, group6 []byte
	err := decodeAttrs(b, func(ad *netlink.AttributeDecoder) {
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
			fixed(ad, &group, 4)
		case uapi.DaemonAttrMcastGroup6:
			fixed(ad, &group6, 16)
		case uapi.DaemonAttrMcastPort:
			d.Port = ad.Uint16()
		case uapi.DaemonAttrMcastTTL:
			d.TTL = ad.Uint8()
		}
	})
	if err != nil {
		return Daemon{}, invalid("daemon", err)
	}
	if group != nil {
		d.Group = netip.AddrFrom4([4]byte(group))
	}
	// The kernel sends both groups; only a set IPv6 one counts.
	if group6 != nil {
		if g := netip.AddrFrom16([16]byte(group6)); !g.IsUnspecified() {
			d.Group = g
		}
	}
	return d, nil
}

// decodeNests decodes every top-level attribute of type typ in a reply's
// attributes with decode and appends the results to dst.
func decodeNests[T any](dst []T, payload []byte, typ uint16, decode func([]byte) (T, error)) ([]T, error) {
	var derr error
	err := decodeAttrs(payload, func(ad *netlink.AttributeDecoder) {
		if ad.Type() != typ || derr != nil {
			return
		}
		ad.Do(func(b []byte) error {
			v, err := decode(b)
			if err != nil {
				derr = err
				return nil
			}
			dst = append(dst, v)
			return nil
		})
	})
	if derr != nil {
		return dst, derr
	}
	if err != nil {
		return dst, invalid("reply", err)
	}
	return dst, nil
}
