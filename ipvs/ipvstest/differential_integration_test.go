//go:build integration

package ipvstest_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// TestIntegrationKernelDifferential sends the same requests to the
// running kernel and to the fake and compares every answer: errno, or the
// replies attribute by attribute. It works in a network namespace of its
// own, with the interfaces the sync daemon steps need (lo, and a dummy eth0
// with an IPv4 address); the daemons it starts are left running. Dumps are
// compared as sorted sets: the kernel's service order depends on a hash.
func TestIntegrationKernelDifferential(t *testing.T) {
	if out, err := exec.Command("/sbin/modprobe", "ip_vs").CombinedOutput(); err != nil {
		t.Fatalf("modprobe ip_vs: %v\n%s", err, out)
	}
	ns := newNetNS(t)
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "eth0", "type", "dummy"},
		{"addr", "add", "192.0.2.100/24", "dev", "eth0"},
		{"link", "set", "eth0", "up"},
	} {
		var (
			out []byte
			err error
		)
		inNetNS(t, ns, func() { out, err = exec.Command("/sbin/ip", args...).CombinedOutput() })
		if err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	conn, err := genetlink.Dial(&netlink.Config{NetNS: int(ns.Fd())})
	if err != nil {
		t.Fatalf("dialing generic netlink: %v", err)
	}
	defer conn.Close()
	family, err := conn.GetFamily(uapi.FamilyName)
	if err != nil {
		t.Fatalf("IPVS family: %v", err)
	}
	kernel := &client{t: t, conn: conn, family: family.ID}
	if n := len(kernel.dump(uapi.CmdGetDaemon)); n != 0 {
		t.Fatalf("%d sync daemons are running in a new namespace", n)
	}
	if n := len(kernel.dump(uapi.CmdGetService)); n != 0 {
		t.Fatalf("%d services in a new namespace", n)
	}

	k := ipvstest.New()
	// The architectures whose kernels have efficient unaligned access do
	// not pad 64-bit attributes.
	k.SetPad64(!slices.Contains([]string{"386", "amd64", "arm64", "ppc64", "ppc64le", "s390x"}, runtime.GOARCH))
	fake := newClient(t, k)

	for _, st := range differentialScript() {
		want, got := answer(kernel, st), answer(fake, st)
		if got != want {
			t.Errorf("%s:\nkernel: %s\nfake:   %s", st.name, want, got)
		}
	}
}

// newNetNS creates a network namespace and returns an open file for it. The
// namespace is made on a locked thread that is then discarded, so no other
// goroutine ever runs inside it by accident.
func newNetNS(t *testing.T) *os.File {
	t.Helper()
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		f, err := os.Open("/proc/thread-self/ns/net")
		ch <- result{f, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("new network namespace: %v", r.err)
	}
	t.Cleanup(func() { r.f.Close() })
	return r.f
}

// inNetNS runs fn on a thread inside ns; the thread is discarded afterwards.
func inNetNS(t *testing.T, ns *os.File, fn func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		fn()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("setns: %v", err)
	}
}

// step is one request of the differential script.
type step struct {
	name  string
	cmd   uint8
	flags netlink.HeaderFlags
	attrs attrList
}

// change, get and dump make a step that changes state (asking for an ACK,
// as ipvsadm does), gets one reply, or dumps.
func change(name string, cmd uint8, attrs ...attr) step {
	return step{name, cmd, netlink.Request | netlink.Acknowledge, attrs}
}
func get(name string, cmd uint8, attrs ...attr) step  { return step{name, cmd, netlink.Request, attrs} }
func dump(name string, cmd uint8, attrs ...attr) step { return step{name, cmd, netlinkDump, attrs} }

// answer renders what a request gets back.
func answer(c *client, st step) string {
	msgs, err := c.execute(st.cmd, st.flags, st.attrs)
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return unix.ErrnoName(errno)
		}
		return "error: " + err.Error()
	}
	var replies []string
	for _, m := range msgs {
		if st.flags&netlink.Acknowledge != 0 && len(msgs) == 1 && m.Header.Command == 0 {
			// The ACK: errno 0 and the request's header, whose port ID
			// differs between the two.
			replies = append(replies, "ack")
			continue
		}
		replies = append(replies, fmt.Sprintf("cmd=%d v=%d %s", m.Header.Command, m.Header.Version, renderAttrs(m.Data, m.Header.Command, 0)))
	}
	if st.flags&netlink.Dump == netlink.Dump {
		slices.Sort(replies)
	}
	return fmt.Sprintf("%d messages %v", len(msgs), replies)
}

// renderAttrs shows attributes as type=hex, descending into the nested
// service, destination and daemon attributes and their counters.
func renderAttrs(b []byte, cmd uint8, depth int) string {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return "malformed(" + hex.EncodeToString(b) + ")"
	}
	var parts []string
	for ad.Next() {
		data := ad.Bytes()
		typ := ad.Type() | ad.TypeFlags()
		isNest := depth == 0 && (cmd == uapi.CmdNewService || cmd == uapi.CmdNewDest || cmd == uapi.CmdNewDaemon) ||
			depth == 1 && cmd != uapi.CmdNewDaemon && (ad.Type() == uapi.SvcAttrStats || ad.Type() == uapi.SvcAttrStats64)
		if isNest {
			parts = append(parts, fmt.Sprintf("%d{%s}", typ, renderAttrs(data, cmd, depth+1)))
		} else {
			parts = append(parts, fmt.Sprintf("%d=%s", typ, hex.EncodeToString(data)))
		}
	}
	return strings.Join(parts, " ")
}

func ip4(s string) []byte {
	v4 := netip.MustParseAddr(s).As4()
	return v4[:]
}

// differentialScript is a run of requests, good and bad, whose answers from
// a Linux 6.1 kernel (Debian 6.1.0-48-cloud-amd64, in scripts/vm.sh) and
// from the fake were identical when this test was written.
func differentialScript() []step {
	v4 := service(unix.IPPROTO_TCP, "192.0.2.1", 80)
	v6 := service(unix.IPPROTO_TCP, "2001:db8::1", 80)
	ok := destination("198.51.100.2", 80, fwdMasq, 1)
	ex := destination("198.51.100.1", 80, fwdMasq, 1)
	SV := func(l attrList) attr { return nest(uapi.CmdAttrService, l) }
	DS := func(l attrList) attr { return nest(uapi.CmdAttrDest, l) }
	DM := func(l attrList) attr { return nest(uapi.CmdAttrDaemon, l) }
	s := []step{
		get("info", uapi.CmdGetInfo), get("config", uapi.CmdGetConfig),
		change("setconfig all", uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutTCP, Data: u32(1000)}, attr{Type: uapi.CmdAttrTimeoutTCPFin, Data: u32(60)}, attr{Type: uapi.CmdAttrTimeoutUDP, Data: u32(200)}),
		get("config", uapi.CmdGetConfig),
		change("setconfig zero", uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutTCP, Data: u32(0)}, attr{Type: uapi.CmdAttrTimeoutTCPFin, Data: u32(0)}, attr{Type: uapi.CmdAttrTimeoutUDP, Data: u32(0)}),
		change("setconfig udp only", uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutUDP, Data: u32(10)}),
		get("config", uapi.CmdGetConfig),
		change("setconfig max", uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutTCP, Data: u32(8589934)}),
		change("setconfig too big", uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutTCP, Data: u32(8589935)}),
		change("setconfig negative", uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutUDP, Data: u32(0xffffffff)}),
		change("setconfig short", uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutTCP, Data: u16(1)}),
		change("setconfig long", uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutTCPFin, Data: append(u32(100), 0xaa, 0xaa, 0xaa, 0xaa)}),
		change("setconfig unknown attr", uapi.CmdSetConfig, attr{Type: 99, Data: []byte{1}}),
		get("config", uapi.CmdGetConfig),
		change("setconfig restore", uapi.CmdSetConfig, attr{Type: uapi.CmdAttrTimeoutTCP, Data: u32(900)}, attr{Type: uapi.CmdAttrTimeoutTCPFin, Data: u32(120)}, attr{Type: uapi.CmdAttrTimeoutUDP, Data: u32(300)}),

		change("new v4", uapi.CmdNewService, SV(v4)),
		change("new udp", uapi.CmdNewService, SV(service(unix.IPPROTO_UDP, "192.0.2.1", 80))),
		change("new v6", uapi.CmdNewService, SV(v6)),
		change("new fwm", uapi.CmdNewService, SV(fwmarkService(unix.AF_INET, 1))),
		change("exists", uapi.CmdNewService, SV(v4)),
		change("exists+bad sched", uapi.CmdNewService, SV(v4.with(uapi.SvcAttrSchedName, str("nope")))),
		change("no SERVICE", uapi.CmdNewService),
		change("empty SERVICE", uapi.CmdNewService, SV(nil)),
		change("SERVICE 2 bytes", uapi.CmdNewService, attr{Type: uapi.CmdAttrService, Data: []byte{1, 2}}),
		change("no AF", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).without(uapi.SvcAttrAF))),
		change("no PORT", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).without(uapi.SvcAttrPort))),
		change("no PROTOCOL", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).without(uapi.SvcAttrProtocol))),
		change("no ADDR", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).without(uapi.SvcAttrAddr))),
		change("no SCHED", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).without(uapi.SvcAttrSchedName))),
		change("no FLAGS", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).without(uapi.SvcAttrFlags))),
		change("no TIMEOUT", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).without(uapi.SvcAttrTimeout))),
		change("no NETMASK", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).without(uapi.SvcAttrNetmask))),
		change("bad af", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrAF, u16(7)))),
		change("bad af no sched", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrAF, u16(7)).without(uapi.SvcAttrSchedName))),
		change("unknown sched", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrSchedName, str("nope")))),
		change("empty sched", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrSchedName, str("")))),
		change("sched 16", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrSchedName, str("abcdefghijklmnop")))),
		change("sched noNUL", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrSchedName, []byte("wlc")))),
		change("pe unknown", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrPEName, str("nope")))),
		change("pe 16 chars", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrPEName, str("abcdefghijklmnop")))),
		change("v6 prefix 0", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrNetmask, u32(0)))),
		change("v6 prefix 129", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrNetmask, u32(129)))),
		change("addr 17", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrAddr, make([]byte, 17)))),
		change("port 1 byte", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 1).with(uapi.SvcAttrPort, []byte{1}))),
		change("none sched", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "2001:db8::2", 2).with(uapi.SvcAttrSchedName, str("none")))),
		change("pe sip", uapi.CmdNewService, SV(service(unix.IPPROTO_UDP, "2001:db8::2", 3).with(uapi.SvcAttrPEName, str("sip")))),
		change("pe empty", uapi.CmdNewService, SV(service(unix.IPPROTO_UDP, "2001:db8::2", 4).with(uapi.SvcAttrPEName, str("")))),
		change("v4 netmask junk", uapi.CmdNewService, SV(service(unix.IPPROTO_UDP, "192.0.2.9", 1).with(uapi.SvcAttrNetmask, u32(0x12345678)))),
		change("short addr", uapi.CmdNewService, SV(service(unix.IPPROTO_UDP, "192.0.2.9", 2).with(uapi.SvcAttrAddr, []byte{192, 0, 2, 9}))),
		change("long af", uapi.CmdNewService, SV(service(unix.IPPROTO_UDP, "2001:db8::2", 5).with(uapi.SvcAttrAF, u32(10)))),
		change("proto 99", uapi.CmdNewService, SV(service(99, "192.0.2.1", 80))),
		change("fwmark 0", uapi.CmdNewService, SV(fwmarkService(unix.AF_INET, 0))),
		change("tcp 0.0.0.0:0 exists", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "0.0.0.0", 0))),
		change("timeout wrap", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "192.0.2.50", 1).with(uapi.SvcAttrTimeout, u32(17179870)).with(uapi.SvcAttrFlags, append(u32(1), u32(^uint32(0))...)))),
		change("timeout wrap2", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "192.0.2.50", 2).with(uapi.SvcAttrTimeout, u32(17179871)))),
		change("flags masked", uapi.CmdNewService, SV(service(unix.IPPROTO_TCP, "192.0.2.51", 1).with(uapi.SvcAttrFlags, append(u32(5), u32(1)...)))),
		change("flags short", uapi.CmdSetService, SV(service(unix.IPPROTO_TCP, "192.0.2.51", 1).with(uapi.SvcAttrFlags, u32(0)))),
		get("get flags", uapi.CmdGetService, SV(serviceID(service(unix.IPPROTO_TCP, "192.0.2.51", 1)))),
		change("flags set 4", uapi.CmdSetService, SV(service(unix.IPPROTO_TCP, "192.0.2.51", 1).with(uapi.SvcAttrFlags, append(u32(4), u32(4)...)))),
		get("get flags", uapi.CmdGetService, SV(serviceID(service(unix.IPPROTO_TCP, "192.0.2.51", 1)))),
		change("flags clear all", uapi.CmdSetService, SV(service(unix.IPPROTO_TCP, "192.0.2.51", 1).with(uapi.SvcAttrFlags, append(u32(0), u32(^uint32(0))...)))),
		get("get flags", uapi.CmdGetService, SV(serviceID(service(unix.IPPROTO_TCP, "192.0.2.51", 1)))),
		get("get v4", uapi.CmdGetService, SV(serviceID(v4))),
		get("get fwm", uapi.CmdGetService, SV(serviceID(fwmarkService(unix.AF_INET, 1)))),
		get("get no attr", uapi.CmdGetService),
		get("get bad af", uapi.CmdGetService, SV(serviceID(v4).with(uapi.SvcAttrAF, u16(3)))),
		get("get missing", uapi.CmdGetService, SV(serviceID(service(unix.IPPROTO_TCP, "192.0.2.1", 81)))),
		get("get garbage addr", uapi.CmdGetService, SV(serviceID(v4).with(uapi.SvcAttrAddr, append([]byte{192, 0, 2, 1}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)))),
		change("set ok", uapi.CmdSetService, SV(v6.with(uapi.SvcAttrSchedName, str("rr")).with(uapi.SvcAttrPEName, str("sip")).with(uapi.SvcAttrTimeout, u32(300)).with(uapi.SvcAttrNetmask, u32(64)))),
		get("get v6", uapi.CmdGetService, SV(serviceID(v6))),
		change("set no pe", uapi.CmdSetService, SV(v6.with(uapi.SvcAttrSchedName, str("sh")))),
		get("get v6", uapi.CmdGetService, SV(serviceID(v6))),
		change("set missing", uapi.CmdSetService, SV(service(unix.IPPROTO_UDP, "2001:db8::1", 80))),
		change("set missing no sched", uapi.CmdSetService, SV(service(unix.IPPROTO_UDP, "2001:db8::1", 80).without(uapi.SvcAttrSchedName))),
		change("set unknown sched", uapi.CmdSetService, SV(v6.with(uapi.SvcAttrSchedName, str("nope")))),
		change("set bad prefix", uapi.CmdSetService, SV(v6.with(uapi.SvcAttrNetmask, u32(200)))),
		change("del missing", uapi.CmdDelService, SV(serviceID(service(unix.IPPROTO_UDP, "2001:db8::1", 80)))),
		dump("dump services", uapi.CmdGetService),

		change("dest exist", uapi.CmdNewDest, SV(v4), DS(ex)),
		change("dest new", uapi.CmdNewDest, SV(v4), DS(ok)),
		change("dest no af", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.3", 80, fwdMasq, 1).without(uapi.DestAttrAddrFamily))),
		change("dest no tun", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.4", 80, fwdMasq, 1).without(uapi.DestAttrTunType).without(uapi.DestAttrTunPort).without(uapi.DestAttrTunFlags))),
		change("dest missing svc no DEST", uapi.CmdNewDest, SV(service(unix.IPPROTO_TCP, "192.0.2.1", 99))),
		change("dest bad svc", uapi.CmdNewDest, SV(service(unix.IPPROTO_TCP, "192.0.2.1", 99).without(uapi.SvcAttrPort)), DS(ok)),
		change("dest no DEST", uapi.CmdNewDest, SV(v4)),
		change("dest no ADDR", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 1).without(uapi.DestAttrAddr))),
		change("dest no PORT", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 1).without(uapi.DestAttrPort))),
		change("dest no FWD", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 1).without(uapi.DestAttrFwdMethod))),
		change("dest no WEIGHT", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 1).without(uapi.DestAttrWeight))),
		change("dest no U", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 1).without(uapi.DestAttrUThresh))),
		change("dest no L", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 1).without(uapi.DestAttrLThresh))),
		change("dest tuntype 2 bytes", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.6", 80, fwdMasq, 1).with(uapi.DestAttrTunType, []byte{0, 0}))),
		change("dest tuntype 0 bytes", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 1).with(uapi.DestAttrTunType, []byte{}))),
		change("dest neg weight", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 0xffffffff))),
		change("dest l>u", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 1).with(uapi.DestAttrUThresh, u32(5)).with(uapi.DestAttrLThresh, u32(10)))),
		change("dest l, no u", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdMasq, 1).with(uapi.DestAttrLThresh, u32(10)))),
		change("dest l=u", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.7", 80, fwdMasq, 1).with(uapi.DestAttrUThresh, u32(10)).with(uapi.DestAttrLThresh, u32(10)))),
		change("dest gue no port", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.5", 80, fwdTunnel, 1).with(uapi.DestAttrTunType, u8(1)))),
		change("dest gue port", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.8", 80, fwdTunnel, 1).with(uapi.DestAttrTunType, u8(1)).with(uapi.DestAttrTunPort, be16(6080)))),
		change("dest gre csum", uapi.CmdNewDest, SV(v4), DS(destination("198.51.100.9", 80, fwdTunnel, 1).with(uapi.DestAttrTunType, u8(2)).with(uapi.DestAttrTunFlags, u16(1)))),
		change("dest neg beats exists", uapi.CmdNewDest, SV(v4), DS(ex.with(uapi.DestAttrWeight, u32(0x80000000)))),
		change("dest other port", uapi.CmdNewDest, SV(v4), DS(ex.with(uapi.DestAttrPort, be16(81)))),
		change("dest 0.0.0.0", uapi.CmdNewDest, SV(v4), DS(destination("0.0.0.0", 80, fwdMasq, 1))),
		change("dest 0.1.2.3", uapi.CmdNewDest, SV(v4), DS(destination("0.1.2.3", 80, fwdMasq, 1))),
		change("dest mcast", uapi.CmdNewDest, SV(v4), DS(destination("224.0.0.1", 80, fwdMasq, 1))),
		change("dest bcast", uapi.CmdNewDest, SV(v4), DS(destination("255.255.255.255", 80, fwdMasq, 1))),
		change("dest loopback", uapi.CmdNewDest, SV(v4), DS(destination("127.0.0.1", 80, fwdMasq, 1))),
		change("dest class E", uapi.CmdNewDest, SV(v4), DS(destination("240.0.0.1", 80, fwdMasq, 1))),
		change("dest bad af", uapi.CmdNewDest, SV(v4), DS(ok.with(uapi.DestAttrAddrFamily, u16(7)))),
		change("dest v6 in v4 nat", uapi.CmdNewDest, SV(v4), DS(destination("2001:db8::2", 80, fwdMasq, 1))),
		change("dest v6 in v4 dr", uapi.CmdNewDest, SV(v4), DS(destination("2001:db8::2", 80, fwdRoute, 1))),
		change("dest v6 global", uapi.CmdNewDest, SV(v6), DS(destination("2001:db8::2", 80, fwdMasq, 1))),
		change("dest v6 ::1", uapi.CmdNewDest, SV(v6), DS(destination("::1", 80, fwdMasq, 1))),
		change("dest v6 ::", uapi.CmdNewDest, SV(v6), DS(destination("::", 80, fwdMasq, 1))),
		change("dest v6 mcast", uapi.CmdNewDest, SV(v6), DS(destination("ff02::1", 80, fwdMasq, 1))),
		change("dest v6 ll", uapi.CmdNewDest, SV(v6), DS(destination("fe80::1", 80, fwdMasq, 1))),
		change("dest v6 mapped", uapi.CmdNewDest, SV(v6), DS(destination("::ffff:198.51.100.1", 80, fwdMasq, 1))),
		change("dest v6 compat", uapi.CmdNewDest, SV(v6), DS(destination("::198.51.100.1", 80, fwdMasq, 1))),
		change("dest v6 site", uapi.CmdNewDest, SV(v6), DS(destination("fec0::1", 80, fwdMasq, 1))),
		change("dest fwd 7", uapi.CmdNewDest, SV(v6), DS(destination("2001:db8::3", 80, 7, 1))),
		change("dest fwd 0xf3", uapi.CmdNewDest, SV(v6), DS(destination("2001:db8::4", 80, 0xf3, 1))),
		change("dest set", uapi.CmdSetDest, SV(v4), DS(ex.with(uapi.DestAttrWeight, u32(3)))),
		change("dest set missing", uapi.CmdSetDest, SV(v4), DS(destination("198.51.100.200", 80, fwdMasq, 1))),
		change("dest set neg beats missing", uapi.CmdSetDest, SV(v4), DS(destination("198.51.100.200", 80, fwdMasq, 0xffffffff))),
		change("dest set missing svc", uapi.CmdSetDest, SV(service(unix.IPPROTO_UDP, "192.0.2.77", 80)), DS(ex)),
		change("dest set no weight", uapi.CmdSetDest, SV(v4), DS(ex.without(uapi.DestAttrWeight))),
		change("dest set other fam nat", uapi.CmdSetDest, SV(v4), DS(destination("2001:db8::2", 80, fwdMasq, 1))),
		change("dest set tunnel", uapi.CmdSetDest, SV(v4), DS(destination("198.51.100.8", 80, fwdTunnel, 9).with(uapi.DestAttrTunType, u8(1)).with(uapi.DestAttrTunPort, be16(7000)).with(uapi.DestAttrTunFlags, u16(2)))),
		change("dest set no tun", uapi.CmdSetDest, SV(v4), DS(destination("198.51.100.9", 80, fwdRoute, 0).without(uapi.DestAttrTunType).without(uapi.DestAttrTunPort).without(uapi.DestAttrTunFlags))),
		dump("dests v4", uapi.CmdGetDest, SV(serviceID(v4))),
		dump("dests v6", uapi.CmdGetDest, SV(serviceID(v6))),
		dump("dests full svc", uapi.CmdGetDest, SV(v6)),
		dump("dests unknown", uapi.CmdGetDest, SV(serviceID(service(unix.IPPROTO_TCP, "192.0.2.2", 80)))),
		dump("dests no SERVICE", uapi.CmdGetDest),
		dump("dests no af", uapi.CmdGetDest, SV(serviceID(v4).without(uapi.SvcAttrAF))),
		dump("dests bad af", uapi.CmdGetDest, SV(serviceID(v4).with(uapi.SvcAttrAF, u16(1)))),
		dump("dests short SERVICE", uapi.CmdGetDest, attr{Type: uapi.CmdAttrService, Data: []byte{0}}),
		change("del dest", uapi.CmdDelDest, SV(serviceID(v4)), DS(attrList{{Type: uapi.DestAttrAddr, Data: inetAddr("198.51.100.3")}, {Type: uapi.DestAttrPort, Data: be16(80)}})),
		change("del dest missing", uapi.CmdDelDest, SV(v4), DS(destination("198.51.100.3", 80, fwdMasq, 1))),
		change("del dest missing svc", uapi.CmdDelDest, SV(service(unix.IPPROTO_UDP, "192.0.2.77", 80)), DS(ex)),
		change("del dest other fam", uapi.CmdDelDest, SV(v4), DS(destination("2001:db8::99", 80, fwdMasq, 1))),
		change("del dest no port", uapi.CmdDelDest, SV(v4), DS(ex.without(uapi.DestAttrPort))),
		change("del dest bad af", uapi.CmdDelDest, SV(v4), DS(ex.with(uapi.DestAttrAddrFamily, u16(7)))),
		dump("dests v4", uapi.CmdGetDest, SV(serviceID(v4))),

		change("zero one", uapi.CmdZero, SV(serviceID(v4))),
		change("zero all", uapi.CmdZero),
		change("zero missing", uapi.CmdZero, SV(serviceID(service(unix.IPPROTO_UDP, "192.0.2.77", 80)))),
		change("zero empty", uapi.CmdZero, SV(nil)),
		change("cmd 0", 0), change("set info", uapi.CmdSetInfo), change("cmd 18", 18),
		dump("cmd 99 dump", 99),
		get("getdest doit", uapi.CmdGetDest), get("getdaemon doit", uapi.CmdGetDaemon),
		dump("getinfo dump", uapi.CmdGetInfo), dump("newsvc dump", uapi.CmdNewService),
		// Sync daemons and mixed-family pools exclude each other. Daemons
		// are started but never stopped: stopping one sometimes hangs the
		// kernel in the VM.
		change("del master none", uapi.CmdDelDaemon, DM(daemonAttrs(master, "", 0))),
		change("del backup none", uapi.CmdDelDaemon, DM(attrList{{Type: uapi.DaemonAttrState, Data: u32(backup)}})),
		change("del no DAEMON", uapi.CmdDelDaemon),
		change("del no state", uapi.CmdDelDaemon, DM(daemonAttrs(master, "", 0).without(uapi.DaemonAttrState))),
		change("del bad state", uapi.CmdDelDaemon, DM(attrList{{Type: uapi.DaemonAttrState, Data: u32(3)}})),
		change("daemon no DAEMON", uapi.CmdNewDaemon),
		change("daemon no state", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "eth0", 5).without(uapi.DaemonAttrState))),
		change("daemon no ifn", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "eth0", 5).without(uapi.DaemonAttrMcastIfn))),
		change("daemon no syncid", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "eth0", 5).without(uapi.DaemonAttrSyncID))),
		change("daemon eth9", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "eth9", 5))),
		change("daemon empty ifn", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "", 5))),
		change("daemon ifn 16", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "abcdefghijklmnop", 5))),
		change("daemon state 3", uapi.CmdNewDaemon, DM(daemonAttrs(3, "eth0", 5))),
		change("daemon state 3 eth9", uapi.CmdNewDaemon, DM(daemonAttrs(3, "eth9", 5))),
		change("daemon group unicast", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "eth0", 5).with(uapi.DaemonAttrMcastGroup, ip4("192.0.2.1")))),
		change("daemon group6 unicast", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "eth0", 5).with(uapi.DaemonAttrMcastGroup6, inetAddr("2001:db8::1")))),
		change("daemon group6 short", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "eth0", 5).with(uapi.DaemonAttrMcastGroup6, make([]byte, 15)))),
		change("daemon ttl empty", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "eth0", 5).with(uapi.DaemonAttrMcastTTL, []byte{}))),
		dump("no daemons", uapi.CmdGetDaemon),
		change("dest v4 in v6 tun", uapi.CmdNewDest, SV(v6), DS(destination("198.51.100.1", 80, fwdTunnel, 1))),
		change("daemon with mixed", uapi.CmdNewDaemon, DM(daemonAttrs(master, "eth0", 1))),
		change("del mixed", uapi.CmdDelDest, SV(v6), DS(destination("198.51.100.1", 80, fwdTunnel, 1))),
		change("daemon master", uapi.CmdNewDaemon, DM(daemonAttrs(master, "eth0", 5))),
		change("mixed with daemon", uapi.CmdNewDest, SV(v6), DS(destination("198.51.100.1", 80, fwdTunnel, 1))),
		change("mixed del with daemon", uapi.CmdDelDest, SV(v6), DS(destination("198.51.100.1", 80, fwdTunnel, 1))),
		change("daemon master again", uapi.CmdNewDaemon, DM(daemonAttrs(master, "lo", 9))),
		change("daemon backup lo", uapi.CmdNewDaemon, DM(daemonAttrs(backup, "lo", 5).with(uapi.DaemonAttrSyncMaxLen, u16(60000)))),
		dump("daemons", uapi.CmdGetDaemon),
		change("del v4", uapi.CmdDelService, SV(serviceID(v4))),
		dump("dests v4 after del", uapi.CmdGetDest, SV(serviceID(v4))),
		dump("dump services", uapi.CmdGetService),
		change("flush", uapi.CmdFlush),
		dump("dump services", uapi.CmdGetService),
	}
	return s
}
