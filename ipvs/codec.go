package ipvs

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// Encoding notes. The IPVS family mixes byte orders inside one nest: ports
// (service, destination, tunnel) and the IPv4 netmask and multicast group are
// in network order; everything else is in host order. Addresses are sent as
// the 16 bytes of the kernel's union nf_inet_addr, as libipvs does.

// requestAttrs names the attributes of one request; each set field becomes
// its top-level attribute, in this order. It is a value rather than a
// function that appends, so encoding a request allocates nothing and the
// encoder stays on the stack (a restore encodes 100,000 requests).
type requestAttrs struct {
	service  *Service     // SERVICE with every setting (NEW_SERVICE, SET_SERVICE)
	key      *ServiceKey  // SERVICE with what identifies it
	dest     *Destination // DEST with every setting, under key (NEW_DEST, SET_DEST)
	destKey  *Destination // DEST with what identifies it, under key (DEL_DEST)
	daemon   *Daemon
	timeouts *Timeouts // the three timeout attributes, not nested
}

func (w *wire) request(a *requestAttrs) {
	if a.service != nil {
		n := w.openNest()
		encodeService(w, a.service)
		w.closeNest(n, uapi.CmdAttrService)
	}
	var key ServiceKey
	if a.key != nil {
		key = *a.key
		n := w.openNest()
		encodeServiceKey(w, &key)
		w.closeNest(n, uapi.CmdAttrService)
	}
	if a.dest != nil {
		n := w.openNest()
		encodeDestination(w, &key, a.dest)
		w.closeNest(n, uapi.CmdAttrDest)
	}
	if a.destKey != nil {
		n := w.openNest()
		encodeDestinationKey(w, &key, a.destKey)
		w.closeNest(n, uapi.CmdAttrDest)
	}
	if a.daemon != nil {
		n := w.openNest()
		encodeDaemon(w, a.daemon)
		w.closeNest(n, uapi.CmdAttrDaemon)
	}
	if t := a.timeouts; t != nil {
		w.u32(uapi.CmdAttrTimeoutTCP, t.TCP)
		w.u32(uapi.CmdAttrTimeoutTCPFin, t.TCPFin)
		w.u32(uapi.CmdAttrTimeoutUDP, t.UDP)
	}
}

// stopDaemonAttrs is what stopping a daemon sends: the kernel needs only
// its state, ipvsadm also sends the interface and sync ID.
func stopDaemonAttrs(d Daemon) requestAttrs {
	return requestAttrs{daemon: &Daemon{State: d.State, Interface: d.Interface, SyncID: d.SyncID}}
}

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
func encodeServiceKey(w *wire, k *ServiceKey) {
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
func encodeService(w *wire, s *Service) {
	encodeServiceKey(w, &s.ServiceKey)
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

func destFamily(k *ServiceKey, d *Destination) Family {
	if d.Family != 0 {
		return d.Family
	}
	return k.Family
}

// encodeDestinationKey writes what DEL_DEST needs to find a destination.
func encodeDestinationKey(w *wire, k *ServiceKey, d *Destination) {
	w.u16(uapi.DestAttrAddrFamily, uint16(destFamily(k, d)))
	encodeAddr(w, uapi.DestAttrAddr, d.Addr)
	w.be16(uapi.DestAttrPort, d.Port)
}

// encodeDestination writes the full destination, as NEW_DEST and SET_DEST need.
func encodeDestination(w *wire, k *ServiceKey, d *Destination) {
	encodeDestinationKey(w, k, d)
	w.u32(uapi.DestAttrFwdMethod, uint32(d.ForwardMethod))
	w.u32(uapi.DestAttrWeight, d.Weight)
	w.u8(uapi.DestAttrTunType, uint8(d.TunnelType))
	w.be16(uapi.DestAttrTunPort, d.TunnelPort)
	w.u16(uapi.DestAttrTunFlags, uint16(d.TunnelFlags))
	w.u32(uapi.DestAttrUThresh, d.UpperThreshold)
	w.u32(uapi.DestAttrLThresh, d.LowerThreshold)
}

func encodeDaemon(w *wire, d *Daemon) {
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

// Decoding. Every decoder walks the attributes in place with an attrReader
// (no allocation per attribute: a listing decodes 100,000 destinations).
// Every fixed-size attribute is length-checked; attributes the client does
// not know are skipped; the first malformed attribute ends the decode with
// an error matching errInvalidReply.

func lengthError(name string, got, want int) error {
	return fmt.Errorf("%w: %s attribute is %d bytes, want %d", errInvalidReply, name, got, want)
}

// rawAddr returns an address's bytes, kept until the family is known.
func rawAddr(r *attrReader, name string) []byte {
	if len(r.val) != 4 && len(r.val) != 16 {
		r.fail(fmt.Errorf("%w: %s attribute is %d bytes, want 4 or 16", errInvalidReply, name, len(r.val)))
		return nil
	}
	return r.val
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

// decodeStats decodes IPVS_*_ATTR_STATS (wide false: 32-bit counters except
// the byte counters) or IPVS_*_ATTR_STATS64 (wide true: all 64-bit).
func decodeStats(r attrReader, wide bool) (Stats, error) {
	var st Stats
	for r.next() {
		var dst *uint64
		always64 := false
		switch r.typ {
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
			continue
		}
		if wide || always64 {
			*dst = r.u64("statistics counter")
		} else {
			*dst = uint64(r.u32("statistics counter"))
		}
	}
	return st, r.err
}

// statsPair keeps the 32-bit and 64-bit statistics nests of one entry, to
// decode only the better one: the 64-bit one when it came. (Kernels since
// 4.1 send both; decoding one halves the cost of a listing with counters.)
type statsPair struct {
	narrow, wide       []byte
	hasNarrow, hasWide bool
}

func (p *statsPair) keep(r *attrReader, wide bool) {
	if wide {
		p.wide, p.hasWide = r.val, true
	} else {
		p.narrow, p.hasNarrow = r.val, true
	}
}

func (p *statsPair) decode() (Stats, error) {
	switch {
	case p.hasWide:
		return decodeStats(attrReader{b: p.wide}, true)
	case p.hasNarrow:
		return decodeStats(attrReader{b: p.narrow}, false)
	}
	return Stats{}, nil
}

// decodeService decodes the attributes inside IPVS_CMD_ATTR_SERVICE.
func decodeService(r attrReader) (ServiceEntry, error) {
	var (
		s             ServiceEntry
		addr, netmask []byte
		stats         statsPair
		has           bool
	)
	for r.next() {
		switch r.typ {
		case uapi.SvcAttrAF:
			s.Family = Family(r.u16("service family"))
		case uapi.SvcAttrProtocol:
			s.Protocol = Protocol(r.u16("service protocol"))
		case uapi.SvcAttrAddr:
			addr = rawAddr(&r, "service address")
		case uapi.SvcAttrPort:
			s.Port = r.be16("service port")
		case uapi.SvcAttrFWMark:
			s.FWMark = r.u32("service fwmark")
		case uapi.SvcAttrSchedName:
			s.Scheduler = r.str()
		case uapi.SvcAttrPEName:
			s.PE = r.str()
		case uapi.SvcAttrFlags:
			// struct ip_vs_flags: the flags, then the mask.
			if b := r.fixed("service flags", 8); b != nil {
				s.Flags = ServiceFlags(binary.NativeEndian.Uint32(b[0:4]))
			}
		case uapi.SvcAttrTimeout:
			s.Timeout = r.u32("service timeout")
		case uapi.SvcAttrNetmask:
			netmask = r.fixed("service netmask", 4)
		case uapi.SvcAttrStats:
			stats.keep(&r, false)
		case uapi.SvcAttrStats64:
			stats.keep(&r, true)
		}
		has = true
	}
	if r.err != nil {
		return ServiceEntry{}, r.err
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
	if s.Stats, err = stats.decode(); err != nil {
		return ServiceEntry{}, err
	}
	return s, nil
}

// decodeDestination decodes the attributes inside IPVS_CMD_ATTR_DEST. A
// destination without an address family attribute (kernels before 3.18) has
// its service's family.
func decodeDestination(r attrReader, svcFamily Family) (DestinationEntry, error) {
	var d DestinationEntry
	err := decodeDestinationInto(&d, r, svcFamily)
	return d, err
}

// decodeDestinationInto is decodeDestination writing into a zeroed *d, so
// that a dump decodes straight into its slice.
func decodeDestinationInto(d *DestinationEntry, r attrReader, svcFamily Family) error {
	var (
		addr  []byte
		stats statsPair
	)
	d.Family = svcFamily
	for r.next() {
		switch r.typ {
		case uapi.DestAttrAddr:
			addr = rawAddr(&r, "destination address")
		case uapi.DestAttrPort:
			d.Port = r.be16("destination port")
		case uapi.DestAttrFwdMethod:
			d.ForwardMethod = ForwardMethod(r.u32("forwarding method"))
		case uapi.DestAttrWeight:
			d.Weight = r.u32("weight")
		case uapi.DestAttrUThresh:
			d.UpperThreshold = r.u32("upper threshold")
		case uapi.DestAttrLThresh:
			d.LowerThreshold = r.u32("lower threshold")
		case uapi.DestAttrActiveConns:
			d.ActiveConns = r.u32("active connections")
		case uapi.DestAttrInactConns:
			d.InactiveConns = r.u32("inactive connections")
		case uapi.DestAttrPersistConns:
			d.PersistentConns = r.u32("persistent connections")
		case uapi.DestAttrAddrFamily:
			d.Family = Family(r.u16("destination family"))
		case uapi.DestAttrTunType:
			d.TunnelType = TunnelType(r.u8("tunnel type"))
		case uapi.DestAttrTunPort:
			d.TunnelPort = r.be16("tunnel port")
		case uapi.DestAttrTunFlags:
			d.TunnelFlags = TunnelFlags(r.u16("tunnel flags"))
		case uapi.DestAttrStats:
			stats.keep(&r, false)
		case uapi.DestAttrStats64:
			stats.keep(&r, true)
		}
	}
	if r.err != nil {
		return r.err
	}
	var err error
	if d.Addr, err = addrOf(d.Family, addr); err != nil {
		return err
	}
	d.Stats, err = stats.decode()
	return err
}

// appendDestinations decodes the destinations in one reply's attributes
// onto dst.
func appendDestinations(dst []DestinationEntry, payload []byte, svcFamily Family) ([]DestinationEntry, error) {
	r := attrReader{b: payload}
	for r.next() {
		if r.typ != uapi.CmdAttrDest {
			continue
		}
		dst = append(dst, DestinationEntry{})
		if err := decodeDestinationInto(&dst[len(dst)-1], r.nested(), svcFamily); err != nil {
			return dst[:len(dst)-1], err
		}
	}
	return dst, r.err
}

func decodeDaemon(r attrReader) (Daemon, error) {
	var d Daemon
	for r.next() {
		switch r.typ {
		case uapi.DaemonAttrState:
			d.State = DaemonState(r.u32("daemon state"))
		case uapi.DaemonAttrMcastIfn:
			d.Interface = r.str()
		case uapi.DaemonAttrSyncID:
			d.SyncID = r.u32("sync id")
		case uapi.DaemonAttrSyncMaxLen:
			d.MaxLen = r.u16("sync maxlen")
		case uapi.DaemonAttrMcastGroup:
			if b := r.fixed("multicast group", 4); b != nil {
				d.Group = netip.AddrFrom4([4]byte(b))
			}
		case uapi.DaemonAttrMcastGroup6:
			// The kernel sends both groups; only a set IPv6 one counts.
			if b := r.fixed("IPv6 multicast group", 16); b != nil {
				if g := netip.AddrFrom16([16]byte(b)); !g.IsUnspecified() {
					d.Group = g
				}
			}
		case uapi.DaemonAttrMcastPort:
			d.Port = r.u16("multicast port")
		case uapi.DaemonAttrMcastTTL:
			d.TTL = r.u8("multicast TTL")
		}
	}
	return d, r.err
}
