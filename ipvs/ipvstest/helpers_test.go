package ipvstest_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// The tests speak raw generic netlink to the fake: requests are built here
// attribute by attribute, replies are decoded here, independently of both
// the fake's codec and the ipvs client's.

// attr is one netlink attribute; Children, when not nil, is the decoded
// content of a nested attribute (Data is then nil).
type attr struct {
	Type     uint16
	Data     []byte
	Children []attr
}

type attrList []attr

func (l attrList) encode(t *testing.T) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	for _, a := range l {
		if a.Children != nil {
			ae.Bytes(a.Type, attrList(a.Children).encode(t))
			continue
		}
		ae.Bytes(a.Type, a.Data)
	}
	b, err := ae.Encode()
	if err != nil {
		t.Fatalf("encoding attributes: %v", err)
	}
	return b
}

// without returns l minus the attributes of type typ.
func (l attrList) without(typ uint16) attrList {
	var out attrList
	for _, a := range l {
		if a.Type != typ {
			out = append(out, a)
		}
	}
	return out
}

// with returns l with the attribute of type typ replaced by data, or data
// appended when l has no such attribute.
func (l attrList) with(typ uint16, data []byte) attrList {
	out := make(attrList, 0, len(l)+1)
	replaced := false
	for _, a := range l {
		if a.Type == typ {
			a = attr{Type: typ, Data: data}
			replaced = true
		}
		out = append(out, a)
	}
	if !replaced {
		out = append(out, attr{Type: typ, Data: data})
	}
	return out
}

func nest(typ uint16, children attrList) attr {
	if children == nil {
		children = attrList{}
	}
	return attr{Type: typ, Children: children}
}

func u8(v uint8) []byte    { return []byte{v} }
func u16(v uint16) []byte  { return binary.NativeEndian.AppendUint16(nil, v) }
func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte  { return binary.NativeEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte  { return binary.NativeEndian.AppendUint64(nil, v) }
func str(s string) []byte  { return append([]byte(s), 0) }

// inetAddr is a union nf_inet_addr: 16 bytes, IPv4 in the first four.
func inetAddr(s string) []byte {
	a := netip.MustParseAddr(s)
	b := make([]byte, 16)
	if a.Is4() {
		v4 := a.As4()
		copy(b, v4[:])
		return b
	}
	v6 := a.As16()
	copy(b, v6[:])
	return b
}

func flagPair(flags, mask uint32) []byte { return append(u32(flags), u32(mask)...) }

// netmask4 is an IPv4 NETMASK attribute: the mask in network order.
func netmask4(bits int) []byte {
	return binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-bits))
}

// service returns the full SERVICE attributes for a TCP/UDP/SCTP service,
// in the order ipvsadm sends them.
func service(proto uint16, addr string, port uint16) attrList {
	af, netmask := uint16(unix.AF_INET), netmask4(32)
	if netip.MustParseAddr(addr).Is6() {
		af, netmask = unix.AF_INET6, u32(128)
	}
	return attrList{
		{Type: uapi.SvcAttrAF, Data: u16(af)},
		{Type: uapi.SvcAttrProtocol, Data: u16(proto)},
		{Type: uapi.SvcAttrAddr, Data: inetAddr(addr)},
		{Type: uapi.SvcAttrPort, Data: be16(port)},
		{Type: uapi.SvcAttrSchedName, Data: str("wlc")},
		{Type: uapi.SvcAttrFlags, Data: flagPair(0, ^uint32(0))},
		{Type: uapi.SvcAttrTimeout, Data: u32(0)},
		{Type: uapi.SvcAttrNetmask, Data: netmask},
	}
}

// fwmarkService returns the full SERVICE attributes for a fwmark service.
func fwmarkService(af uint16, mark uint32) attrList {
	netmask := netmask4(32)
	if af == unix.AF_INET6 {
		netmask = u32(128)
	}
	return attrList{
		{Type: uapi.SvcAttrAF, Data: u16(af)},
		{Type: uapi.SvcAttrFWMark, Data: u32(mark)},
		{Type: uapi.SvcAttrSchedName, Data: str("wlc")},
		{Type: uapi.SvcAttrFlags, Data: flagPair(0, ^uint32(0))},
		{Type: uapi.SvcAttrTimeout, Data: u32(0)},
		{Type: uapi.SvcAttrNetmask, Data: netmask},
	}
}

// serviceID keeps only the identifying attributes of a service, as
// ipvsadm sends them for GET_DEST.
func serviceID(full attrList) attrList {
	var out attrList
	for _, a := range full {
		switch a.Type {
		case uapi.SvcAttrAF, uapi.SvcAttrProtocol, uapi.SvcAttrAddr, uapi.SvcAttrPort, uapi.SvcAttrFWMark:
			out = append(out, a)
		}
	}
	return out
}

// destination returns the full DEST attributes, in the order ipvsadm sends
// them; the address family follows the address.
func destination(addr string, port uint16, fwd, weight uint32) attrList {
	af := uint16(unix.AF_INET)
	if netip.MustParseAddr(addr).Is6() {
		af = unix.AF_INET6
	}
	return attrList{
		{Type: uapi.DestAttrAddrFamily, Data: u16(af)},
		{Type: uapi.DestAttrAddr, Data: inetAddr(addr)},
		{Type: uapi.DestAttrPort, Data: be16(port)},
		{Type: uapi.DestAttrFwdMethod, Data: u32(fwd)},
		{Type: uapi.DestAttrWeight, Data: u32(weight)},
		{Type: uapi.DestAttrTunType, Data: u8(0)},
		{Type: uapi.DestAttrTunPort, Data: be16(0)},
		{Type: uapi.DestAttrTunFlags, Data: u16(0)},
		{Type: uapi.DestAttrUThresh, Data: u32(0)},
		{Type: uapi.DestAttrLThresh, Data: u32(0)},
	}
}

// Forwarding methods.
const (
	fwdMasq   = 0
	fwdTunnel = 2
	fwdRoute  = 3
)

// client sends raw requests to a fake kernel.
type client struct {
	t      *testing.T
	conn   *genetlink.Conn
	family uint16
}

func newClient(t *testing.T, k *ipvstest.Kernel) *client {
	t.Helper()
	conn := k.Conn()
	t.Cleanup(func() { conn.Close() })
	f, err := conn.GetFamily(uapi.FamilyName)
	if err != nil {
		t.Fatalf("GetFamily: %v", err)
	}
	return &client{t: t, conn: conn, family: f.ID}
}

func (c *client) execute(cmd uint8, flags netlink.HeaderFlags, attrs attrList) ([]genetlink.Message, error) {
	c.t.Helper()
	msg := genetlink.Message{
		Header: genetlink.Header{Command: cmd, Version: uapi.FamilyVersion},
		Data:   attrs.encode(c.t),
	}
	return c.conn.Execute(msg, c.family, flags)
}

// set sends a command the way ipvsadm does, asking for an ACK.
func (c *client) set(cmd uint8, attrs ...attr) error {
	c.t.Helper()
	_, err := c.execute(cmd, netlink.Request|netlink.Acknowledge, attrs)
	return err
}

// mustSet is set for commands that must succeed.
func (c *client) mustSet(cmd uint8, attrs ...attr) {
	c.t.Helper()
	if err := c.set(cmd, attrs...); err != nil {
		c.t.Fatalf("command %d: %v", cmd, err)
	}
}

// get sends a doit request that expects exactly one reply.
func (c *client) get(cmd uint8, attrs ...attr) (genetlink.Message, error) {
	c.t.Helper()
	msgs, err := c.execute(cmd, netlink.Request, attrs)
	if err != nil {
		return genetlink.Message{}, err
	}
	if len(msgs) != 1 {
		c.t.Fatalf("command %d: got %d replies, want 1", cmd, len(msgs))
	}
	return msgs[0], nil
}

func (c *client) dump(cmd uint8, attrs ...attr) []genetlink.Message {
	c.t.Helper()
	msgs, err := c.execute(cmd, netlink.Request|netlink.Dump, attrs)
	if err != nil {
		c.t.Fatalf("dump %d: %v", cmd, err)
	}
	return msgs
}

func (c *client) services() []serviceView {
	c.t.Helper()
	var out []serviceView
	for _, m := range c.dump(uapi.CmdGetService) {
		out = append(out, decodeService(c.t, m))
	}
	return out
}

func (c *client) dests(svc attrList) []destView {
	c.t.Helper()
	var out []destView
	for _, m := range c.dump(uapi.CmdGetDest, nest(uapi.CmdAttrService, serviceID(svc))) {
		out = append(out, decodeDest(c.t, m))
	}
	return out
}

func (c *client) daemons() []daemonView {
	c.t.Helper()
	var out []daemonView
	for _, m := range c.dump(uapi.CmdGetDaemon) {
		out = append(out, decodeDaemon(c.t, m))
	}
	return out
}

// errnoOf returns the errno a request failed with, 0 for success.
func errnoOf(t *testing.T, err error) unix.Errno {
	t.Helper()
	if err == nil {
		return 0
	}
	var errno unix.Errno
	if !errors.As(err, &errno) {
		t.Fatalf("error %v carries no errno", err)
	}
	return errno
}

// decodeTree decodes b into attributes, descending into those that shape
// (the expected tree) has as nested at the same position.
func decodeTree(t *testing.T, b []byte, shape []attr) []attr {
	t.Helper()
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		t.Fatalf("decoding attributes: %v", err)
	}
	var out []attr
	for i := 0; ad.Next(); i++ {
		a := attr{Type: ad.Type() | ad.TypeFlags(), Data: ad.Bytes()}
		if i < len(shape) && shape[i].Children != nil && shape[i].Type == a.Type {
			a.Children = decodeTree(t, a.Data, shape[i].Children)
			a.Data = nil
		}
		out = append(out, a)
	}
	if err := ad.Err(); err != nil {
		t.Fatalf("decoding attributes: %v", err)
	}
	return out
}

// attrMap decodes b into a map by type, skipping PAD attributes.
func attrMap(t *testing.T, b []byte) map[uint16][]byte {
	t.Helper()
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		t.Fatalf("decoding attributes: %v", err)
	}
	m := make(map[uint16][]byte)
	for ad.Next() {
		m[ad.Type()] = ad.Bytes()
	}
	if err := ad.Err(); err != nil {
		t.Fatalf("decoding attributes: %v", err)
	}
	return m
}

// nested returns the payload of the single top-level attribute typ of m.
func nested(t *testing.T, m genetlink.Message, typ uint16) map[uint16][]byte {
	t.Helper()
	top := attrMap(t, m.Data)
	b, ok := top[typ]
	if !ok || len(top) != 1 {
		t.Fatalf("reply command %d: want only attribute %d, got %v", m.Header.Command, typ, top)
	}
	return attrMap(t, b)
}

// serviceView is what a service reply says, decoded independently.
type serviceView struct {
	AF       uint16
	Protocol uint16
	Addr     string
	Port     uint16
	FWMark   uint32
	Sched    string
	PE       string
	Flags    uint32
	Mask     uint32
	Timeout  uint32
	Netmask  []byte
	Stats64  ipvstest.Stats
}

func decodeService(t *testing.T, m genetlink.Message) serviceView {
	t.Helper()
	if m.Header.Command != uapi.CmdNewService {
		t.Fatalf("service reply has command %d", m.Header.Command)
	}
	a := nested(t, m, uapi.CmdAttrService)
	v := serviceView{
		AF:      binary.NativeEndian.Uint16(a[uapi.SvcAttrAF]),
		Sched:   cString(a[uapi.SvcAttrSchedName]),
		PE:      cString(a[uapi.SvcAttrPEName]),
		Flags:   binary.NativeEndian.Uint32(a[uapi.SvcAttrFlags][0:4]),
		Mask:    binary.NativeEndian.Uint32(a[uapi.SvcAttrFlags][4:8]),
		Timeout: binary.NativeEndian.Uint32(a[uapi.SvcAttrTimeout]),
		Netmask: a[uapi.SvcAttrNetmask],
		Stats64: decodeStats64(t, a[uapi.SvcAttrStats64]),
	}
	if b, ok := a[uapi.SvcAttrFWMark]; ok {
		v.FWMark = binary.NativeEndian.Uint32(b)
	} else {
		v.Protocol = binary.NativeEndian.Uint16(a[uapi.SvcAttrProtocol])
		v.Addr = addrString(v.AF, a[uapi.SvcAttrAddr])
		v.Port = binary.BigEndian.Uint16(a[uapi.SvcAttrPort])
	}
	return v
}

type destView struct {
	AF           uint16
	Addr         string
	Port         uint16
	FwdMethod    uint32
	Weight       int32
	UThresh      uint32
	LThresh      uint32
	TunType      uint8
	TunPort      uint16
	TunFlags     uint16
	ActiveConns  uint32
	InactConns   uint32
	PersistConns uint32
	Stats64      ipvstest.Stats
}

func decodeDest(t *testing.T, m genetlink.Message) destView {
	t.Helper()
	if m.Header.Command != uapi.CmdNewDest {
		t.Fatalf("destination reply has command %d", m.Header.Command)
	}
	a := nested(t, m, uapi.CmdAttrDest)
	af := binary.NativeEndian.Uint16(a[uapi.DestAttrAddrFamily])
	return destView{
		AF:           af,
		Addr:         addrString(af, a[uapi.DestAttrAddr]),
		Port:         binary.BigEndian.Uint16(a[uapi.DestAttrPort]),
		FwdMethod:    binary.NativeEndian.Uint32(a[uapi.DestAttrFwdMethod]),
		Weight:       int32(binary.NativeEndian.Uint32(a[uapi.DestAttrWeight])),
		UThresh:      binary.NativeEndian.Uint32(a[uapi.DestAttrUThresh]),
		LThresh:      binary.NativeEndian.Uint32(a[uapi.DestAttrLThresh]),
		TunType:      a[uapi.DestAttrTunType][0],
		TunPort:      binary.BigEndian.Uint16(a[uapi.DestAttrTunPort]),
		TunFlags:     binary.NativeEndian.Uint16(a[uapi.DestAttrTunFlags]),
		ActiveConns:  binary.NativeEndian.Uint32(a[uapi.DestAttrActiveConns]),
		InactConns:   binary.NativeEndian.Uint32(a[uapi.DestAttrInactConns]),
		PersistConns: binary.NativeEndian.Uint32(a[uapi.DestAttrPersistConns]),
		Stats64:      decodeStats64(t, a[uapi.DestAttrStats64]),
	}
}

type daemonView struct {
	State      uint32
	McastIfn   string
	SyncID     uint32
	SyncMaxLen uint16
	McastPort  uint16
	McastTTL   uint8
	McastGroup string
}

func decodeDaemon(t *testing.T, m genetlink.Message) daemonView {
	t.Helper()
	if m.Header.Command != uapi.CmdNewDaemon {
		t.Fatalf("daemon reply has command %d", m.Header.Command)
	}
	a := nested(t, m, uapi.CmdAttrDaemon)
	v := daemonView{
		State:      binary.NativeEndian.Uint32(a[uapi.DaemonAttrState]),
		McastIfn:   cString(a[uapi.DaemonAttrMcastIfn]),
		SyncID:     binary.NativeEndian.Uint32(a[uapi.DaemonAttrSyncID]),
		SyncMaxLen: binary.NativeEndian.Uint16(a[uapi.DaemonAttrSyncMaxLen]),
		McastPort:  binary.NativeEndian.Uint16(a[uapi.DaemonAttrMcastPort]),
		McastTTL:   a[uapi.DaemonAttrMcastTTL][0],
	}
	if b, ok := a[uapi.DaemonAttrMcastGroup]; ok {
		v.McastGroup = netip.AddrFrom4([4]byte(b)).String()
	}
	if b, ok := a[uapi.DaemonAttrMcastGroup6]; ok {
		v.McastGroup = netip.AddrFrom16([16]byte(b)).String()
	}
	return v
}

func decodeStats64(t *testing.T, b []byte) ipvstest.Stats {
	t.Helper()
	a := attrMap(t, b)
	get := func(typ uint16) uint64 { return binary.NativeEndian.Uint64(a[typ]) }
	return ipvstest.Stats{
		Conns:    get(uapi.StatsConns),
		InPkts:   get(uapi.StatsInPkts),
		OutPkts:  get(uapi.StatsOutPkts),
		InBytes:  get(uapi.StatsInBytes),
		OutBytes: get(uapi.StatsOutBytes),
		CPS:      get(uapi.StatsCPS),
		InPPS:    get(uapi.StatsInPPS),
		OutPPS:   get(uapi.StatsOutPPS),
		InBPS:    get(uapi.StatsInBPS),
		OutBPS:   get(uapi.StatsOutBPS),
	}
}

func addrString(af uint16, b []byte) string {
	if len(b) != 16 {
		return "bad length"
	}
	if af == unix.AF_INET {
		if [12]byte(b[4:]) != [12]byte{} {
			return "garbage after IPv4 address"
		}
		return netip.AddrFrom4([4]byte(b[:4])).String()
	}
	return netip.AddrFrom16([16]byte(b)).String()
}

func cString(b []byte) string {
	if b == nil {
		return ""
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b) + "(no NUL)"
}
