package ipvstest_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// daemonAttrs returns the required DAEMON attributes.
func daemonAttrs(state uint32, ifn string, syncID uint32) attrList {
	return attrList{
		{Type: uapi.DaemonAttrState, Data: u32(state)},
		{Type: uapi.DaemonAttrMcastIfn, Data: str(ifn)},
		{Type: uapi.DaemonAttrSyncID, Data: u32(syncID)},
	}
}

const (
	master = 1
	backup = 2
)

func TestNewDaemon(t *testing.T) {
	group4 := func(s string) []byte {
		v4 := netip.MustParseAddr(s).As4()
		return v4[:]
	}
	group6 := func(s string) []byte {
		v6 := netip.MustParseAddr(s).As16()
		return v6[:]
	}
	defaults := func(state uint32, ifn string, maxLen uint16) daemonView {
		return daemonView{State: state, McastIfn: ifn, SyncID: 5, SyncMaxLen: maxLen,
			McastPort: 8848, McastTTL: 1, McastGroup: "224.0.0.81"}
	}
	tests := []struct {
		name       string
		withMaster bool      // a master daemon runs already
		daemon     *attrList // nil: no DAEMON attribute
		want       unix.Errno
		wantNew    daemonView
	}{
		{"master defaults", false, ptr(daemonAttrs(master, "eth0", 5)), 0, defaults(master, "eth0", 1472)},
		{"master on lo", false, ptr(daemonAttrs(master, "lo", 5)), 0, defaults(master, "lo", 1472)},
		{"backup on lo takes its MTU", false, ptr(daemonAttrs(backup, "lo", 5)), 0, defaults(backup, "lo", 65507)},
		{"backup on eth0", true, ptr(daemonAttrs(backup, "eth0", 5)), 0, defaults(backup, "eth0", 1472)},
		{"registered interface", false, ptr(daemonAttrs(backup, "bond0", 5)), 0, defaults(backup, "bond0", 8972)},
		{"every option", false, ptr(daemonAttrs(master, "eth0", 300).
			with(uapi.DaemonAttrSyncMaxLen, u16(1000)).
			with(uapi.DaemonAttrMcastGroup, group4("239.1.2.3")).
			with(uapi.DaemonAttrMcastPort, u16(9000)).
			with(uapi.DaemonAttrMcastTTL, u8(7))), 0,
			daemonView{State: master, McastIfn: "eth0", SyncID: 300, SyncMaxLen: 1000, McastPort: 9000, McastTTL: 7, McastGroup: "239.1.2.3"}},
		{"IPv6 group", false, ptr(daemonAttrs(master, "eth0", 5).with(uapi.DaemonAttrMcastGroup6, group6("ff02::81"))), 0,
			daemonView{State: master, McastIfn: "eth0", SyncID: 5, SyncMaxLen: 1452, McastPort: 8848, McastTTL: 1, McastGroup: "ff02::81"}},
		{"IPv4 group wins over IPv6", false, ptr(daemonAttrs(master, "eth0", 5).
			with(uapi.DaemonAttrMcastGroup6, group6("ff02::81")).
			with(uapi.DaemonAttrMcastGroup, group4("239.0.0.1"))), 0,
			daemonView{State: master, McastIfn: "eth0", SyncID: 5, SyncMaxLen: 1472, McastPort: 8848, McastTTL: 1, McastGroup: "239.0.0.1"}},
		{"backup maxlen raised to 1024", false, ptr(daemonAttrs(backup, "eth0", 5).with(uapi.DaemonAttrSyncMaxLen, u16(100))), 0, defaults(backup, "eth0", 1024)},
		{"master maxlen kept", false, ptr(daemonAttrs(master, "eth0", 5).with(uapi.DaemonAttrSyncMaxLen, u16(100))), 0, defaults(master, "eth0", 100)},
		{"maxlen capped", false, ptr(daemonAttrs(master, "eth0", 5).with(uapi.DaemonAttrSyncMaxLen, u16(65535))), 0, defaults(master, "eth0", 65507)},
		{"master exists", true, ptr(daemonAttrs(master, "lo", 9)), unix.EEXIST, daemonView{}},
		{"no DAEMON", false, nil, unix.EINVAL, daemonView{}},
		{"no STATE", false, ptr(daemonAttrs(backup, "eth0", 5).without(uapi.DaemonAttrState)), unix.EINVAL, daemonView{}},
		{"no MCAST_IFN", false, ptr(daemonAttrs(backup, "eth0", 5).without(uapi.DaemonAttrMcastIfn)), unix.EINVAL, daemonView{}},
		{"no SYNC_ID", false, ptr(daemonAttrs(backup, "eth0", 5).without(uapi.DaemonAttrSyncID)), unix.EINVAL, daemonView{}},
		{"unknown interface", false, ptr(daemonAttrs(backup, "eth9", 5)), unix.ENODEV, daemonView{}},
		{"empty interface name", false, ptr(daemonAttrs(backup, "", 5)), unix.ENODEV, daemonView{}},
		{"interface name of 16 characters", false, ptr(daemonAttrs(backup, "abcdefghijklmnop", 5)), unix.EINVAL, daemonView{}},
		{"bad state", false, ptr(daemonAttrs(3, "eth0", 5)), unix.EINVAL, daemonView{}},
		{"unknown interface beats bad state", false, ptr(daemonAttrs(3, "eth9", 5)), unix.ENODEV, daemonView{}},
		{"group not multicast", false, ptr(daemonAttrs(backup, "eth0", 5).with(uapi.DaemonAttrMcastGroup, group4("192.0.2.1"))), unix.EINVAL, daemonView{}},
		{"IPv6 group not multicast", false, ptr(daemonAttrs(backup, "eth0", 5).with(uapi.DaemonAttrMcastGroup6, group6("2001:db8::1"))), unix.EINVAL, daemonView{}},
		{"IPv6 group too short", false, ptr(daemonAttrs(backup, "eth0", 5).with(uapi.DaemonAttrMcastGroup6, make([]byte, 15))), unix.EINVAL, daemonView{}},
		{"TTL of 0 bytes", false, ptr(daemonAttrs(backup, "eth0", 5).with(uapi.DaemonAttrMcastTTL, []byte{})), unix.EINVAL, daemonView{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := ipvstest.New()
			k.AddInterfaceMTU("bond0", 9000)
			c := newClient(t, k)
			if tt.withMaster {
				c.mustSet(uapi.CmdNewDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(master, "eth0", 1)))
			}
			before := c.daemons()

			var attrs []attr
			if tt.daemon != nil {
				attrs = append(attrs, nest(uapi.CmdAttrDaemon, *tt.daemon))
			}
			err := c.set(uapi.CmdNewDaemon, attrs...)
			if got := errnoOf(t, err); got != tt.want {
				t.Fatalf("NEW_DAEMON: got %v (%v), want %v", got, err, tt.want)
			}

			want := before
			if tt.want == 0 {
				if tt.wantNew.State == master {
					want = append([]daemonView{tt.wantNew}, before...)
				} else {
					want = append(before, tt.wantNew)
				}
			}
			if diff := cmp.Diff(want, c.daemons()); diff != "" {
				t.Errorf("daemons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDelDaemon(t *testing.T) {
	stateOnly := func(state uint32) attr {
		return nest(uapi.CmdAttrDaemon, attrList{{Type: uapi.DaemonAttrState, Data: u32(state)}})
	}
	c := newClient(t, ipvstest.New())
	c.mustSet(uapi.CmdNewDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(master, "eth0", 1)))
	c.mustSet(uapi.CmdNewDaemon, nest(uapi.CmdAttrDaemon, daemonAttrs(backup, "eth0", 2)))

	steps := []struct {
		name  string
		attrs []attr
		want  unix.Errno
		left  []uint32
	}{
		{"no DAEMON", nil, unix.EINVAL, []uint32{master, backup}},
		{"no STATE", []attr{nest(uapi.CmdAttrDaemon, daemonAttrs(master, "", 1).without(uapi.DaemonAttrState))}, unix.EINVAL, []uint32{master, backup}},
		{"bad state", []attr{stateOnly(3)}, unix.EINVAL, []uint32{master, backup}},
		{"master, as ipvsadm sends it", []attr{nest(uapi.CmdAttrDaemon, daemonAttrs(master, "", 0))}, 0, []uint32{backup}},
		{"master again", []attr{stateOnly(master)}, unix.ESRCH, []uint32{backup}},
		{"backup", []attr{stateOnly(backup)}, 0, nil},
		{"backup again", []attr{stateOnly(backup)}, unix.ESRCH, nil},
	}
	for _, step := range steps {
		err := c.set(uapi.CmdDelDaemon, step.attrs...)
		if got := errnoOf(t, err); got != step.want {
			t.Errorf("%s: got %v (%v), want %v", step.name, got, err, step.want)
		}
		var left []uint32
		for _, d := range c.daemons() {
			left = append(left, d.State)
		}
		if diff := cmp.Diff(step.left, left); diff != "" {
			t.Errorf("%s: running daemons (-want +got):\n%s", step.name, diff)
		}
	}
}
