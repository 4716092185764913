package ipvstest_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

func TestDestReplyEncoding(t *testing.T) {
	k := ipvstest.New()
	c := newClient(t, k)
	svc := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, svc),
		nest(uapi.CmdAttrDest, destination("198.51.100.1", 8080, fwdMasq, 5).
			with(uapi.DestAttrUThresh, u32(100)).
			with(uapi.DestAttrLThresh, u32(10))))
	svcID := ipvstest.ServiceID{Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}
	destID := ipvstest.DestID{Addr: netip.MustParseAddr("198.51.100.1"), Port: 8080}
	if err := k.SetDestStats(svcID, destID, sampleStats()); err != nil {
		t.Fatal(err)
	}
	if err := k.SetConnCounts(svcID, destID, 1, 2, 3); err != nil {
		t.Fatal(err)
	}

	want := attrList{nest(uapi.CmdAttrDest, attrList{
		{Type: uapi.DestAttrAddr, Data: inetAddr("198.51.100.1")},
		{Type: uapi.DestAttrPort, Data: be16(8080)},
		{Type: uapi.DestAttrFwdMethod, Data: u32(fwdMasq)},
		{Type: uapi.DestAttrWeight, Data: u32(5)},
		{Type: uapi.DestAttrTunType, Data: u8(0)},
		{Type: uapi.DestAttrTunPort, Data: be16(0)},
		{Type: uapi.DestAttrTunFlags, Data: u16(0)},
		{Type: uapi.DestAttrUThresh, Data: u32(100)},
		{Type: uapi.DestAttrLThresh, Data: u32(10)},
		{Type: uapi.DestAttrActiveConns, Data: u32(1)},
		{Type: uapi.DestAttrInactConns, Data: u32(2)},
		{Type: uapi.DestAttrPersistConns, Data: u32(3)},
		{Type: uapi.DestAttrAddrFamily, Data: u16(unix.AF_INET)},
		// The STATS payload starts at message offset 144.
		wantStats32(uapi.DestAttrStats, true, true),
		wantStats64(uapi.DestAttrStats64, true),
	})}
	msgs := c.dump(uapi.CmdGetDest, nest(uapi.CmdAttrService, serviceID(svc)))
	if len(msgs) != 1 {
		t.Fatalf("GET_DEST: %d messages, want 1", len(msgs))
	}
	if msgs[0].Header.Command != uapi.CmdNewDest {
		t.Errorf("reply command %d, want NEW_DEST", msgs[0].Header.Command)
	}
	if diff := cmp.Diff(want, attrList(decodeTree(t, msgs[0].Data, want))); diff != "" {
		t.Errorf("reply attributes (-want +got):\n%s", diff)
	}
}

func TestDestLifecycle(t *testing.T) {
	c := newClient(t, ipvstest.New())
	svc := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	for _, addr := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, svc), nest(uapi.CmdAttrDest, destination(addr, 80, fwdRoute, 1)))
	}
	view := func(addr string, weight int32) destView {
		return destView{AF: unix.AF_INET, Addr: addr, Port: 80, FwdMethod: fwdRoute, Weight: weight}
	}
	want := []destView{view("198.51.100.3", 1), view("198.51.100.2", 1), view("198.51.100.1", 1)}
	if diff := cmp.Diff(want, c.dests(svc)); diff != "" {
		t.Errorf("newest first (-want +got):\n%s", diff)
	}

	// SET_DEST replaces every setting, tunnel ones included.
	c.mustSet(uapi.CmdSetDest, nest(uapi.CmdAttrService, svc), nest(uapi.CmdAttrDest,
		destination("198.51.100.2", 80, fwdTunnel, 7).
			with(uapi.DestAttrTunType, u8(1)).
			with(uapi.DestAttrTunPort, be16(6080)).
			with(uapi.DestAttrTunFlags, u16(1)).
			with(uapi.DestAttrUThresh, u32(9))))
	edited := destView{AF: unix.AF_INET, Addr: "198.51.100.2", Port: 80, FwdMethod: fwdTunnel, Weight: 7,
		TunType: 1, TunPort: 6080, TunFlags: 1, UThresh: 9}
	want[1] = edited
	if diff := cmp.Diff(want, c.dests(svc)); diff != "" {
		t.Errorf("after SET_DEST (-want +got):\n%s", diff)
	}
	c.mustSet(uapi.CmdSetDest, nest(uapi.CmdAttrService, svc), nest(uapi.CmdAttrDest,
		destination("198.51.100.2", 80, fwdRoute, 0).without(uapi.DestAttrTunType).without(uapi.DestAttrTunPort).without(uapi.DestAttrTunFlags)))
	want[1] = view("198.51.100.2", 0)
	if diff := cmp.Diff(want, c.dests(svc)); diff != "" {
		t.Errorf("after SET_DEST without tunnel attributes (-want +got):\n%s", diff)
	}

	// DEL_DEST needs only the address and port.
	c.mustSet(uapi.CmdDelDest, nest(uapi.CmdAttrService, serviceID(svc)), nest(uapi.CmdAttrDest, attrList{
		{Type: uapi.DestAttrAddr, Data: inetAddr("198.51.100.3")},
		{Type: uapi.DestAttrPort, Data: be16(80)},
	}))
	want = want[1:]
	if diff := cmp.Diff(want, c.dests(svc)); diff != "" {
		t.Errorf("after DEL_DEST (-want +got):\n%s", diff)
	}

	// Deleting the service deletes its destinations.
	c.mustSet(uapi.CmdDelService, nest(uapi.CmdAttrService, svc))
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	if got := c.dests(svc); len(got) != 0 {
		t.Errorf("destinations of a re-created service: %v", got)
	}
}

func TestDestErrors(t *testing.T) {
	v4 := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	v6 := service(unix.IPPROTO_TCP, "2001:db8::1", 80)
	existing := destination("198.51.100.1", 80, fwdMasq, 1)
	ok := destination("198.51.100.2", 80, fwdMasq, 1)
	tests := []struct {
		name string
		cmd  uint8
		svc  attrList
		dest *attrList // nil: no DEST attribute
		want unix.Errno
	}{
		{"new", uapi.CmdNewDest, v4, &ok, 0},
		{"new without ADDR_FAMILY", uapi.CmdNewDest, v4, ptr(ok.without(uapi.DestAttrAddrFamily)), 0},
		{"new without tunnel attributes", uapi.CmdNewDest, v4, ptr(ok.without(uapi.DestAttrTunType).without(uapi.DestAttrTunPort).without(uapi.DestAttrTunFlags)), 0},
		{"missing service beats missing DEST", uapi.CmdNewDest, service(unix.IPPROTO_UDP, "192.0.2.1", 80), nil, unix.ESRCH},
		{"bad service beats missing service", uapi.CmdNewDest, service(unix.IPPROTO_UDP, "192.0.2.1", 80).without(uapi.SvcAttrPort), &ok, unix.EINVAL},
		{"no DEST", uapi.CmdNewDest, v4, nil, unix.EINVAL},
		{"no ADDR", uapi.CmdNewDest, v4, ptr(ok.without(uapi.DestAttrAddr)), unix.EINVAL},
		{"no PORT", uapi.CmdNewDest, v4, ptr(ok.without(uapi.DestAttrPort)), unix.EINVAL},
		{"no FWD_METHOD", uapi.CmdNewDest, v4, ptr(ok.without(uapi.DestAttrFwdMethod)), unix.EINVAL},
		{"no WEIGHT", uapi.CmdNewDest, v4, ptr(ok.without(uapi.DestAttrWeight)), unix.EINVAL},
		{"no U_THRESH", uapi.CmdNewDest, v4, ptr(ok.without(uapi.DestAttrUThresh)), unix.EINVAL},
		{"no L_THRESH", uapi.CmdNewDest, v4, ptr(ok.without(uapi.DestAttrLThresh)), unix.EINVAL},
		{"TUN_TYPE of 2 bytes is read as u8", uapi.CmdNewDest, v4, ptr(ok.with(uapi.DestAttrTunType, []byte{0, 0})), 0},
		{"empty TUN_TYPE", uapi.CmdNewDest, v4, ptr(ok.with(uapi.DestAttrTunType, []byte{})), unix.EINVAL},
		{"negative weight", uapi.CmdNewDest, v4, ptr(ok.with(uapi.DestAttrWeight, u32(0xffffffff))), unix.ERANGE},
		{"lower threshold above upper", uapi.CmdNewDest, v4, ptr(ok.with(uapi.DestAttrUThresh, u32(5)).with(uapi.DestAttrLThresh, u32(10))), unix.ERANGE},
		{"lower threshold with no upper", uapi.CmdNewDest, v4, ptr(ok.with(uapi.DestAttrLThresh, u32(10))), unix.ERANGE},
		{"equal thresholds", uapi.CmdNewDest, v4, ptr(ok.with(uapi.DestAttrUThresh, u32(10)).with(uapi.DestAttrLThresh, u32(10))), 0},
		{"GUE without port", uapi.CmdNewDest, v4, ptr(ok.with(uapi.DestAttrFwdMethod, u32(fwdTunnel)).with(uapi.DestAttrTunType, u8(1))), unix.EINVAL},
		{"GUE with port", uapi.CmdNewDest, v4, ptr(ok.with(uapi.DestAttrFwdMethod, u32(fwdTunnel)).with(uapi.DestAttrTunType, u8(1)).with(uapi.DestAttrTunPort, be16(6080))), 0},
		{"exists", uapi.CmdNewDest, v4, &existing, unix.EEXIST},
		{"negative weight beats exists", uapi.CmdNewDest, v4, ptr(existing.with(uapi.DestAttrWeight, u32(0x80000000))), unix.ERANGE},
		{"same address other port", uapi.CmdNewDest, v4, ptr(existing.with(uapi.DestAttrPort, be16(81))), 0},
		{"0.0.0.0", uapi.CmdNewDest, v4, ptr(destination("0.0.0.0", 80, fwdMasq, 1)), unix.EINVAL},
		{"0.1.2.3", uapi.CmdNewDest, v4, ptr(destination("0.1.2.3", 80, fwdMasq, 1)), 0},
		{"class E", uapi.CmdNewDest, v4, ptr(destination("240.0.0.1", 80, fwdMasq, 1)), 0},
		{"multicast", uapi.CmdNewDest, v4, ptr(destination("224.0.0.1", 80, fwdMasq, 1)), unix.EINVAL},
		{"limited broadcast", uapi.CmdNewDest, v4, ptr(destination("255.255.255.255", 80, fwdMasq, 1)), unix.EINVAL},
		{"loopback", uapi.CmdNewDest, v4, ptr(destination("127.0.0.1", 80, fwdMasq, 1)), 0},
		{"bad address family", uapi.CmdNewDest, v4, ptr(ok.with(uapi.DestAttrAddrFamily, u16(7))), unix.EAFNOSUPPORT},
		{"IPv6 in IPv4 service by NAT", uapi.CmdNewDest, v4, ptr(destination("2001:db8::2", 80, fwdMasq, 1)), unix.EINVAL},
		{"IPv6 in IPv4 service by tunnel", uapi.CmdNewDest, v4, ptr(destination("2001:db8::2", 80, fwdTunnel, 1)), 0},
		{"IPv6 global", uapi.CmdNewDest, v6, ptr(destination("2001:db8::2", 80, fwdMasq, 1)), 0},
		{"IPv6 loopback", uapi.CmdNewDest, v6, ptr(destination("::1", 80, fwdMasq, 1)), 0},
		{"IPv6 unspecified", uapi.CmdNewDest, v6, ptr(destination("::", 80, fwdMasq, 1)), unix.EINVAL},
		{"IPv6 multicast", uapi.CmdNewDest, v6, ptr(destination("ff02::1", 80, fwdMasq, 1)), unix.EINVAL},
		{"IPv6 link-local", uapi.CmdNewDest, v6, ptr(destination("fe80::1", 80, fwdMasq, 1)), unix.EINVAL},
		{"IPv4-mapped", uapi.CmdNewDest, v6, ptr(destination("::ffff:198.51.100.1", 80, fwdMasq, 1)), unix.EINVAL},
		{"IPv4 in IPv6 service by tunnel", uapi.CmdNewDest, v6, ptr(destination("198.51.100.1", 80, fwdTunnel, 1)), 0},
		{"set", uapi.CmdSetDest, v4, ptr(existing.with(uapi.DestAttrWeight, u32(3))), 0},
		{"set missing destination", uapi.CmdSetDest, v4, &ok, unix.ENOENT},
		{"set negative weight beats missing destination", uapi.CmdSetDest, v4, ptr(ok.with(uapi.DestAttrWeight, u32(0xffffffff))), unix.ERANGE},
		{"set missing service", uapi.CmdSetDest, service(unix.IPPROTO_UDP, "192.0.2.1", 80), &existing, unix.ESRCH},
		{"set without WEIGHT", uapi.CmdSetDest, v4, ptr(existing.without(uapi.DestAttrWeight)), unix.EINVAL},
		{"set other family by NAT", uapi.CmdSetDest, v4, ptr(destination("2001:db8::2", 80, fwdMasq, 1)), unix.EINVAL},
		{"delete", uapi.CmdDelDest, v4, &existing, 0},
		{"delete missing destination", uapi.CmdDelDest, v4, &ok, unix.ENOENT},
		{"delete missing service", uapi.CmdDelDest, service(unix.IPPROTO_UDP, "192.0.2.1", 80), &existing, unix.ESRCH},
		{"delete other family is not a family error", uapi.CmdDelDest, v4, ptr(destination("2001:db8::2", 80, fwdMasq, 1)), unix.ENOENT},
		{"delete without PORT", uapi.CmdDelDest, v4, ptr(existing.without(uapi.DestAttrPort)), unix.EINVAL},
		{"delete bad address family", uapi.CmdDelDest, v4, ptr(existing.with(uapi.DestAttrAddrFamily, u16(7))), unix.EAFNOSUPPORT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, ipvstest.New())
			for _, s := range []attrList{v4, v6} {
				c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, s))
			}
			c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, v4), nest(uapi.CmdAttrDest, existing))
			before := append(c.dests(v4), c.dests(v6)...)

			attrs := []attr{nest(uapi.CmdAttrService, tt.svc)}
			if tt.dest != nil {
				attrs = append(attrs, nest(uapi.CmdAttrDest, *tt.dest))
			}
			err := c.set(tt.cmd, attrs...)
			if got := errnoOf(t, err); got != tt.want {
				t.Fatalf("command %d: got %v (%v), want %v", tt.cmd, got, err, tt.want)
			}
			after := append(c.dests(v4), c.dests(v6)...)
			if tt.want != 0 {
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("a failed request changed the destinations (-before +after):\n%s", diff)
				}
			} else if cmp.Equal(before, after) {
				t.Errorf("a successful request changed nothing")
			}
		})
	}
}

func ptr(l attrList) *attrList { return &l }

func TestGetDestDump(t *testing.T) {
	c := newClient(t, ipvstest.New())
	svc := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, svc), nest(uapi.CmdAttrDest, destination("198.51.100.1", 80, fwdMasq, 1)))

	tests := []struct {
		name  string
		attrs attrList
		want  int
	}{
		{"service", attrList{nest(uapi.CmdAttrService, serviceID(svc))}, 1},
		{"full service", attrList{nest(uapi.CmdAttrService, svc)}, 1},
		{"unknown service", attrList{nest(uapi.CmdAttrService, serviceID(service(unix.IPPROTO_TCP, "192.0.2.2", 80)))}, 0},
		{"no SERVICE", nil, 0},
		{"incomplete SERVICE", attrList{nest(uapi.CmdAttrService, serviceID(svc).without(uapi.SvcAttrAF))}, 0},
		{"bad family", attrList{nest(uapi.CmdAttrService, serviceID(svc).with(uapi.SvcAttrAF, u16(1)))}, 0},
		{"SERVICE too short", attrList{{Type: uapi.CmdAttrService, Data: []byte{0}}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := c.execute(uapi.CmdGetDest, netlinkDump, tt.attrs)
			if err != nil {
				t.Fatalf("GET_DEST: %v", err)
			}
			if len(msgs) != tt.want {
				t.Errorf("GET_DEST: %d messages, want %d", len(msgs), tt.want)
			}
		})
	}
}

func TestMixedFamilyAndSyncDaemon(t *testing.T) {
	c := newClient(t, ipvstest.New())
	svc := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	mixed := nest(uapi.CmdAttrDest, destination("2001:db8::2", 80, fwdTunnel, 1))
	c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, svc), mixed)

	master := nest(uapi.CmdAttrDaemon, daemonAttrs(1, "eth0", 1))
	if err := c.set(uapi.CmdNewDaemon, master); errnoOf(t, err) != unix.EINVAL {
		t.Errorf("NEW_DAEMON with a mixed-family pool: got %v, want EINVAL", err)
	}
	c.mustSet(uapi.CmdDelDest, nest(uapi.CmdAttrService, svc), mixed)
	c.mustSet(uapi.CmdNewDaemon, master)
	if err := c.set(uapi.CmdNewDest, nest(uapi.CmdAttrService, svc), mixed); errnoOf(t, err) != unix.EINVAL {
		t.Errorf("mixed-family NEW_DEST with a sync daemon: got %v, want EINVAL", err)
	}
	if err := c.set(uapi.CmdDelDest, nest(uapi.CmdAttrService, svc), mixed); errnoOf(t, err) != unix.ENOENT {
		t.Errorf("mixed-family DEL_DEST with a sync daemon: got %v, want ENOENT", err)
	}
}
