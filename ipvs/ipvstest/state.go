// Package ipvstest is a stateful fake of the kernel's IPVS generic-netlink
// family, so that code above the ipvs client can be tested without root.
//
// The fake works at the wire level: it receives the genetlink requests the
// real client encodes and answers the way net/netfilter/ipvs/ip_vs_ctl.c and
// ip_vs_sync.c of Linux 6.x do, with the same errno for the same mistake.
// Its codec is written independently of the client's, parsing requests the
// way the kernel's legacy (non-strict) nla_parse does, so a bug the client
// makes symmetrically in its encoder and decoder still shows up.
//
// Kernel behaviour worth knowing when reading test failures (all checked
// against ip_vs_ctl.c):
//
//   - Requests are parsed leniently, as the kernel's legacy nla_parse does:
//     unknown attribute types are ignored, a fixed-size value that is too
//     long is read from its first bytes, one that is too short fails. At the
//     top level that failure is ERANGE; inside SERVICE, DEST or DAEMON every
//     parse failure is EINVAL.
//   - The service is looked up before DEST is parsed: a destination command
//     for a missing service is ESRCH whatever its DEST holds.
//   - GET_DEST never fails: a bad request or an unknown service is an empty
//     dump.
//   - Over genetlink the service protocol is not checked (only the old
//     sockopt interface does), so any protocol number is accepted.
//   - Scheduler names rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos
//     exist, "none" means no scheduler, anything else (including "") is
//     ENOENT. The only persistence engine is "sip".
//   - A destination's lower threshold above its upper one is ERANGE even
//     when the upper one is 0 (unlimited).
//
// Where the fake is a model rather than the real thing:
//
//   - Services are listed non-fwmark services first, then fwmark services,
//     each group newest first. The kernel walks two hash tables whose bucket
//     order depends on a kernel pointer, so no fixed order can match it;
//     callers must not rely on any order. Destinations are listed newest
//     first, exactly like the kernel.
//   - A deleted destination is gone; the kernel's destination trash, which
//     resurrects its counters when it is re-added soon after, is not modelled.
//   - Address checks on new destinations: 0.0.0.0, 255.255.255.255 and
//     multicast IPv4, and unspecified, multicast, link-local and v4-mapped
//     IPv6 addresses are EINVAL (the kernel accepts the IPv6 ones if they are
//     local, and rejects the broadcast addresses of local subnets; the fake
//     has no local addresses).
//   - Interfaces for sync daemons: "lo" (MTU 65536), "eth0" (MTU 1500) and
//     whatever AddInterface registers; any other name is ENODEV.
//   - HZ is 250 (Debian's kernels): persistence timeouts wrap like the
//     kernel's u32 jiffies, and SET_CONFIG rejects timeouts above INT_MAX/HZ.
//   - 64-bit counters are preceded by a PAD attribute where the kernel's
//     nla_put_u64_64bit inserts one on architectures without efficient
//     unaligned access, computed as if each message started 8-byte aligned.
//     x86-64 kernels never pad; SetPad64(false) mimics them.
//   - Attributes with a malformed length field are EINVAL; the kernel would
//     silently ignore the bytes from there on.
//   - A successful request is answered by its reply data, if any, and then
//     by an ACK in a datagram of its own when it asked for one
//     (netlink.Acknowledge), as netlink_rcv_skb does; a dump is never
//     acknowledged. Control messages (types below NLMSG_MIN_TYPE, such as
//     NLMSG_NOOP) get only the ACK they ask for.
//   - A dump is a snapshot taken at the request and sent in chunks. The
//     kernel walks its table again for every chunk, resuming by position,
//     so changes between chunks can make it skip or repeat entries; the
//     fake does not.
//   - The socket around the kernel (receive buffer, drops and ENOBUFS,
//     chunk sizes, deadlines) is described at SocketConfig.
package ipvstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// FamilyID is the generic-netlink family ID the fake announces for "IPVS".
// A real kernel assigns one dynamically.
const FamilyID uint16 = 0x24

// Kernel constants the fake reproduces.
const (
	hz             = 250      // CONFIG_HZ of Debian kernels
	versionCode    = 0x010201 // IP_VS_VERSION_CODE
	connTabSize    = 4096     // ip_vs_conn_tab_size with the default conn_tab_bits 12
	maxTimeoutSecs = 0x7fffffff / hz

	defaultTCPTimeout    = 15 * 60
	defaultTCPFinTimeout = 2 * 60
	defaultUDPTimeout    = 5 * 60

	flagHashed = 0x02 // IP_VS_SVC_F_HASHED

	stateMaster = 1 // IP_VS_STATE_MASTER
	stateBackup = 2 // IP_VS_STATE_BACKUP

	fwdTunnel = 2 // IP_VS_CONN_F_TUNNEL
	tunGUE    = 1 // IP_VS_CONN_F_TUNNEL_TYPE_GUE

	syncPort = 8848 // IP_VS_SYNC_PORT
)

// syncGroup is IP_VS_SYNC_GROUP, the default multicast group of sync daemons.
func syncGroup() netip.Addr { return netip.AddrFrom4([4]byte{224, 0, 0, 81}) }

// Kernel is the fake kernel state. It is safe for concurrent use; many Conns
// may share one Kernel. The zero value is not usable; call New.
type Kernel struct {
	sends    atomic.Int64 // see Sends
	mu       sync.Mutex
	changes  int64 // see Changes
	st       state
	failNext map[uint8]unix.Errno
	noPad64  bool
	silent   bool
	unloaded bool
}

// New returns a Kernel as freshly loaded ip_vs leaves it: no services, no
// daemons, default timeouts.
func New() *Kernel {
	return &Kernel{st: newState(), failNext: make(map[uint8]unix.Errno)}
}

// Changes is the number of requests so far that would change the table
// (add, edit, delete, flush, zero, set timeouts, start or stop a daemon),
// whether or not they succeeded.
func (k *Kernel) Changes() int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.changes
}

// FailNext makes the next request with generic-netlink command cmd fail with
// errno before the fake looks at it.
func (k *Kernel) FailNext(cmd uint8, errno unix.Errno) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failNext[cmd] = errno
}

// SetLoaded loads (true) or unloads (false) the ip_vs module: while it is
// unloaded the generic-netlink controller does not know the IPVS family
// (ENOENT) and requests to FamilyID fail with ENOENT. Loading it again
// starts from the state New returns.
func (k *Kernel) SetLoaded(loaded bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if loaded && k.unloaded {
		k.st = newState()
	}
	k.unloaded = !loaded
}

func (k *Kernel) isLoaded() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return !k.unloaded
}

// SetUnresponsive makes the kernel take requests without ever answering
// them (true), or answer again (false), to test what a client does when the
// kernel hangs. Requests sent meanwhile are lost.
func (k *Kernel) SetUnresponsive(unresponsive bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.silent = unresponsive
}

func (k *Kernel) isUnresponsive() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.silent
}

// AddInterface makes name a known network interface (MTU 1500) for
// NEW_DAEMON.
func (k *Kernel) AddInterface(name string) { k.AddInterfaceMTU(name, 1500) }

// AddInterfaceMTU makes name a known network interface with the given MTU;
// the MTU decides a backup daemon's default sync_maxlen.
func (k *Kernel) AddInterfaceMTU(name string, mtu uint32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.st.Interfaces[name] = mtu
}

// SetPad64 chooses whether 64-bit counters get alignment PAD attributes
// (the default, as on architectures without efficient unaligned access) or
// none (as on x86-64).
func (k *Kernel) SetPad64(enabled bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.noPad64 = !enabled
}

// Stats are a service's or destination's counters and rate estimates, as
// the kernel keeps them (struct ip_vs_kstats).
type Stats struct {
	Conns    uint64 `json:"conns"`
	InPkts   uint64 `json:"inpkts"`
	OutPkts  uint64 `json:"outpkts"`
	InBytes  uint64 `json:"inbytes"`
	OutBytes uint64 `json:"outbytes"`
	CPS      uint64 `json:"cps"`
	InPPS    uint64 `json:"inpps"`
	OutPPS   uint64 `json:"outpps"`
	InBPS    uint64 `json:"inbps"`
	OutBPS   uint64 `json:"outbps"`
}

// ServiceID names a virtual service for the test helpers. AF 0 means the
// family of Addr (AF_INET when Addr is invalid). When FWMark is non-zero only
// AF and FWMark count.
type ServiceID struct {
	AF       uint16
	Protocol uint16
	Addr     netip.Addr
	Port     uint16
	FWMark   uint32
}

// DestID names a destination of a service for the test helpers. AF 0 means
// the family of Addr.
type DestID struct {
	AF   uint16
	Addr netip.Addr
	Port uint16
}

// ErrNotFound is returned by the test helpers for a service or destination
// the fake does not have.
var ErrNotFound = errors.New("ipvstest: not found")

// SetServiceStats sets the counters of a service.
func (k *Kernel) SetServiceStats(id ServiceID, s Stats) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	svc, err := k.st.serviceByID(id)
	if err != nil {
		return err
	}
	svc.Stats = s
	return nil
}

// SetDestStats sets the counters of a destination.
func (k *Kernel) SetDestStats(svcID ServiceID, id DestID, s Stats) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	d, err := k.st.destByID(svcID, id)
	if err != nil {
		return err
	}
	d.Stats = s
	return nil
}

// SetConnCounts sets a destination's active, inactive and persistent
// connection counts.
func (k *Kernel) SetConnCounts(svcID ServiceID, id DestID, active, inactive, persistent uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	d, err := k.st.destByID(svcID, id)
	if err != nil {
		return err
	}
	d.ActiveConns, d.InactConns, d.PersistConns = active, inactive, persistent
	return nil
}

// MarshalJSON snapshots the whole state (services, destinations, counters,
// daemons, timeouts, interfaces), so a harness can persist it between
// processes. Pending FailNext errors are not part of it.
func (k *Kernel) MarshalJSON() ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return json.Marshal(&k.st)
}

// UnmarshalJSON replaces the state with a snapshot from MarshalJSON.
// Missing timeouts and interfaces take their defaults.
func (k *Kernel) UnmarshalJSON(b []byte) error {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("ipvstest: decoding state: %w", err)
	}
	defaults := newState()
	if st.Interfaces == nil {
		st.Interfaces = defaults.Interfaces
	}
	for _, t := range []struct{ got, def *uint32 }{
		{&st.Timeouts.TCP, &defaults.Timeouts.TCP},
		{&st.Timeouts.TCPFin, &defaults.Timeouts.TCPFin},
		{&st.Timeouts.UDP, &defaults.Timeouts.UDP},
	} {
		if *t.got == 0 {
			*t.got = *t.def
		}
	}
	for _, svc := range st.Services {
		if svc == nil {
			return errors.New("ipvstest: decoding state: null service")
		}
		if slices.Contains(svc.Dests, nil) {
			return errors.New("ipvstest: decoding state: null destination")
		}
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	k.st = st
	if k.failNext == nil {
		k.failNext = make(map[uint8]unix.Errno)
	}
	return nil
}

// state is everything a network namespace's IPVS holds. Its JSON form is
// the snapshot format.
type state struct {
	// Services in creation order, oldest first.
	Services []*service `json:"services"`
	Timeouts timeouts   `json:"timeouts"`
	Master   *daemon    `json:"master,omitempty"`
	Backup   *daemon    `json:"backup,omitempty"`
	// Interfaces maps interface names to their MTU.
	Interfaces map[string]uint32 `json:"interfaces"`
}

func newState() state {
	return state{
		Timeouts: timeouts{
			TCP:    defaultTCPTimeout,
			TCPFin: defaultTCPFinTimeout,
			UDP:    defaultUDPTimeout,
		},
		Interfaces: map[string]uint32{"lo": 65536, "eth0": 1500},
	}
}

// timeouts are the protocol timeouts of GET/SET_CONFIG, in seconds.
type timeouts struct {
	TCP    uint32 `json:"tcp"`
	TCPFin uint32 `json:"tcp_fin"`
	UDP    uint32 `json:"udp"`
}

// serviceKey is what identifies a service: (af, fwmark) when fwmark is not
// zero, else (af, protocol, addr, port). Addr is always the address of the
// family (4 bytes for AF_INET), zero for fwmark services, and Protocol is TCP
// for them, as ip_vs_genl_parse_service leaves it.
type serviceKey struct {
	AF       uint16     `json:"af"`
	Protocol uint16     `json:"protocol"`
	Addr     netip.Addr `json:"addr"`
	Port     uint16     `json:"port"`
	FWMark   uint32     `json:"fwmark"`
}

func (a serviceKey) matches(b serviceKey) bool {
	if a.AF != b.AF || a.FWMark != b.FWMark {
		return false
	}
	if a.FWMark != 0 {
		return true
	}
	return a.Protocol == b.Protocol && a.Addr == b.Addr && a.Port == b.Port
}

type service struct {
	serviceKey
	// Sched is the scheduler name; "none" means no scheduler.
	Sched string `json:"sched"`
	// PE is the persistence engine name, "" for none.
	PE string `json:"pe,omitempty"`
	// Flags include HASHED, as the kernel keeps them.
	Flags uint32 `json:"flags"`
	// Timeout is the persistence timeout in seconds as the kernel reports
	// it after storing it in u32 jiffies.
	Timeout uint32 `json:"timeout"`
	// Netmask holds the NETMASK attribute's 4 bytes read in host order:
	// a network-order mask for IPv4, a prefix length for IPv6.
	Netmask uint32 `json:"netmask"`
	Stats   Stats  `json:"stats"`
	// Dests in creation order, oldest first.
	Dests []*dest `json:"dests,omitempty"`
}

type dest struct {
	AF   uint16     `json:"af"`
	Addr netip.Addr `json:"addr"`
	Port uint16     `json:"port"`
	// FwdMethod is conn_flags & IP_VS_CONN_F_FWD_MASK.
	FwdMethod    uint32 `json:"fwd_method"`
	Weight       int32  `json:"weight"`
	UThresh      uint32 `json:"u_thresh"`
	LThresh      uint32 `json:"l_thresh"`
	TunType      uint8  `json:"tun_type"`
	TunPort      uint16 `json:"tun_port"`
	TunFlags     uint16 `json:"tun_flags"`
	ActiveConns  uint32 `json:"active_conns"`
	InactConns   uint32 `json:"inact_conns"`
	PersistConns uint32 `json:"persist_conns"`
	Stats        Stats  `json:"stats"`
}

// daemon is a running sync daemon's configuration (ipvs_sync_daemon_cfg).
type daemon struct {
	McastIfn   string     `json:"mcast_ifn"`
	SyncID     uint32     `json:"sync_id"`
	SyncMaxLen uint16     `json:"sync_maxlen"`
	McastGroup netip.Addr `json:"mcast_group"`
	McastPort  uint16     `json:"mcast_port"`
	McastTTL   uint8      `json:"mcast_ttl"`
}

func (st *state) findService(key serviceKey) *service {
	for _, svc := range st.Services {
		if svc.matches(key) {
			return svc
		}
	}
	return nil
}

func (st *state) removeService(svc *service) {
	st.Services = slices.DeleteFunc(st.Services, func(s *service) bool { return s == svc })
}

// syncRunning reports whether any sync daemon runs (ipvs->sync_state != 0).
func (st *state) syncRunning() bool { return st.Master != nil || st.Backup != nil }

// mixedFamilyDests counts destinations whose family differs from their
// service's (ipvs->mixed_address_family_dests).
func (st *state) mixedFamilyDests() int {
	n := 0
	for _, svc := range st.Services {
		for _, d := range svc.Dests {
			if d.AF != svc.AF {
				n++
			}
		}
	}
	return n
}

func (svc *service) findDest(af uint16, addr netip.Addr, port uint16) *dest {
	for _, d := range svc.Dests {
		if d.AF == af && d.Addr == addr && d.Port == port {
			return d
		}
	}
	return nil
}

func (svc *service) removeDest(d *dest) {
	svc.Dests = slices.DeleteFunc(svc.Dests, func(x *dest) bool { return x == d })
}

func (st *state) serviceByID(id ServiceID) (*service, error) {
	af := id.AF
	if af == 0 {
		af = familyOf(id.Addr)
	}
	key := serviceKey{AF: af, FWMark: id.FWMark}
	if id.FWMark != 0 {
		key.Protocol = unix.IPPROTO_TCP
		key.Addr = zeroAddr(af)
	} else {
		key.Protocol = id.Protocol
		key.Addr = helperAddr(af, id.Addr)
		key.Port = id.Port
	}
	svc := st.findService(key)
	if svc == nil {
		return nil, fmt.Errorf("service %+v: %w", id, ErrNotFound)
	}
	return svc, nil
}

func (st *state) destByID(svcID ServiceID, id DestID) (*dest, error) {
	svc, err := st.serviceByID(svcID)
	if err != nil {
		return nil, err
	}
	af := id.AF
	if af == 0 {
		af = familyOf(id.Addr)
	}
	d := svc.findDest(af, helperAddr(af, id.Addr), id.Port)
	if d == nil {
		return nil, fmt.Errorf("destination %+v of service %+v: %w", id, svcID, ErrNotFound)
	}
	return d, nil
}

func familyOf(a netip.Addr) uint16 {
	if a.Is6() && !a.Is4In6() {
		return uapi.AFInet6
	}
	return uapi.AFInet
}

// as16 returns a's bytes the way union nf_inet_addr holds them: an IPv4
// address in the first four bytes, the rest zero.
func as16(a netip.Addr) [16]byte {
	var b [16]byte
	switch {
	case a.Is4():
		v4 := a.As4()
		copy(b[:], v4[:])
	case a.Is6():
		b = a.As16()
	}
	return b
}

// addrOfFamily reads a union nf_inet_addr as the kernel does for af: only
// the first four bytes count for AF_INET. af must be AF_INET or AF_INET6.
func addrOfFamily(af uint16, b [16]byte) netip.Addr {
	if af == uapi.AFInet {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// helperAddr converts an address given to a test helper to the form the
// state keeps for af.
func helperAddr(af uint16, a netip.Addr) netip.Addr {
	if af == uapi.AFInet {
		a = a.Unmap()
	}
	return addrOfFamily(af, as16(a))
}

func zeroAddr(af uint16) netip.Addr { return addrOfFamily(af, [16]byte{}) }

func validFamily(af uint16) bool { return af == uapi.AFInet || af == uapi.AFInet6 }
