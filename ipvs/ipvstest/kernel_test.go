package ipvstest_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

const netlinkDump = netlink.Request | netlink.Dump

func TestFamily(t *testing.T) {
	conn := ipvstest.New().Conn()
	defer conn.Close()
	f, err := conn.GetFamily("IPVS")
	if err != nil {
		t.Fatalf("GetFamily: %v", err)
	}
	want := genetlink.Family{ID: ipvstest.FamilyID, Name: "IPVS", Version: 1}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("family (-want +got):\n%s", diff)
	}
}

func TestInfoAndConfig(t *testing.T) {
	c := newClient(t, ipvstest.New())
	tests := []struct {
		cmd, replyCmd uint8
		want          attrList
	}{
		{uapi.CmdGetInfo, uapi.CmdSetInfo, attrList{
			{Type: uapi.InfoAttrVersion, Data: u32(0x010201)},
			{Type: uapi.InfoAttrConnTabSize, Data: u32(4096)},
		}},
		{uapi.CmdGetConfig, uapi.CmdSetConfig, attrList{
			{Type: uapi.CmdAttrTimeoutTCP, Data: u32(900)},
			{Type: uapi.CmdAttrTimeoutTCPFin, Data: u32(120)},
			{Type: uapi.CmdAttrTimeoutUDP, Data: u32(300)},
		}},
	}
	for _, tt := range tests {
		m, err := c.get(tt.cmd)
		if err != nil {
			t.Fatalf("command %d: %v", tt.cmd, err)
		}
		if m.Header.Command != tt.replyCmd || m.Header.Version != 1 {
			t.Errorf("command %d: reply header %+v, want command %d version 1", tt.cmd, m.Header, tt.replyCmd)
		}
		if diff := cmp.Diff(tt.want, attrList(decodeTree(t, m.Data, nil))); diff != "" {
			t.Errorf("command %d: reply (-want +got):\n%s", tt.cmd, diff)
		}
	}
}

func TestSetConfig(t *testing.T) {
	type timeouts struct{ TCP, TCPFin, UDP uint32 }
	all := func(tcp, fin, udp uint32) attrList {
		return attrList{
			{Type: uapi.CmdAttrTimeoutTCP, Data: u32(tcp)},
			{Type: uapi.CmdAttrTimeoutTCPFin, Data: u32(fin)},
			{Type: uapi.CmdAttrTimeoutUDP, Data: u32(udp)},
		}
	}
	defaults := timeouts{900, 120, 300}
	tests := []struct {
		name  string
		attrs attrList
		want  unix.Errno
		after timeouts
	}{
		{"all three", all(1000, 60, 200), 0, timeouts{1000, 60, 200}},
		{"zero keeps", all(0, 0, 0), 0, defaults},
		{"absent keeps", attrList{{Type: uapi.CmdAttrTimeoutUDP, Data: u32(10)}}, 0, timeouts{900, 120, 10}},
		{"largest", all(8589934, 8589934, 8589934), 0, timeouts{8589934, 8589934, 8589934}},
		{"too large", all(8589935, 1, 1), unix.EINVAL, defaults},
		{"negative as an int", all(1, 1, 0xffffffff), unix.EINVAL, defaults},
		{"short attribute", attrList{{Type: uapi.CmdAttrTimeoutTCP, Data: u16(1)}}, unix.ERANGE, defaults},
		{"long attribute is read as u32", attrList{{Type: uapi.CmdAttrTimeoutTCP, Data: append(u32(100), 0xaa, 0xaa, 0xaa, 0xaa)}}, 0, timeouts{100, 120, 300}},
		{"unknown attributes are ignored", attrList{{Type: 99, Data: []byte{1}}}, 0, defaults},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, ipvstest.New())
			err := c.set(uapi.CmdSetConfig, tt.attrs...)
			if got := errnoOf(t, err); got != tt.want {
				t.Fatalf("SET_CONFIG: got %v (%v), want %v", got, err, tt.want)
			}
			m, err := c.get(uapi.CmdGetConfig)
			if err != nil {
				t.Fatal(err)
			}
			a := attrMap(t, m.Data)
			got := timeouts{
				TCP:    nativeU32(a[uapi.CmdAttrTimeoutTCP]),
				TCPFin: nativeU32(a[uapi.CmdAttrTimeoutTCPFin]),
				UDP:    nativeU32(a[uapi.CmdAttrTimeoutUDP]),
			}
			if diff := cmp.Diff(tt.after, got); diff != "" {
				t.Errorf("timeouts (-want +got):\n%s", diff)
			}
		})
	}
}

func nativeU32(b []byte) uint32 {
	if len(b) != 4 {
		return 0xdeadbeef
	}
	return binary.NativeEndian.Uint32(b)
}

func TestZero(t *testing.T) {
	k := ipvstest.New()
	c := newClient(t, k)
	addrs := []string{"192.0.2.1", "192.0.2.2"}
	var svcs []attrList
	for _, addr := range addrs {
		svcs = append(svcs, service(unix.IPPROTO_TCP, addr, 80))
	}
	reset := func() {
		for _, addr := range addrs {
			id := ipvstest.ServiceID{Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr(addr), Port: 80}
			if err := k.SetServiceStats(id, sampleStats()); err != nil {
				t.Fatal(err)
			}
			if err := k.SetDestStats(id, ipvstest.DestID{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80}, sampleStats()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, svc := range svcs {
		c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
		c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, svc), nest(uapi.CmdAttrDest, destination("198.51.100.1", 80, fwdRoute, 1)))
	}
	// zeroed reports which services, and their destinations, read zero.
	zeroed := func() []bool {
		var out []bool
		for i, svc := range svcs {
			var s ipvstest.Stats
			for _, v := range c.services() {
				if v.Addr == addrs[i] {
					s = v.Stats64
				}
			}
			d := c.dests(svc)[0].Stats64
			if (s == ipvstest.Stats{}) != (d == ipvstest.Stats{}) {
				t.Fatalf("service and destination counters disagree: %+v, %+v", s, d)
			}
			out = append(out, s == ipvstest.Stats{})
		}
		return out
	}

	tests := []struct {
		name  string
		attrs []attr
		want  unix.Errno
		after []bool
	}{
		{"one service", []attr{nest(uapi.CmdAttrService, serviceID(svcs[1]))}, 0, []bool{false, true}},
		{"all", nil, 0, []bool{true, true}},
		{"missing service", []attr{nest(uapi.CmdAttrService, serviceID(service(unix.IPPROTO_UDP, "192.0.2.1", 80)))}, unix.ESRCH, []bool{false, false}},
		{"empty SERVICE", []attr{nest(uapi.CmdAttrService, nil)}, unix.EINVAL, []bool{false, false}},
	}
	for _, tt := range tests {
		reset()
		if diff := cmp.Diff([]bool{false, false}, zeroed()); diff != "" {
			t.Fatalf("%s: counters before ZERO (-want +got):\n%s", tt.name, diff)
		}
		err := c.set(uapi.CmdZero, tt.attrs...)
		if got := errnoOf(t, err); got != tt.want {
			t.Errorf("%s: ZERO got %v (%v), want %v", tt.name, got, err, tt.want)
		}
		if diff := cmp.Diff(tt.after, zeroed()); diff != "" {
			t.Errorf("%s: zeroed (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestFlush(t *testing.T) {
	c := newClient(t, ipvstest.New())
	for _, svc := range []attrList{service(unix.IPPROTO_TCP, "192.0.2.1", 80), fwmarkService(unix.AF_INET6, 3)} {
		c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	}
	c.mustSet(uapi.CmdNewDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(master, "eth0", 1)))
	c.mustSet(uapi.CmdFlush)
	if got := c.services(); len(got) != 0 {
		t.Errorf("services after FLUSH: %v", got)
	}
	if got := c.daemons(); len(got) != 1 {
		t.Errorf("FLUSH must leave daemons alone; got %v", got)
	}
	c.mustSet(uapi.CmdFlush)
}

func TestUnsupportedOperations(t *testing.T) {
	tests := []struct {
		name  string
		cmd   uint8
		flags netlink.HeaderFlags
	}{
		{"command 0", 0, netlink.Request | netlink.Acknowledge},
		{"SET_INFO", uapi.CmdSetInfo, netlink.Request | netlink.Acknowledge},
		{"command 18", 18, netlink.Request | netlink.Acknowledge},
		{"command 99 dump", 99, netlinkDump},
		{"GET_DEST without dump", uapi.CmdGetDest, netlink.Request},
		{"GET_DAEMON without dump", uapi.CmdGetDaemon, netlink.Request},
		{"GET_INFO dump", uapi.CmdGetInfo, netlinkDump},
		{"NEW_SERVICE dump", uapi.CmdNewService, netlinkDump},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, ipvstest.New())
			_, err := c.execute(tt.cmd, tt.flags, nil)
			if got := errnoOf(t, err); got != unix.EOPNOTSUPP {
				t.Errorf("got %v (%v), want EOPNOTSUPP", got, err)
			}
		})
	}
}

func TestErrorsAreOpErrors(t *testing.T) {
	c := newClient(t, ipvstest.New())
	_, err := c.get(uapi.CmdGetService, nest(uapi.CmdAttrService, serviceID(service(unix.IPPROTO_TCP, "192.0.2.1", 80))))
	var opErr *netlink.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("got %T %v, want *netlink.OpError", err, err)
	}
	if !errors.Is(err, unix.ESRCH) {
		t.Errorf("got %v, want ESRCH", err)
	}
}

func TestUnknownFamily(t *testing.T) {
	c := newClient(t, ipvstest.New())
	c.family = ipvstest.FamilyID + 1
	_, err := c.execute(uapi.CmdGetInfo, netlink.Request, nil)
	if got := errnoOf(t, err); got != unix.ENOENT {
		t.Errorf("got %v (%v), want ENOENT", got, err)
	}
}

func TestFailNext(t *testing.T) {
	k := ipvstest.New()
	c := newClient(t, k)
	svc := nest(uapi.CmdAttrService, service(unix.IPPROTO_TCP, "192.0.2.1", 80))
	k.FailNext(uapi.CmdNewService, unix.ENOMEM)
	k.FailNext(uapi.CmdGetService, unix.EPERM)

	if _, err := c.get(uapi.CmdGetInfo); err != nil {
		t.Errorf("GET_INFO must not be affected: %v", err)
	}
	if err := c.set(uapi.CmdNewService, svc); errnoOf(t, err) != unix.ENOMEM {
		t.Errorf("first NEW_SERVICE: got %v, want ENOMEM", err)
	}
	if _, err := c.execute(uapi.CmdGetService, netlinkDump, nil); errnoOf(t, err) != unix.EPERM {
		t.Errorf("first GET_SERVICE: got %v, want EPERM", err)
	}
	if got := c.services(); len(got) != 0 {
		t.Errorf("a failed NEW_SERVICE created %v", got)
	}
	c.mustSet(uapi.CmdNewService, svc)
	if got := c.services(); len(got) != 1 {
		t.Errorf("second NEW_SERVICE: services %v", got)
	}
}

func TestAcknowledgement(t *testing.T) {
	c := newClient(t, ipvstest.New())
	svc := service(unix.IPPROTO_TCP, "192.0.2.1", 80)

	msgs, err := c.execute(uapi.CmdNewService, netlink.Request|netlink.Acknowledge, attrList{nest(uapi.CmdAttrService, svc)})
	if err != nil || len(msgs) != 1 {
		t.Errorf("with Acknowledge: %d messages, error %v; want one ACK", len(msgs), err)
	}
	msgs, err = c.execute(uapi.CmdDelService, netlink.Request, attrList{nest(uapi.CmdAttrService, svc)})
	if err != nil || len(msgs) != 0 {
		t.Errorf("without Acknowledge: %d messages, error %v; want none", len(msgs), err)
	}
	if got := c.services(); len(got) != 0 {
		t.Errorf("DEL_SERVICE without Acknowledge did not delete: %v", got)
	}
}

func TestReceiveWithoutRequest(t *testing.T) {
	conn := ipvstest.New().Conn()
	defer conn.Close()
	msgs, _, err := conn.Receive()
	if err != nil || len(msgs) != 0 {
		t.Errorf("Receive: %d messages, error %v; want none", len(msgs), err)
	}
}

func TestConnsShareKernel(t *testing.T) {
	k := ipvstest.New()
	a, b := newClient(t, k), newClient(t, k)
	a.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, service(unix.IPPROTO_TCP, "192.0.2.1", 80)))
	if got := b.services(); len(got) != 1 {
		t.Errorf("second Conn sees %d services, want 1", len(got))
	}
}

func TestHelpersReportMissing(t *testing.T) {
	k := ipvstest.New()
	c := newClient(t, k)
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, fwmarkService(unix.AF_INET, 1)))
	svc := ipvstest.ServiceID{FWMark: 1}
	if err := k.SetServiceStats(svc, sampleStats()); err != nil {
		t.Errorf("SetServiceStats of an existing fwmark service: %v", err)
	}
	if err := k.SetServiceStats(ipvstest.ServiceID{FWMark: 2}, sampleStats()); !errors.Is(err, ipvstest.ErrNotFound) {
		t.Errorf("SetServiceStats of a missing service: %v", err)
	}
	dest := ipvstest.DestID{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80}
	if err := k.SetDestStats(svc, dest, sampleStats()); !errors.Is(err, ipvstest.ErrNotFound) {
		t.Errorf("SetDestStats of a missing destination: %v", err)
	}
	if err := k.SetConnCounts(ipvstest.ServiceID{FWMark: 2}, dest, 1, 1, 1); !errors.Is(err, ipvstest.ErrNotFound) {
		t.Errorf("SetConnCounts of a missing service: %v", err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	v4 := service(unix.IPPROTO_TCP, "192.0.2.1", 80).with(uapi.SvcAttrPEName, str("sip")).with(uapi.SvcAttrTimeout, u32(300))
	v6 := service(unix.IPPROTO_UDP, "2001:db8::1", 53).with(uapi.SvcAttrNetmask, u32(64))
	fwm := fwmarkService(unix.AF_INET, 9)
	svcID := ipvstest.ServiceID{Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}
	addServices := func(t *testing.T, k *ipvstest.Kernel, c *client) {
		for _, svc := range []attrList{v4, v6, fwm} {
			c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
		}
		c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, v4), nest(uapi.CmdAttrDest, destination("198.51.100.1", 80, fwdMasq, 3)))
		c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, v4), nest(uapi.CmdAttrDest, destination("198.51.100.2", 80, fwdMasq, 3)))
		c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, v6), nest(uapi.CmdAttrDest, destination("2001:db8::7", 53, fwdRoute, 1)))
		if err := k.SetServiceStats(svcID, sampleStats()); err != nil {
			t.Fatal(err)
		}
		if err := k.SetConnCounts(svcID, ipvstest.DestID{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80}, 4, 5, 6); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, k *ipvstest.Kernel, c *client)
		// check runs on the restored kernel.
		check func(t *testing.T, c *client)
	}{
		{
			name:  "services, destinations, counters",
			setup: addServices,
		},
		{
			name: "mixed-family destination",
			setup: func(t *testing.T, k *ipvstest.Kernel, c *client) {
				addServices(t, k, c)
				c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, fwm), nest(uapi.CmdAttrDest, destination("2001:db8::9", 0, fwdTunnel, 1)))
			},
			check: func(t *testing.T, c *client) {
				// The restored kernel still knows the pool is mixed.
				if err := c.set(uapi.CmdNewDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(master, "eth0", 1))); errnoOf(t, err) != unix.EINVAL {
					t.Errorf("NEW_DAEMON: got %v, want EINVAL", err)
				}
			},
		},
		{
			name: "daemons, timeouts, interfaces",
			setup: func(t *testing.T, k *ipvstest.Kernel, c *client) {
				k.AddInterfaceMTU("bond0", 9000)
				c.mustSet(uapi.CmdNewDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(backup, "bond0", 4)))
				c.mustSet(uapi.CmdNewDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(master, "eth0", 4).
					with(uapi.DaemonAttrMcastGroup6, inetAddr("ff02::81"))))
				c.mustSet(uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutUDP, Data: u32(77)})
			},
			check: func(t *testing.T, c *client) {
				c.mustSet(uapi.CmdDelDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(master, "", 0)))
				c.mustSet(uapi.CmdNewDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(master, "bond0", 4)))
			},
		},
	}
	// everything is all a kernel says over netlink.
	everything := func(t *testing.T, c *client) [][]genetlink.Message {
		out := [][]genetlink.Message{c.dump(uapi.CmdGetService), c.dump(uapi.CmdGetDaemon)}
		for _, svc := range []attrList{v4, v6, fwm} {
			out = append(out, c.dump(uapi.CmdGetDest, nest(uapi.CmdAttrService, serviceID(svc))))
		}
		m, err := c.get(uapi.CmdGetConfig)
		if err != nil {
			t.Fatal(err)
		}
		return append(out, []genetlink.Message{m})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := ipvstest.New()
			c := newClient(t, k)
			tt.setup(t, k, c)

			snapshot, err := json.Marshal(k)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			restored := ipvstest.New()
			if err := json.Unmarshal(snapshot, restored); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			again, err := json.Marshal(restored)
			if err != nil {
				t.Fatalf("marshal restored: %v", err)
			}
			if diff := cmp.Diff(string(snapshot), string(again)); diff != "" {
				t.Errorf("snapshot of the restored kernel differs (-first +second):\n%s", diff)
			}

			r := newClient(t, restored)
			if diff := cmp.Diff(everything(t, c), everything(t, r)); diff != "" {
				t.Errorf("restored kernel answers differently (-original +restored):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	for _, in := range []string{`{"services":[null]}`, `{"services":[{"dests":[null]}]}`, `{"services":`, `[]`} {
		if err := json.Unmarshal([]byte(in), ipvstest.New()); err == nil {
			t.Errorf("%s: loaded without error", in)
		}
	}
}

func TestJSONDefaults(t *testing.T) {
	k := ipvstest.New()
	if err := json.Unmarshal([]byte(`{}`), k); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, k)
	m, err := c.get(uapi.CmdGetConfig)
	if err != nil {
		t.Fatal(err)
	}
	want := attrList{
		{Type: uapi.CmdAttrTimeoutTCP, Data: u32(900)},
		{Type: uapi.CmdAttrTimeoutTCPFin, Data: u32(120)},
		{Type: uapi.CmdAttrTimeoutUDP, Data: u32(300)},
	}
	if diff := cmp.Diff(want, attrList(decodeTree(t, m.Data, nil))); diff != "" {
		t.Errorf("timeouts (-want +got):\n%s", diff)
	}
	c.mustSet(uapi.CmdNewDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(master, "eth0", 1)))
}

// Handle keeps working when a test wraps it in genltest itself.
func TestHandleUnderGenltest(t *testing.T) {
	k := ipvstest.New()
	var commands []uint8
	family := genetlink.Family{ID: ipvstest.FamilyID, Name: uapi.FamilyName, Version: uapi.FamilyVersion}
	conn := genltest.Dial(genltest.ServeFamily(family, func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
		commands = append(commands, greq.Header.Command)
		return k.Handle(greq, nreq)
	}))
	defer conn.Close()
	c := &client{t: t, conn: conn, family: ipvstest.FamilyID}

	svc := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	if got := c.dump(uapi.CmdGetService); len(got) != 0 {
		t.Errorf("empty dump: %d messages", len(got))
	}
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, service(unix.IPPROTO_UDP, "192.0.2.1", 80)))
	if err := c.set(uapi.CmdNewService, nest(uapi.CmdAttrService, svc)); errnoOf(t, err) != unix.EEXIST {
		t.Errorf("NEW_SERVICE of an existing service: got %v, want EEXIST", err)
	}
	if msgs, err := c.execute(uapi.CmdFlush, netlink.Request, nil); err != nil || len(msgs) != 0 {
		t.Errorf("FLUSH without Acknowledge: %d messages, error %v; want none", len(msgs), err)
	}
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	if got := c.services(); len(got) != 1 || got[0].Protocol != unix.IPPROTO_TCP {
		t.Errorf("services: %+v", got)
	}
	want := []uint8{uapi.CmdGetService, uapi.CmdNewService, uapi.CmdNewService, uapi.CmdNewService,
		uapi.CmdFlush, uapi.CmdNewService, uapi.CmdGetService}
	if diff := cmp.Diff(want, commands); diff != "" {
		t.Errorf("commands seen (-want +got):\n%s", diff)
	}
}

// Dumps arrive as multi-part messages over several reads; all must arrive.
func TestLargeDump(t *testing.T) {
	c := newClient(t, ipvstest.New())
	svc := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	c.mustSet(uapi.CmdNewService, nest(uapi.CmdAttrService, svc))
	const n = 200
	for i := range n {
		addr := netip.AddrFrom4([4]byte{198, 18, byte(i / 256), byte(i % 256)}).String()
		c.mustSet(uapi.CmdNewDest, nest(uapi.CmdAttrService, svc), nest(uapi.CmdAttrDest, destination(addr, 80, fwdRoute, 1)))
	}
	got := c.dests(svc)
	if len(got) != n {
		t.Fatalf("got %d destinations, want %d", len(got), n)
	}
	if got[0].Addr != "198.18.0.199" || got[n-1].Addr != "198.18.0.0" {
		t.Errorf("first %s, last %s; want newest first", got[0].Addr, got[n-1].Addr)
	}
}

func TestConcurrentConns(t *testing.T) {
	k := ipvstest.New()
	const workers, each = 8, 20
	clients := make([]*client, workers)
	for i := range clients {
		clients[i] = newClient(t, k)
	}
	var wg sync.WaitGroup
	for w, c := range clients {
		wg.Go(func() {
			for i := range each {
				svc := service(unix.IPPROTO_TCP, "192.0.2.1", uint16(w*each+i+1))
				if err := c.set(uapi.CmdNewService, nest(uapi.CmdAttrService, svc)); err != nil {
					t.Errorf("worker %d: NEW_SERVICE: %v", w, err)
				}
				if _, err := c.execute(uapi.CmdGetService, netlinkDump, nil); err != nil {
					t.Errorf("worker %d: dump: %v", w, err)
				}
			}
		})
	}
	wg.Wait()
	if got := len(clients[0].services()); got != workers*each {
		t.Errorf("got %d services, want %d", got, workers*each)
	}
}
