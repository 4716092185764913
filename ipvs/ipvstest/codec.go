package ipvstest

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// This file is the fake's wire codec: request parsing modelled on the
// kernel's legacy nla_parse with the nla_policy tables of ip_vs_ctl.c, and
// reply encoding modelled on its ip_vs_genl_fill_* functions.

// attrKind is the nla_policy type of an attribute.
type attrKind uint8

const (
	kindUnspec    attrKind = iota // NLA_UNSPEC: only a minimum length, if any
	kindU8                        // NLA_U8
	kindU16                       // NLA_U16
	kindU32                       // NLA_U32
	kindNulString                 // NLA_NUL_STRING
	kindBinary                    // NLA_BINARY
	kindNested                    // NLA_NESTED
)

// attrPolicy is one nla_policy entry; length is the policy's .len.
type attrPolicy struct {
	kind   attrKind
	length int
}

// policyFunc returns the policy of an attribute type (1..max).
type policyFunc func(typ uint16) attrPolicy

// Maximum attribute numbers (IPVS_*_ATTR_MAX).
const (
	cmdAttrMax    = uapi.CmdAttrTimeoutUDP
	svcAttrMax    = uapi.SvcAttrStats64
	destAttrMax   = uapi.DestAttrTunFlags
	daemonAttrMax = uapi.DaemonAttrMcastTTL
)

const inetAddrLen = 16 // sizeof(union nf_inet_addr)

// ip_vs_cmd_policy.
func cmdPolicy(typ uint16) attrPolicy {
	switch typ {
	case uapi.CmdAttrService, uapi.CmdAttrDest, uapi.CmdAttrDaemon:
		return attrPolicy{kind: kindNested}
	case uapi.CmdAttrTimeoutTCP, uapi.CmdAttrTimeoutTCPFin, uapi.CmdAttrTimeoutUDP:
		return attrPolicy{kind: kindU32}
	}
	return attrPolicy{}
}

// ip_vs_svc_policy. The kernel's PE_NAME policy allows IP_VS_PENAME_MAXLEN
// characters, one more than SCHED_NAME.
func svcPolicy(typ uint16) attrPolicy {
	switch typ {
	case uapi.SvcAttrAF, uapi.SvcAttrProtocol, uapi.SvcAttrPort:
		return attrPolicy{kind: kindU16}
	case uapi.SvcAttrAddr:
		return attrPolicy{kind: kindBinary, length: inetAddrLen}
	case uapi.SvcAttrFWMark, uapi.SvcAttrTimeout, uapi.SvcAttrNetmask:
		return attrPolicy{kind: kindU32}
	case uapi.SvcAttrSchedName:
		return attrPolicy{kind: kindNulString, length: uapi.SchedNameMaxLen - 1}
	case uapi.SvcAttrPEName:
		return attrPolicy{kind: kindNulString, length: uapi.PENameMaxLen}
	case uapi.SvcAttrFlags:
		return attrPolicy{kind: kindBinary, length: 8}
	case uapi.SvcAttrStats:
		return attrPolicy{kind: kindNested}
	}
	return attrPolicy{}
}

// ip_vs_dest_policy.
func destPolicy(typ uint16) attrPolicy {
	switch typ {
	case uapi.DestAttrAddr:
		return attrPolicy{kind: kindBinary, length: inetAddrLen}
	case uapi.DestAttrPort, uapi.DestAttrAddrFamily, uapi.DestAttrTunPort, uapi.DestAttrTunFlags:
		return attrPolicy{kind: kindU16}
	case uapi.DestAttrFwdMethod, uapi.DestAttrWeight, uapi.DestAttrUThresh, uapi.DestAttrLThresh,
		uapi.DestAttrActiveConns, uapi.DestAttrInactConns, uapi.DestAttrPersistConns:
		return attrPolicy{kind: kindU32}
	case uapi.DestAttrStats:
		return attrPolicy{kind: kindNested}
	case uapi.DestAttrTunType:
		return attrPolicy{kind: kindU8}
	}
	return attrPolicy{}
}

// ip_vs_daemon_policy. MCAST_GROUP6 has no type, only a minimum length.
func daemonPolicy(typ uint16) attrPolicy {
	switch typ {
	case uapi.DaemonAttrState, uapi.DaemonAttrSyncID, uapi.DaemonAttrMcastGroup:
		return attrPolicy{kind: kindU32}
	case uapi.DaemonAttrMcastIfn:
		return attrPolicy{kind: kindNulString, length: uapi.IfNameMaxLen - 1}
	case uapi.DaemonAttrSyncMaxLen, uapi.DaemonAttrMcastPort:
		return attrPolicy{kind: kindU16}
	case uapi.DaemonAttrMcastGroup6:
		return attrPolicy{kind: kindUnspec, length: 16}
	case uapi.DaemonAttrMcastTTL:
		return attrPolicy{kind: kindU8}
	}
	return attrPolicy{}
}

// attrTable holds attribute payloads indexed by type, as nla_parse fills its
// tb[] array: nil when absent, the last occurrence when repeated.
type attrTable [][]byte

// parseAttrs decodes the attributes in b and validates them against pol the
// way the kernel's legacy (non-strict) validation does: types above max and
// type 0 are ignored, fixed-size values longer than their type are accepted
// (the kernel only warns), shorter ones are ERANGE, a NUL_STRING without a
// NUL in reach is EINVAL. A malformed attribute stream is EINVAL.
func parseAttrs(b []byte, max uint16, pol policyFunc) (attrTable, error) {
	tb := make(attrTable, max+1)
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, unix.EINVAL
	}
	for ad.Next() {
		typ := ad.Type()
		if typ == 0 || typ > max {
			continue
		}
		data := ad.Bytes()
		if err := validateAttr(pol(typ), data); err != nil {
			return nil, err
		}
		tb[typ] = data
	}
	if ad.Err() != nil {
		return nil, unix.EINVAL
	}
	return tb, nil
}

// validateAttr is validate_nla for the policy types IPVS uses.
func validateAttr(p attrPolicy, data []byte) error {
	n := len(data)
	switch p.kind {
	case kindU8:
		return minLength(n, 1)
	case kindU16:
		return minLength(n, 2)
	case kindU32:
		return minLength(n, 4)
	case kindNulString:
		reach := n
		if p.length > 0 {
			reach = min(n, p.length+1)
		}
		if reach == 0 || bytes.IndexByte(data[:reach], 0) < 0 {
			return unix.EINVAL
		}
		if p.length > 0 {
			if data[n-1] == 0 {
				n--
			}
			if n > p.length {
				return unix.ERANGE
			}
		}
	case kindBinary:
		if p.length > 0 && n > p.length {
			return unix.ERANGE
		}
	case kindNested:
		if n != 0 && n < 4 {
			return unix.ERANGE
		}
	case kindUnspec:
		return minLength(n, p.length)
	}
	return nil
}

func minLength(n, want int) error {
	if n < want {
		return unix.ERANGE
	}
	return nil
}

// Attribute getters, reading like the kernel's nla_get_* (which ignore any
// bytes beyond the type's size) from attributes that passed validation.

func getU8(b []byte) uint8    { return b[0] }
func getU16(b []byte) uint16  { return binary.NativeEndian.Uint16(b) }
func getBE16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func getU32(b []byte) uint32  { return binary.NativeEndian.Uint32(b) }

// getCString reads a NUL-terminated string the way C code using nla_data
// sees it: up to the first NUL.
func getCString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// memcpyPadded is nla_memcpy into an n-byte buffer: the payload truncated or
// zero-filled to n bytes.
func memcpyPadded(b []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, b)
	return out
}

// serviceRequest is a parsed IPVS_CMD_ATTR_SERVICE (ip_vs_service_user_kern
// plus the raw FLAGS pair, merged with the existing flags by the caller).
type serviceRequest struct {
	key serviceKey
	// The remaining fields are set only for a full entry.
	sched     string
	pe        string
	flags     uint32
	flagsMask uint32
	timeout   uint32
	netmask   uint32
}

// parseService is ip_vs_genl_parse_service without the lookup: nla is the
// SERVICE attribute's payload (nil when absent); full asks for the fields
// needed to create or edit a service.
func parseService(nla []byte, full bool) (serviceRequest, error) {
	var req serviceRequest
	if nla == nil {
		return req, unix.EINVAL
	}
	tb, err := parseAttrs(nla, svcAttrMax, svcPolicy)
	if err != nil {
		return req, unix.EINVAL
	}
	af, fwmark := tb[uapi.SvcAttrAF], tb[uapi.SvcAttrFWMark]
	proto, addr, port := tb[uapi.SvcAttrProtocol], tb[uapi.SvcAttrAddr], tb[uapi.SvcAttrPort]
	if af == nil || (fwmark == nil && (port == nil || proto == nil || addr == nil)) {
		return req, unix.EINVAL
	}

	req.key.AF = getU16(af)
	if !validFamily(req.key.AF) {
		return req, unix.EAFNOSUPPORT
	}
	if fwmark != nil {
		// A FWMARK attribute of 0 thus names the TCP service with address
		// zero and port 0, as in the kernel.
		req.key.Protocol = unix.IPPROTO_TCP
		req.key.FWMark = getU32(fwmark)
		req.key.Addr = zeroAddr(req.key.AF)
	} else {
		req.key.Protocol = getU16(proto)
		req.key.Addr = addrOfFamily(req.key.AF, [16]byte(memcpyPadded(addr, inetAddrLen)))
		req.key.Port = getBE16(port)
	}
	if !full {
		return req, nil
	}

	sched, flags := tb[uapi.SvcAttrSchedName], tb[uapi.SvcAttrFlags]
	timeout, netmask := tb[uapi.SvcAttrTimeout], tb[uapi.SvcAttrNetmask]
	if sched == nil || flags == nil || timeout == nil || netmask == nil {
		return req, unix.EINVAL
	}
	flagPair := memcpyPadded(flags, 8)
	req.flags = binary.NativeEndian.Uint32(flagPair[0:4])
	req.flagsMask = binary.NativeEndian.Uint32(flagPair[4:8])
	req.sched = getCString(sched)
	if pe := tb[uapi.SvcAttrPEName]; pe != nil {
		req.pe = getCString(pe)
	}
	req.timeout = getU32(timeout)
	// nla_get_be32 keeps the bytes as they are; so does reading them in
	// host order and writing them back the same way.
	req.netmask = getU32(netmask)
	return req, nil
}

// destRequest is a parsed IPVS_CMD_ATTR_DEST (ip_vs_dest_user_kern).
type destRequest struct {
	af   uint16 // 0 when ADDR_FAMILY is absent
	addr [16]byte
	port uint16
	// The remaining fields are set only for a full entry.
	fwdMethod uint32
	weight    int32
	uThresh   uint32
	lThresh   uint32
	tunType   uint8
	tunPort   uint16
	tunFlags  uint16
}

// parseDest is ip_vs_genl_parse_dest.
func parseDest(nla []byte, full bool) (destRequest, error) {
	var req destRequest
	if nla == nil {
		return req, unix.EINVAL
	}
	tb, err := parseAttrs(nla, destAttrMax, destPolicy)
	if err != nil {
		return req, unix.EINVAL
	}
	addr, port := tb[uapi.DestAttrAddr], tb[uapi.DestAttrPort]
	if addr == nil || port == nil {
		return req, unix.EINVAL
	}
	req.addr = [16]byte(memcpyPadded(addr, inetAddrLen))
	req.port = getBE16(port)
	if af := tb[uapi.DestAttrAddrFamily]; af != nil {
		req.af = getU16(af)
	}
	if !full {
		return req, nil
	}

	fwd, weight := tb[uapi.DestAttrFwdMethod], tb[uapi.DestAttrWeight]
	uThresh, lThresh := tb[uapi.DestAttrUThresh], tb[uapi.DestAttrLThresh]
	if fwd == nil || weight == nil || uThresh == nil || lThresh == nil {
		return req, unix.EINVAL
	}
	req.fwdMethod = getU32(fwd) & 0x7 // IP_VS_CONN_F_FWD_MASK
	req.weight = int32(getU32(weight))
	req.uThresh = getU32(uThresh)
	req.lThresh = getU32(lThresh)
	if a := tb[uapi.DestAttrTunType]; a != nil {
		req.tunType = getU8(a)
	}
	if a := tb[uapi.DestAttrTunPort]; a != nil {
		req.tunPort = getBE16(a)
	}
	if a := tb[uapi.DestAttrTunFlags]; a != nil {
		req.tunFlags = getU16(a)
	}
	return req, nil
}

// daemonRequest is a parsed IPVS_CMD_ATTR_DAEMON; the has* fields record
// presence of the attributes the kernel requires.
type daemonRequest struct {
	hasState, hasIfn, hasSyncID bool
	state                       uint32
	cfg                         daemon
}

// parseDaemon parses the DAEMON attribute; ip_vs_genl_new_daemon's checks
// of the values are the caller's.
func parseDaemon(nla []byte) (daemonRequest, error) {
	var req daemonRequest
	if nla == nil {
		return req, unix.EINVAL
	}
	tb, err := parseAttrs(nla, daemonAttrMax, daemonPolicy)
	if err != nil {
		return req, unix.EINVAL
	}
	if a := tb[uapi.DaemonAttrState]; a != nil {
		req.hasState, req.state = true, getU32(a)
	}
	if a := tb[uapi.DaemonAttrMcastIfn]; a != nil {
		req.hasIfn, req.cfg.McastIfn = true, getCString(a)
	}
	if a := tb[uapi.DaemonAttrSyncID]; a != nil {
		req.hasSyncID, req.cfg.SyncID = true, getU32(a)
	}
	if a := tb[uapi.DaemonAttrSyncMaxLen]; a != nil {
		req.cfg.SyncMaxLen = getU16(a)
	}
	if a := tb[uapi.DaemonAttrMcastGroup]; a != nil {
		req.cfg.McastGroup = netip.AddrFrom4([4]byte(a[:4]))
	} else if a := tb[uapi.DaemonAttrMcastGroup6]; a != nil {
		req.cfg.McastGroup = netip.AddrFrom16([16]byte(a[:16]))
	}
	if a := tb[uapi.DaemonAttrMcastPort]; a != nil {
		req.cfg.McastPort = getU16(a)
	}
	if a := tb[uapi.DaemonAttrMcastTTL]; a != nil {
		req.cfg.McastTTL = getU8(a)
	}
	return req, nil
}

// Reply encoding.

// genlMessageHeaderLen is the size of nlmsghdr plus genlmsghdr: where the
// first attribute of a reply starts.
const genlMessageHeaderLen = 16 + 4

// attrWriter appends attributes to an AttributeEncoder while tracking their
// offset from the start of the netlink message, so that 64-bit values get a
// PAD attribute exactly where nla_put_u64_64bit would insert one.
type attrWriter struct {
	ae     *netlink.AttributeEncoder
	offset int
	pad64  bool
}

func newReply(cmd uint8, pad64 bool, fill func(w *attrWriter)) (genetlink.Message, error) {
	w := &attrWriter{ae: netlink.NewAttributeEncoder(), offset: genlMessageHeaderLen, pad64: pad64}
	fill(w)
	data, err := w.ae.Encode()
	if err != nil {
		return genetlink.Message{}, err
	}
	return genetlink.Message{
		Header: genetlink.Header{Command: cmd, Version: uapi.FamilyVersion},
		Data:   data,
	}, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

func (w *attrWriter) bytes(typ uint16, b []byte) {
	w.ae.Bytes(typ, b)
	w.offset += 4 + align4(len(b))
}

func (w *attrWriter) u8(typ uint16, v uint8) { w.bytes(typ, []byte{v}) }

func (w *attrWriter) u16(typ uint16, v uint16) {
	w.bytes(typ, binary.NativeEndian.AppendUint16(nil, v))
}

func (w *attrWriter) be16(typ uint16, v uint16) {
	w.bytes(typ, binary.BigEndian.AppendUint16(nil, v))
}

func (w *attrWriter) u32(typ uint16, v uint32) {
	w.bytes(typ, binary.NativeEndian.AppendUint32(nil, v))
}

// u64 is nla_put_u64_64bit: when the attribute's payload would not be
// 8-byte aligned, an empty PAD attribute goes first.
func (w *attrWriter) u64(typ uint16, v uint64) {
	if w.pad64 && w.offset%8 == 0 {
		w.bytes(uapi.StatsPad, nil)
	}
	w.bytes(typ, binary.NativeEndian.AppendUint64(nil, v))
}

// str is nla_put_string: the string and its NUL.
func (w *attrWriter) str(typ uint16, s string) { w.bytes(typ, append([]byte(s), 0)) }

// nested is nla_nest_start_noflag: the kernel does not set NLA_F_NESTED on
// IPVS replies, so neither does the fake.
func (w *attrWriter) nested(typ uint16, fill func(inner *attrWriter)) {
	inner := &attrWriter{ae: netlink.NewAttributeEncoder(), offset: w.offset + 4, pad64: w.pad64}
	fill(inner)
	b, err := inner.ae.Encode()
	if err != nil {
		// Only oversized payloads fail; let the outer Encode report it.
		w.ae.Do(typ, func() ([]byte, error) { return nil, err })
		return
	}
	w.bytes(typ, b)
}

// addr16 encodes an address as the kernel's 16-byte union nf_inet_addr.
func addr16(a netip.Addr) []byte {
	b := as16(a)
	return b[:]
}

// ip_vs_genl_fill_stats: 32-bit counters except the byte counts.
func encodeStats(w *attrWriter, typ uint16, s Stats) {
	w.nested(typ, func(w *attrWriter) {
		w.u32(uapi.StatsConns, uint32(s.Conns))
		w.u32(uapi.StatsInPkts, uint32(s.InPkts))
		w.u32(uapi.StatsOutPkts, uint32(s.OutPkts))
		w.u64(uapi.StatsInBytes, s.InBytes)
		w.u64(uapi.StatsOutBytes, s.OutBytes)
		w.u32(uapi.StatsCPS, uint32(s.CPS))
		w.u32(uapi.StatsInPPS, uint32(s.InPPS))
		w.u32(uapi.StatsOutPPS, uint32(s.OutPPS))
		w.u32(uapi.StatsInBPS, uint32(s.InBPS))
		w.u32(uapi.StatsOutBPS, uint32(s.OutBPS))
	})
}

// ip_vs_genl_fill_stats64: everything 64-bit.
func encodeStats64(w *attrWriter, typ uint16, s Stats) {
	w.nested(typ, func(w *attrWriter) {
		w.u64(uapi.StatsConns, s.Conns)
		w.u64(uapi.StatsInPkts, s.InPkts)
		w.u64(uapi.StatsOutPkts, s.OutPkts)
		w.u64(uapi.StatsInBytes, s.InBytes)
		w.u64(uapi.StatsOutBytes, s.OutBytes)
		w.u64(uapi.StatsCPS, s.CPS)
		w.u64(uapi.StatsInPPS, s.InPPS)
		w.u64(uapi.StatsOutPPS, s.OutPPS)
		w.u64(uapi.StatsInBPS, s.InBPS)
		w.u64(uapi.StatsOutBPS, s.OutBPS)
	})
}

// ip_vs_genl_fill_service.
func encodeService(w *attrWriter, svc *service) {
	w.nested(uapi.CmdAttrService, func(w *attrWriter) {
		w.u16(uapi.SvcAttrAF, svc.AF)
		if svc.FWMark != 0 {
			w.u32(uapi.SvcAttrFWMark, svc.FWMark)
		} else {
			w.u16(uapi.SvcAttrProtocol, svc.Protocol)
			w.bytes(uapi.SvcAttrAddr, addr16(svc.Addr))
			w.be16(uapi.SvcAttrPort, svc.Port)
		}
		w.str(uapi.SvcAttrSchedName, svc.Sched)
		if svc.PE != "" {
			w.str(uapi.SvcAttrPEName, svc.PE)
		}
		flags := binary.NativeEndian.AppendUint32(nil, svc.Flags)
		flags = binary.NativeEndian.AppendUint32(flags, ^uint32(0))
		w.bytes(uapi.SvcAttrFlags, flags)
		w.u32(uapi.SvcAttrTimeout, svc.Timeout)
		w.u32(uapi.SvcAttrNetmask, svc.Netmask)
		encodeStats(w, uapi.SvcAttrStats, svc.Stats)
		encodeStats64(w, uapi.SvcAttrStats64, svc.Stats)
	})
}

// ip_vs_genl_fill_dest.
func encodeDest(w *attrWriter, d *dest) {
	w.nested(uapi.CmdAttrDest, func(w *attrWriter) {
		w.bytes(uapi.DestAttrAddr, addr16(d.Addr))
		w.be16(uapi.DestAttrPort, d.Port)
		w.u32(uapi.DestAttrFwdMethod, d.FwdMethod)
		w.u32(uapi.DestAttrWeight, uint32(d.Weight))
		w.u8(uapi.DestAttrTunType, d.TunType)
		w.be16(uapi.DestAttrTunPort, d.TunPort)
		w.u16(uapi.DestAttrTunFlags, d.TunFlags)
		w.u32(uapi.DestAttrUThresh, d.UThresh)
		w.u32(uapi.DestAttrLThresh, d.LThresh)
		w.u32(uapi.DestAttrActiveConns, d.ActiveConns)
		w.u32(uapi.DestAttrInactConns, d.InactConns)
		w.u32(uapi.DestAttrPersistConns, d.PersistConns)
		w.u16(uapi.DestAttrAddrFamily, d.AF)
		encodeStats(w, uapi.DestAttrStats, d.Stats)
		encodeStats64(w, uapi.DestAttrStats64, d.Stats)
	})
}

// ip_vs_genl_fill_daemon.
func encodeDaemon(w *attrWriter, state uint32, d *daemon) {
	w.nested(uapi.CmdAttrDaemon, func(w *attrWriter) {
		w.u32(uapi.DaemonAttrState, state)
		w.str(uapi.DaemonAttrMcastIfn, d.McastIfn)
		w.u32(uapi.DaemonAttrSyncID, d.SyncID)
		w.u16(uapi.DaemonAttrSyncMaxLen, d.SyncMaxLen)
		w.u16(uapi.DaemonAttrMcastPort, d.McastPort)
		w.u8(uapi.DaemonAttrMcastTTL, d.McastTTL)
		switch {
		case d.McastGroup.Is4():
			v4 := d.McastGroup.As4()
			w.bytes(uapi.DaemonAttrMcastGroup, v4[:])
		case d.McastGroup.Is6():
			v6 := d.McastGroup.As16()
			w.bytes(uapi.DaemonAttrMcastGroup6, v6[:])
		}
	})
}
