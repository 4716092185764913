package ipvstest_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

var pad = attr{Type: uapi.StatsPad, Data: []byte{}}

// sampleStats has a connection count beyond 32 bits, to show the
// truncation in STATS.
func sampleStats() ipvstest.Stats {
	return ipvstest.Stats{
		Conns: 1<<32 + 1, InPkts: 2, OutPkts: 3, InBytes: 4, OutBytes: 5,
		CPS: 6, InPPS: 7, OutPPS: 8, InBPS: 9, OutBPS: 10,
	}
}

// wantStats32 is ip_vs_genl_fill_stats of sampleStats; padInBytes and
// padOutBytes say where nla_put_u64_64bit must have put a PAD.
func wantStats32(typ uint16, padInBytes, padOutBytes bool) attr {
	var l attrList
	l = append(l,
		attr{Type: uapi.StatsConns, Data: u32(1)},
		attr{Type: uapi.StatsInPkts, Data: u32(2)},
		attr{Type: uapi.StatsOutPkts, Data: u32(3)})
	if padInBytes {
		l = append(l, pad)
	}
	l = append(l, attr{Type: uapi.StatsInBytes, Data: u64(4)})
	if padOutBytes {
		l = append(l, pad)
	}
	l = append(l,
		attr{Type: uapi.StatsOutBytes, Data: u64(5)},
		attr{Type: uapi.StatsCPS, Data: u32(6)},
		attr{Type: uapi.StatsInPPS, Data: u32(7)},
		attr{Type: uapi.StatsOutPPS, Data: u32(8)},
		attr{Type: uapi.StatsInBPS, Data: u32(9)},
		attr{Type: uapi.StatsOutBPS, Data: u32(10)})
	return nest(typ, l)
}

// wantStats64 is ip_vs_genl_fill_stats64 of sampleStats for a nest whose
// payload starts 4 bytes past an 8-byte boundary: no PAD before the first
// value, one before every other.
func wantStats64(typ uint16, padded bool) attr {
	values := []struct {
		typ uint16
		v   uint64
	}{
		{uapi.StatsConns, 1<<32 + 1}, {uapi.StatsInPkts, 2}, {uapi.StatsOutPkts, 3},
		{uapi.StatsInBytes, 4}, {uapi.StatsOutBytes, 5}, {uapi.StatsCPS, 6},
		{uapi.StatsInPPS, 7}, {uapi.StatsOutPPS, 8}, {uapi.StatsInBPS, 9}, {uapi.StatsOutBPS, 10},
	}
	var l attrList
	for i, v := range values {
		if padded && i > 0 {
			l = append(l, pad)
		}
		l = append(l, attr{Type: v.typ, Data: u64(v.v)})
	}
	return nest(typ, l)
}

func TestServiceReplyEncoding(t *testing.T) {
	tests := []struct {
		name    string
		svc     attrList
		id      ipvstest.ServiceID
		noPad64 bool
		want    attrList
	}{
		{
			name: "IPv4 TCP",
			svc:  service(unix.IPPROTO_TCP, "192.0.2.1", 80),
			id:   ipvstest.ServiceID{Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80},
			want: attrList{nest(uapi.CmdAttrService, attrList{
				{Type: uapi.SvcAttrAF, Data: u16(unix.AF_INET)},
				{Type: uapi.SvcAttrProtocol, Data: u16(unix.IPPROTO_TCP)},
				{Type: uapi.SvcAttrAddr, Data: inetAddr("192.0.2.1")},
				{Type: uapi.SvcAttrPort, Data: be16(80)},
				{Type: uapi.SvcAttrSchedName, Data: str("wlc")},
				{Type: uapi.SvcAttrFlags, Data: flagPair(0x2, ^uint32(0))},
				{Type: uapi.SvcAttrTimeout, Data: u32(0)},
				{Type: uapi.SvcAttrNetmask, Data: netmask4(32)},
				// The STATS payload starts at message offset 108.
				wantStats32(uapi.SvcAttrStats, false, true),
				wantStats64(uapi.SvcAttrStats64, true),
			})},
		},
		{
			name:    "IPv4 TCP without padding",
			svc:     service(unix.IPPROTO_TCP, "192.0.2.1", 80),
			id:      ipvstest.ServiceID{Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80},
			noPad64: true,
			want: attrList{nest(uapi.CmdAttrService, attrList{
				{Type: uapi.SvcAttrAF, Data: u16(unix.AF_INET)},
				{Type: uapi.SvcAttrProtocol, Data: u16(unix.IPPROTO_TCP)},
				{Type: uapi.SvcAttrAddr, Data: inetAddr("192.0.2.1")},
				{Type: uapi.SvcAttrPort, Data: be16(80)},
				{Type: uapi.SvcAttrSchedName, Data: str("wlc")},
				{Type: uapi.SvcAttrFlags, Data: flagPair(0x2, ^uint32(0))},
				{Type: uapi.SvcAttrTimeout, Data: u32(0)},
				{Type: uapi.SvcAttrNetmask, Data: netmask4(32)},
				wantStats32(uapi.SvcAttrStats, false, false),
				wantStats64(uapi.SvcAttrStats64, false),
			})},
		},
		{
			name: "IPv6 fwmark with persistence engine",
			svc: fwmarkService(unix.AF_INET6, 7).
				with(uapi.SvcAttrSchedName, str("rr")).
				with(uapi.SvcAttrPEName, str("sip")).
				with(uapi.SvcAttrFlags, flagPair(0x1, ^uint32(0))).
				with(uapi.SvcAttrTimeout, u32(300)).
				with(uapi.SvcAttrNetmask, u32(64)),
			id: ipvstest.ServiceID{AF: unix.AF_INET6, FWMark: 7},
			want: attrList{nest(uapi.CmdAttrService, attrList{
				{Type: uapi.SvcAttrAF, Data: u16(unix.AF_INET6)},
				{Type: uapi.SvcAttrFWMark, Data: u32(7)},
				{Type: uapi.SvcAttrSchedName, Data: str("rr")},
				{Type: uapi.SvcAttrPEName, Data: str("sip")},
				{Type: uapi.SvcAttrFlags, Data: flagPair(0x3, ^uint32(0))},
				{Type: uapi.SvcAttrTimeout, Data: u32(300)},
				{Type: uapi.SvcAttrNetmask, Data: u32(64)},
				// The STATS payload starts at message offset 88.
				wantStats32(uapi.SvcAttrStats, true, true),
				wantStats64(uapi.SvcAttrStats64, true),
			})},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := ipvstest.New()
			k.SetPad64(!tt.noPad64)
			c := newClient(t, k)
			c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, tt.svc))
			if err := k.SetServiceStats(tt.id, sampleStats()); err != nil {
				t.Fatal(err)
			}

			msgs := c.dump(uapi.CmdGetService)
			if len(msgs) != 1 {
				t.Fatalf("dump: got %d messages, want 1", len(msgs))
			}
			doit, err := c.get(uapi.CmdGetService, nest(uapi.CmdAttrService, serviceID(tt.svc)))
			if err != nil {
				t.Fatalf("GET_SERVICE: %v", err)
			}
			for name, m := range map[string]struct {
				cmd  uint8
				data []byte
			}{"dump": {msgs[0].Header.Command, msgs[0].Data}, "doit": {doit.Header.Command, doit.Data}} {
				if m.cmd != uapi.CmdNewService {
					t.Errorf("%s: reply command %d, want NEW_SERVICE", name, m.cmd)
				}
				if diff := cmp.Diff(tt.want, attrList(decodeTree(t, m.data, tt.want))); diff != "" {
					t.Errorf("%s: reply attributes (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func TestNewServiceErrors(t *testing.T) {
	v4 := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	v6 := service(unix.IPPROTO_TCP, "2001:db8::1", 80)
	tests := []struct {
		name  string
		attrs attrList // top-level attributes
		want  unix.Errno
	}{
		{"new IPv4", attrList{nest(uapi.CmdAttrService, service(unix.IPPROTO_UDP, "192.0.2.1", 80))}, 0},
		{"new IPv6", attrList{nest(uapi.CmdAttrService, v6)}, 0},
		{"new fwmark", attrList{nest(uapi.CmdAttrService, fwmarkService(unix.AF_INET, 1))}, 0},
		{"exists", attrList{nest(uapi.CmdAttrService, v4)}, unix.EEXIST},
		{"exists beats unknown scheduler", attrList{nest(uapi.CmdAttrService, v4.with(uapi.SvcAttrSchedName, str("nope")))}, unix.EEXIST},
		{"no SERVICE", nil, unix.EINVAL},
		{"empty SERVICE", attrList{nest(uapi.CmdAttrService, nil)}, unix.EINVAL},
		{"SERVICE shorter than an attribute header", attrList{{Type: uapi.CmdAttrService, Data: []byte{1, 2}}}, unix.ERANGE},
		{"no AF", attrList{nest(uapi.CmdAttrService, v6.without(uapi.SvcAttrAF))}, unix.EINVAL},
		{"no PORT", attrList{nest(uapi.CmdAttrService, v6.without(uapi.SvcAttrPort))}, unix.EINVAL},
		{"no PROTOCOL", attrList{nest(uapi.CmdAttrService, v6.without(uapi.SvcAttrProtocol))}, unix.EINVAL},
		{"no ADDR", attrList{nest(uapi.CmdAttrService, v6.without(uapi.SvcAttrAddr))}, unix.EINVAL},
		{"no SCHED_NAME", attrList{nest(uapi.CmdAttrService, v6.without(uapi.SvcAttrSchedName))}, unix.EINVAL},
		{"no FLAGS", attrList{nest(uapi.CmdAttrService, v6.without(uapi.SvcAttrFlags))}, unix.EINVAL},
		{"no TIMEOUT", attrList{nest(uapi.CmdAttrService, v6.without(uapi.SvcAttrTimeout))}, unix.EINVAL},
		{"no NETMASK", attrList{nest(uapi.CmdAttrService, v6.without(uapi.SvcAttrNetmask))}, unix.EINVAL},
		{"bad family", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrAF, u16(7)))}, unix.EAFNOSUPPORT},
		{"bad family beats missing scheduler", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrAF, u16(7)).without(uapi.SvcAttrSchedName))}, unix.EAFNOSUPPORT},
		{"unknown scheduler", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrSchedName, str("nope")))}, unix.ENOENT},
		{"empty scheduler", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrSchedName, str("")))}, unix.ENOENT},
		{"no scheduler", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrSchedName, str("none")))}, 0},
		{"scheduler name 16 characters", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrSchedName, str("abcdefghijklmnop")))}, unix.EINVAL},
		{"scheduler name without NUL", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrSchedName, []byte("wlc")))}, unix.EINVAL},
		{"persistence engine sip", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrPEName, str("sip")))}, 0},
		{"empty persistence engine", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrPEName, str("")))}, 0},
		{"unknown persistence engine", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrPEName, str("nope")))}, unix.ENOENT},
		{"unknown scheduler beats unknown persistence engine", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrSchedName, str("x")).with(uapi.SvcAttrPEName, str("y")))}, unix.ENOENT},
		{"IPv6 prefix 0", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrNetmask, u32(0)))}, unix.EINVAL},
		{"IPv6 prefix 129", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrNetmask, u32(129)))}, unix.EINVAL},
		{"IPv4 netmask is not checked", attrList{nest(uapi.CmdAttrService, service(unix.IPPROTO_UDP, "192.0.2.9", 1).with(uapi.SvcAttrNetmask, u32(0x12345678)))}, 0},
		{"ADDR of 17 bytes", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrAddr, make([]byte, 17)))}, unix.EINVAL},
		{"short ADDR is zero-filled", attrList{nest(uapi.CmdAttrService, service(unix.IPPROTO_UDP, "192.0.2.9", 2).with(uapi.SvcAttrAddr, []byte{192, 0, 2, 9}))}, 0},
		{"PORT of 1 byte", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrPort, []byte{80}))}, unix.EINVAL},
		{"long AF is read as u16", attrList{nest(uapi.CmdAttrService, v6.with(uapi.SvcAttrAF, u32(unix.AF_INET6)))}, 0},
		{"any protocol", attrList{nest(uapi.CmdAttrService, service(99, "192.0.2.1", 80))}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := ipvstest.New()
			c := newClient(t, k)
			c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, v4))

			err := c.set(uapi.CmdNewService, tt.attrs...)
			if got := errnoOf(t, err); got != tt.want {
				t.Fatalf("NEW_SERVICE: got errno %v (%v), want %v", got, err, tt.want)
			}
			wantServices := 2
			if tt.want != 0 {
				wantServices = 1
			}
			if got := len(c.services()); got != wantServices {
				t.Errorf("got %d services, want %d", got, wantServices)
			}
		})
	}
}

func TestServiceLifecycle(t *testing.T) {
	k := ipvstest.New()
	c := newClient(t, k)
	svc := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	id := nest(uapi.CmdAttrService, serviceID(svc))

	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	base := serviceView{
		AF: unix.AF_INET, Protocol: unix.IPPROTO_TCP, Addr: "192.0.2.1", Port: 80,
		Sched: "wlc", Flags: 0x2, Mask: ^uint32(0), Netmask: netmask4(32),
	}
	got, err := c.get(uapi.CmdGetService, id)
	if err != nil {
		t.Fatalf("GET_SERVICE: %v", err)
	}
	if diff := cmp.Diff(base, decodeService(t, got)); diff != "" {
		t.Errorf("after NEW_SERVICE (-want +got):\n%s", diff)
	}

	edited := svc.with(uapi.SvcAttrSchedName, str("sh")).
		with(uapi.SvcAttrPEName, str("sip")).
		with(uapi.SvcAttrFlags, flagPair(0x1|0x8, ^uint32(0))).
		with(uapi.SvcAttrTimeout, u32(360)).
		with(uapi.SvcAttrNetmask, netmask4(24))
	c.mustSet(uapi.CmdSetService, nest(uapi.CmdAttrService, edited))
	want := base
	want.Sched, want.PE, want.Flags, want.Timeout, want.Netmask = "sh", "sip", 0x1|0x2|0x8, 360, netmask4(24)
	if diff := cmp.Diff([]serviceView{want}, c.services()); diff != "" {
		t.Errorf("after SET_SERVICE (-want +got):\n%s", diff)
	}

	// Editing without PE_NAME drops the persistence engine.
	c.mustSet(uapi.CmdSetService, nest(uapi.CmdAttrService, edited.without(uapi.SvcAttrPEName)))
	want.PE = ""
	if diff := cmp.Diff([]serviceView{want}, c.services()); diff != "" {
		t.Errorf("after SET_SERVICE without PE_NAME (-want +got):\n%s", diff)
	}

	c.mustSet(uapi.CmdDelService, id)
	if got := c.services(); len(got) != 0 {
		t.Errorf("after DEL_SERVICE: %v", got)
	}
	for _, cmd := range []uint8{uapi.CmdSetService, uapi.CmdDelService, uapi.CmdZero} {
		if err := c.set(cmd, nest(uapi.CmdAttrService, svc)); errnoOf(t, err) != unix.ESRCH {
			t.Errorf("command %d on a deleted service: got %v, want ESRCH", cmd, err)
		}
	}
	if _, err := c.get(uapi.CmdGetService, id); errnoOf(t, err) != unix.ESRCH {
		t.Errorf("GET_SERVICE of a deleted service: got %v, want ESRCH", err)
	}
}

func TestSetServiceErrors(t *testing.T) {
	v6 := service(unix.IPPROTO_TCP, "2001:db8::1", 80)
	tests := []struct {
		name string
		svc  attrList
		want unix.Errno
	}{
		{"ok", v6.with(uapi.SvcAttrSchedName, str("rr")), 0},
		{"missing service", service(unix.IPPROTO_UDP, "2001:db8::1", 80), unix.ESRCH},
		{"missing service and no scheduler", service(unix.IPPROTO_UDP, "2001:db8::1", 80).without(uapi.SvcAttrSchedName), unix.EINVAL},
		{"unknown scheduler", v6.with(uapi.SvcAttrSchedName, str("nope")), unix.ENOENT},
		{"unknown persistence engine", v6.with(uapi.SvcAttrPEName, str("nope")), unix.ENOENT},
		{"IPv6 prefix 200", v6.with(uapi.SvcAttrNetmask, u32(200)), unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, ipvstest.New())
			c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, v6))
			err := c.set(uapi.CmdSetService, nest(uapi.CmdAttrService, tt.svc))
			if got := errnoOf(t, err); got != tt.want {
				t.Fatalf("SET_SERVICE: got %v (%v), want %v", got, err, tt.want)
			}
			wantSched := "wlc"
			if tt.want == 0 {
				wantSched = "rr"
			}
			if got := c.services()[0].Sched; got != wantSched {
				t.Errorf("scheduler %q, want %q", got, wantSched)
			}
		})
	}
}

func TestServiceFlagsMask(t *testing.T) {
	const (
		persistent = 0x1
		hashed     = 0x2
		onePacket  = 0x4
	)
	svc := service(unix.IPPROTO_UDP, "192.0.2.1", 53)
	steps := []struct {
		name  string
		flags []byte
		want  uint32
	}{
		{"new: only masked bits count", flagPair(persistent|onePacket, persistent), persistent | hashed},
		{"set one bit", flagPair(onePacket, onePacket), persistent | hashed | onePacket},
		{"clear one bit", flagPair(0, persistent), hashed | onePacket},
		{"flags without mask change nothing", u32(persistent), hashed | onePacket},
		{"HASHED cannot be cleared", flagPair(0, ^uint32(0)), hashed},
	}
	c := newClient(t, ipvstest.New())
	for i, step := range steps {
		cmd := uint8(uapi.CmdSetService)
		if i == 0 {
			cmd = uapi.CmdNewService
		}
		c.mustSet(cmd, nest(uapi.CmdAttrService, svc.with(uapi.SvcAttrFlags, step.flags)))
		got := c.services()[0]
		if got.Flags != step.want || got.Mask != ^uint32(0) {
			t.Errorf("%s: flags %#x mask %#x, want %#x mask 0xffffffff", step.name, got.Flags, got.Mask, step.want)
		}
	}
}

func TestGetServiceErrors(t *testing.T) {
	tests := []struct {
		name  string
		attrs attrList
		want  unix.Errno
	}{
		{"found", attrList{nest(uapi.CmdAttrService, serviceID(service(unix.IPPROTO_TCP, "192.0.2.1", 80)))}, 0},
		{"no SERVICE", nil, unix.EINVAL},
		{"no AF", attrList{nest(uapi.CmdAttrService, serviceID(service(unix.IPPROTO_TCP, "192.0.2.1", 80)).without(uapi.SvcAttrAF))}, unix.EINVAL},
		{"bad family", attrList{nest(uapi.CmdAttrService, serviceID(service(unix.IPPROTO_TCP, "192.0.2.1", 80)).with(uapi.SvcAttrAF, u16(3)))}, unix.EAFNOSUPPORT},
		{"other port", attrList{nest(uapi.CmdAttrService, serviceID(service(unix.IPPROTO_TCP, "192.0.2.1", 81)))}, unix.ESRCH},
		{"other protocol", attrList{nest(uapi.CmdAttrService, serviceID(service(unix.IPPROTO_UDP, "192.0.2.1", 80)))}, unix.ESRCH},
		{"IPv4 address with garbage after it", attrList{nest(uapi.CmdAttrService, serviceID(service(unix.IPPROTO_TCP, "192.0.2.1", 80)).with(uapi.SvcAttrAddr, append([]byte{192, 0, 2, 1}, bytes.Repeat([]byte{0xaa}, 12)...)))}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, ipvstest.New())
			c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, service(unix.IPPROTO_TCP, "192.0.2.1", 80)))
			_, err := c.get(uapi.CmdGetService, tt.attrs...)
			if got := errnoOf(t, err); got != tt.want {
				t.Errorf("GET_SERVICE: got %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func TestServiceDumpOrder(t *testing.T) {
	c := newClient(t, ipvstest.New())
	if got := c.dump(uapi.CmdGetService); len(got) != 0 {
		t.Fatalf("empty dump: %d messages", len(got))
	}
	for _, svc := range []attrList{
		service(unix.IPPROTO_TCP, "192.0.2.1", 80),
		fwmarkService(unix.AF_INET, 1),
		service(unix.IPPROTO_UDP, "2001:db8::1", 53),
		fwmarkService(unix.AF_INET6, 1),
	} {
		c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	}
	type id struct {
		AF     uint16
		Addr   string
		FWMark uint32
	}
	var got []id
	for _, s := range c.services() {
		got = append(got, id{s.AF, s.Addr, s.FWMark})
	}
	want := []id{
		{unix.AF_INET6, "2001:db8::1", 0},
		{unix.AF_INET, "192.0.2.1", 0},
		{unix.AF_INET6, "", 1},
		{unix.AF_INET, "", 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dump order (-want +got):\n%s", diff)
	}
}

// A FWMARK attribute of 0 names the TCP service at the zero address and
// port 0, as in the kernel.
func TestFWMarkZeroIsATCPService(t *testing.T) {
	c := newClient(t, ipvstest.New())
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, fwmarkService(unix.AF_INET, 0)))
	want := []serviceView{{
		AF: unix.AF_INET, Protocol: unix.IPPROTO_TCP, Addr: "0.0.0.0", Port: 0,
		Sched: "wlc", Flags: 0x2, Mask: ^uint32(0), Netmask: netmask4(32),
	}}
	if diff := cmp.Diff(want, c.services()); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	err := c.set(uapi.CmdNewService, nest(uapi.CmdAttrService, service(unix.IPPROTO_TCP, "0.0.0.0", 0)))
	if errnoOf(t, err) != unix.EEXIST {
		t.Errorf("NEW_SERVICE TCP 0.0.0.0:0: got %v, want EEXIST", err)
	}
}

// The kernel keeps the persistence timeout as u32 jiffies (HZ 250).
func TestPersistenceTimeoutWraps(t *testing.T) {
	tests := []struct{ set, want uint32 }{
		{360, 360},
		{17179869, 17179869},
		{17179870, 0}, // 17179870*250 = 2^32 + 204
		{17179871, 1},
	}
	for _, tt := range tests {
		c := newClient(t, ipvstest.New())
		svc := service(unix.IPPROTO_TCP, "192.0.2.1", 80).with(uapi.SvcAttrTimeout, u32(tt.set))
		c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
		if got := c.services()[0].Timeout; got != tt.want {
			t.Errorf("timeout %d: reported %d, want %d", tt.set, got, tt.want)
		}
	}
}
