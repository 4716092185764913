package ipvs

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

const testFamilyID = ipvstest.FamilyID

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// testClient serves fn behind the fake kernel's socket.
func testClient(t *testing.T, fn genltest.Func) *Client {
	t.Helper()
	return testClientSocket(t, nil, fn)
}

// testClientSocket is testClient over a socket cfg describes.
func testClientSocket(t *testing.T, cfg *ipvstest.SocketConfig, fn genltest.Func) *Client {
	t.Helper()
	c, err := NewFromConn(ipvstest.DialFunc(fn, cfg))
	if err != nil {
		t.Fatalf("NewFromConn: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Fixtures are written with the encoder's primitives, independently of the
// client's own encode functions, so a symmetric codec bug cannot hide.
func attrs(t testing.TB, fn func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	fn(ae)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func addr16(s string) []byte {
	a := netip.MustParseAddr(s)
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
	} else {
		b = a.As16()
	}
	return b[:]
}
func flags8(f, mask uint32) []byte {
	b := make([]byte, 8)
	binary.NativeEndian.PutUint32(b[:4], f)
	binary.NativeEndian.PutUint32(b[4:], mask)
	return b
}

var (
	tcpKey = ServiceKey{Family: IPv4, Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}
	fwmKey = ServiceKey{Family: IPv6, FWMark: 7}
)

func tcpKeyAttrs(ae *netlink.AttributeEncoder) {
	ae.Uint16(uapi.SvcAttrAF, 2)
	ae.Uint16(uapi.SvcAttrProtocol, 6)
	ae.Bytes(uapi.SvcAttrAddr, addr16("192.0.2.1"))
	ae.Bytes(uapi.SvcAttrPort, be16(80))
}

func TestClientRequests(t *testing.T) {
	persistent := Service{
		ServiceKey: tcpKey, Scheduler: "rr", PE: "sip",
		Flags: FlagPersistent | FlagSched1, Timeout: 360, Netmask: 0xffffff00,
	}
	v6 := Service{ServiceKey: fwmKey, Scheduler: "wlc", Flags: FlagPersistent, Timeout: 60, Netmask: 64}
	dest := Destination{
		Addr: netip.MustParseAddr("2001:db8::5"), Family: IPv6, Port: 8080, ForwardMethod: Tunnel,
		Weight: 2147483647, UpperThreshold: 10, LowerThreshold: 5,
		TunnelType: TunnelGUE, TunnelPort: 6080, TunnelFlags: TunnelRemoteChecksum,
	}
	tests := []struct {
		name  string
		call  func(c *Client) error
		cmd   uint8
		flags netlink.HeaderFlags
		want  func(ae *netlink.AttributeEncoder)
	}{
		{
			name:  "add persistent IPv4 service",
			call:  func(c *Client) error { return c.AddService(persistent) },
			cmd:   uapi.CmdNewService,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
					tcpKeyAttrs(ae)
					ae.String(uapi.SvcAttrSchedName, "rr")
					ae.String(uapi.SvcAttrPEName, "sip")
					ae.Bytes(uapi.SvcAttrFlags, flags8(0x09, 0xffffffff))
					ae.Uint32(uapi.SvcAttrTimeout, 360)
					ae.Bytes(uapi.SvcAttrNetmask, []byte{255, 255, 255, 0})
					return nil
				})
			},
		},
		{
			name:  "edit fwmark IPv6 service",
			call:  func(c *Client) error { return c.EditService(v6) },
			cmd:   uapi.CmdSetService,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
					ae.Uint16(uapi.SvcAttrAF, 10)
					ae.Uint32(uapi.SvcAttrFWMark, 7)
					ae.String(uapi.SvcAttrSchedName, "wlc")
					ae.Bytes(uapi.SvcAttrFlags, flags8(0x01, 0xffffffff))
					ae.Uint32(uapi.SvcAttrTimeout, 60)
					ae.Uint32(uapi.SvcAttrNetmask, 64)
					return nil
				})
			},
		},
		{
			name:  "delete service sends only its identity",
			call:  func(c *Client) error { return c.DeleteService(tcpKey) },
			cmd:   uapi.CmdDelService,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error { tcpKeyAttrs(ae); return nil })
			},
		},
		{
			name:  "add mixed-family GUE destination",
			call:  func(c *Client) error { return c.AddDestination(tcpKey, dest) },
			cmd:   uapi.CmdNewDest,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error { tcpKeyAttrs(ae); return nil })
				ae.Nested(uapi.CmdAttrDest, func(ae *netlink.AttributeEncoder) error {
					ae.Uint16(uapi.DestAttrAddrFamily, 10)
					ae.Bytes(uapi.DestAttrAddr, addr16("2001:db8::5"))
					ae.Bytes(uapi.DestAttrPort, be16(8080))
					ae.Uint32(uapi.DestAttrFwdMethod, 2)
					ae.Uint32(uapi.DestAttrWeight, 2147483647)
					ae.Uint8(uapi.DestAttrTunType, 1)
					ae.Bytes(uapi.DestAttrTunPort, be16(6080))
					ae.Uint16(uapi.DestAttrTunFlags, 2)
					ae.Uint32(uapi.DestAttrUThresh, 10)
					ae.Uint32(uapi.DestAttrLThresh, 5)
					return nil
				})
			},
		},
		{
			name: "delete destination defaults its family to the service's",
			call: func(c *Client) error {
				return c.DeleteDestination(tcpKey, Destination{Addr: netip.MustParseAddr("198.51.100.2"), Port: 80})
			},
			cmd:   uapi.CmdDelDest,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error { tcpKeyAttrs(ae); return nil })
				ae.Nested(uapi.CmdAttrDest, func(ae *netlink.AttributeEncoder) error {
					ae.Uint16(uapi.DestAttrAddrFamily, 2)
					ae.Bytes(uapi.DestAttrAddr, addr16("198.51.100.2"))
					ae.Bytes(uapi.DestAttrPort, be16(80))
					return nil
				})
			},
		},
		{
			name: "start daemon with every option",
			call: func(c *Client) error {
				return c.StartDaemon(Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 9, MaxLen: 1400, Group: netip.MustParseAddr("ff02::81"), Port: 8849, TTL: 3})
			},
			cmd:   uapi.CmdNewDaemon,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
					ae.Uint32(uapi.DaemonAttrState, 2)
					ae.String(uapi.DaemonAttrMcastIfn, "eth1")
					ae.Uint32(uapi.DaemonAttrSyncID, 9)
					ae.Uint16(uapi.DaemonAttrSyncMaxLen, 1400)
					ae.Uint16(uapi.DaemonAttrMcastPort, 8849)
					ae.Uint8(uapi.DaemonAttrMcastTTL, 3)
					ae.Bytes(uapi.DaemonAttrMcastGroup6, addr16("ff02::81"))
					return nil
				})
			},
		},
		{
			name: "start daemon with an IPv4 group only",
			call: func(c *Client) error {
				return c.StartDaemon(Daemon{State: DaemonMaster, Interface: "lo", Group: netip.MustParseAddr("239.1.2.3")})
			},
			cmd:   uapi.CmdNewDaemon,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
					ae.Uint32(uapi.DaemonAttrState, 1)
					ae.String(uapi.DaemonAttrMcastIfn, "lo")
					ae.Uint32(uapi.DaemonAttrSyncID, 0)
					ae.Bytes(uapi.DaemonAttrMcastGroup, []byte{239, 1, 2, 3})
					return nil
				})
			},
		},
		{
			name:  "stop daemon",
			call:  func(c *Client) error { return c.StopDaemon(Daemon{State: DaemonMaster, TTL: 9}) },
			cmd:   uapi.CmdDelDaemon,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
					ae.Uint32(uapi.DaemonAttrState, 1)
					ae.String(uapi.DaemonAttrMcastIfn, "")
					ae.Uint32(uapi.DaemonAttrSyncID, 0)
					return nil
				})
			},
		},
		{
			name:  "set timeouts sends all three",
			call:  func(c *Client) error { return c.SetTimeouts(Timeouts{TCP: 10, UDP: 30}) },
			cmd:   uapi.CmdSetConfig,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Uint32(uapi.CmdAttrTimeoutTCP, 10)
				ae.Uint32(uapi.CmdAttrTimeoutTCPFin, 0)
				ae.Uint32(uapi.CmdAttrTimeoutUDP, 30)
			},
		},
		{
			name:  "zero one service",
			call:  func(c *Client) error { return c.ZeroService(tcpKey) },
			cmd:   uapi.CmdZero,
			flags: netlink.Request | netlink.Acknowledge,
			want: func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error { tcpKeyAttrs(ae); return nil })
			},
		},
		{name: "zero all", call: (*Client).ZeroAll, cmd: uapi.CmdZero, flags: netlink.Request | netlink.Acknowledge},
		{name: "flush", call: (*Client).Flush, cmd: uapi.CmdFlush, flags: netlink.Request | netlink.Acknowledge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			c := testClient(t, genltest.CheckRequest(testFamilyID, tt.cmd, tt.flags,
				func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
					got = greq.Data
					if greq.Header.Version != 1 {
						t.Errorf("genetlink version %d, want 1", greq.Header.Version)
					}
					return nil, nil
				}))
			if err := tt.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			var want []byte
			if tt.want != nil {
				want = attrs(t, tt.want)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("request attributes (-want +got):\n%s", diff)
			}
		})
	}
}

// replyServiceAttrs is a service as a 6.1 kernel sends it, PAD attributes
// in the 64-bit stats included.
func replyServiceAttrs(ae *netlink.AttributeEncoder) {
	ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
		tcpKeyAttrs(ae)
		ae.String(uapi.SvcAttrSchedName, "wrr")
		ae.String(uapi.SvcAttrPEName, "sip")
		ae.Bytes(uapi.SvcAttrFlags, flags8(0x03, 0xffffffff))
		ae.Uint32(uapi.SvcAttrTimeout, 300)
		ae.Bytes(uapi.SvcAttrNetmask, be32(0xffff0000))
		ae.Nested(uapi.SvcAttrStats, func(ae *netlink.AttributeEncoder) error {
			ae.Uint32(uapi.StatsConns, 1)
			ae.Uint64(uapi.StatsInBytes, 5)
			return nil
		})
		ae.Nested(uapi.SvcAttrStats64, func(ae *netlink.AttributeEncoder) error {
			ae.Bytes(uapi.StatsPad, nil)
			ae.Uint64(uapi.StatsConns, 1<<40)
			ae.Uint64(uapi.StatsInPkts, 2)
			ae.Uint64(uapi.StatsOutPkts, 3)
			ae.Uint64(uapi.StatsInBytes, 4)
			ae.Uint64(uapi.StatsOutBytes, 5)
			ae.Uint64(uapi.StatsCPS, 6)
			ae.Uint64(uapi.StatsInPPS, 7)
			ae.Uint64(uapi.StatsOutPPS, 8)
			ae.Uint64(uapi.StatsInBPS, 9)
			ae.Uint64(uapi.StatsOutBPS, 10)
			return nil
		})
		ae.Bytes(99, []byte{1, 2, 3}) // an attribute from a future kernel
		return nil
	})
}

var replyService = ServiceEntry{
	Service: Service{
		ServiceKey: tcpKey, Scheduler: "wrr", PE: "sip", Flags: FlagPersistent | FlagHashed,
		Timeout: 300, Netmask: 0xffff0000,
	},
	Stats: Stats{Connections: 1 << 40, PacketsIn: 2, PacketsOut: 3, BytesIn: 4, BytesOut: 5, CPS: 6, PPSIn: 7, PPSOut: 8, BPSIn: 9, BPSOut: 10},
}

func reply(t *testing.T, cmd uint8, fn func(*netlink.AttributeEncoder)) genetlink.Message {
	return genetlink.Message{Header: genetlink.Header{Command: cmd, Version: 1}, Data: attrs(t, fn)}
}

func TestClientServicesDecodes(t *testing.T) {
	fwm := func(ae *netlink.AttributeEncoder) {
		ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
			ae.Uint16(uapi.SvcAttrAF, 10)
			ae.Uint32(uapi.SvcAttrFWMark, 7)
			ae.String(uapi.SvcAttrSchedName, "sh")
			ae.Bytes(uapi.SvcAttrFlags, flags8(0x1a, 0xffffffff))
			ae.Uint32(uapi.SvcAttrTimeout, 0)
			ae.Uint32(uapi.SvcAttrNetmask, 128)
			ae.Nested(uapi.SvcAttrStats, func(ae *netlink.AttributeEncoder) error {
				ae.Uint32(uapi.StatsConns, 11)
				ae.Uint64(uapi.StatsOutBytes, 1<<33)
				return nil
			})
			return nil
		})
	}
	c := testClient(t, genltest.CheckRequest(testFamilyID, uapi.CmdGetService, netlink.Request|netlink.Dump,
		func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) {
			return []genetlink.Message{reply(t, uapi.CmdNewService, replyServiceAttrs), reply(t, uapi.CmdNewService, fwm)}, nil
		}))
	got, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	want := []ServiceEntry{replyService, {
		Service: Service{ServiceKey: fwmKey, Scheduler: "sh", Flags: 0x1a, Netmask: 128},
		// Without STATS64 the 32-bit nest is used.
		Stats: Stats{Connections: 11, BytesOut: 1 << 33},
	}}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
}

func TestClientServicesEmptyIsNotError(t *testing.T) {
	c := testClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) { return nil, nil })
	svcs, err := c.Services()
	if err != nil || len(svcs) != 0 {
		t.Fatalf("Services() = %v, %v; want empty, nil", svcs, err)
	}
	dests, err := c.Destinations(tcpKey)
	if err != nil || len(dests) != 0 {
		t.Fatalf("Destinations() = %v, %v; want empty, nil", dests, err)
	}
}

func TestClientServiceOne(t *testing.T) {
	c := testClient(t, genltest.CheckRequest(testFamilyID, uapi.CmdGetService, netlink.Request,
		func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
			want := attrs(t, func(ae *netlink.AttributeEncoder) {
				ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error { tcpKeyAttrs(ae); return nil })
			})
			if diff := cmp.Diff(want, greq.Data); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			return []genetlink.Message{reply(t, uapi.CmdNewService, replyServiceAttrs)}, nil
		}))
	got, err := c.Service(tcpKey)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(replyService, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("service (-want +got):\n%s", diff)
	}
}

func TestClientDestinationsDecodes(t *testing.T) {
	v6dest := func(ae *netlink.AttributeEncoder) {
		ae.Nested(uapi.CmdAttrDest, func(ae *netlink.AttributeEncoder) error {
			ae.Bytes(uapi.DestAttrAddr, addr16("2001:db8::9"))
			ae.Bytes(uapi.DestAttrPort, be16(443))
			ae.Uint32(uapi.DestAttrFwdMethod, 2)
			ae.Uint32(uapi.DestAttrWeight, 4294967295)
			ae.Uint8(uapi.DestAttrTunType, 2)
			ae.Bytes(uapi.DestAttrTunPort, be16(0))
			ae.Uint16(uapi.DestAttrTunFlags, 1)
			ae.Uint32(uapi.DestAttrUThresh, 100)
			ae.Uint32(uapi.DestAttrLThresh, 50)
			ae.Uint32(uapi.DestAttrActiveConns, 3)
			ae.Uint32(uapi.DestAttrInactConns, 4)
			ae.Uint32(uapi.DestAttrPersistConns, 5)
			ae.Uint16(uapi.DestAttrAddrFamily, 10)
			ae.Nested(uapi.DestAttrStats64, func(ae *netlink.AttributeEncoder) error {
				ae.Uint64(uapi.StatsInPkts, 1<<35)
				return nil
			})
			return nil
		})
	}
	// A pre-3.18 kernel sends no family: the service's applies.
	oldKernelDest := func(ae *netlink.AttributeEncoder) {
		ae.Nested(uapi.CmdAttrDest, func(ae *netlink.AttributeEncoder) error {
			ae.Bytes(uapi.DestAttrAddr, addr16("198.51.100.7"))
			ae.Bytes(uapi.DestAttrPort, be16(80))
			ae.Uint32(uapi.DestAttrFwdMethod, 0)
			ae.Uint32(uapi.DestAttrWeight, 1)
			return nil
		})
	}
	c := testClient(t, genltest.CheckRequest(testFamilyID, uapi.CmdGetDest, netlink.Request|netlink.Dump,
		func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) {
			return []genetlink.Message{reply(t, uapi.CmdNewDest, v6dest), reply(t, uapi.CmdNewDest, oldKernelDest)}, nil
		}))
	got, err := c.Destinations(tcpKey)
	if err != nil {
		t.Fatal(err)
	}
	want := []DestinationEntry{
		{
			Destination: Destination{
				Family: IPv6, Addr: netip.MustParseAddr("2001:db8::9"), Port: 443, ForwardMethod: Tunnel,
				Weight: 4294967295, UpperThreshold: 100, LowerThreshold: 50, TunnelType: TunnelGRE, TunnelFlags: TunnelChecksum,
			},
			ActiveConns: 3, InactiveConns: 4, PersistentConns: 5, Stats: Stats{PacketsIn: 1 << 35},
		},
		{Destination: Destination{Family: IPv4, Addr: netip.MustParseAddr("198.51.100.7"), Port: 80, ForwardMethod: Masquerade, Weight: 1}},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
}

func TestClientInfoTimeoutsDaemons(t *testing.T) {
	c := testClient(t, func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
		switch greq.Header.Command {
		case uapi.CmdGetInfo:
			return []genetlink.Message{reply(t, uapi.CmdSetInfo, func(ae *netlink.AttributeEncoder) {
				ae.Uint32(uapi.InfoAttrVersion, 0x010201)
				ae.Uint32(uapi.InfoAttrConnTabSize, 4096)
			})}, nil
		case uapi.CmdGetConfig:
			return []genetlink.Message{reply(t, uapi.CmdSetConfig, func(ae *netlink.AttributeEncoder) {
				ae.Uint32(uapi.CmdAttrTimeoutTCP, 900)
				ae.Uint32(uapi.CmdAttrTimeoutTCPFin, 120)
				ae.Uint32(uapi.CmdAttrTimeoutUDP, 300)
			})}, nil
		case uapi.CmdGetDaemon:
			daemon := func(state uint32, group func(ae *netlink.AttributeEncoder)) genetlink.Message {
				return reply(t, uapi.CmdNewDaemon, func(ae *netlink.AttributeEncoder) {
					ae.Nested(uapi.CmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
						ae.Uint32(uapi.DaemonAttrState, state)
						ae.String(uapi.DaemonAttrMcastIfn, "eth0")
						ae.Uint32(uapi.DaemonAttrSyncID, 5)
						ae.Uint16(uapi.DaemonAttrSyncMaxLen, 1472)
						ae.Uint16(uapi.DaemonAttrMcastPort, 8848)
						ae.Uint8(uapi.DaemonAttrMcastTTL, 1)
						group(ae)
						return nil
					})
				})
			}
			return []genetlink.Message{
				daemon(1, func(ae *netlink.AttributeEncoder) { ae.Bytes(uapi.DaemonAttrMcastGroup, []byte{224, 0, 0, 81}) }),
				daemon(2, func(ae *netlink.AttributeEncoder) { ae.Bytes(uapi.DaemonAttrMcastGroup6, addr16("ff02::1:2")) }),
			}, nil
		}
		return nil, unix.EOPNOTSUPP
	})
	info, err := c.Info()
	if err != nil || info != (Info{Version: 0x010201, ConnTableSize: 4096}) || info.VersionString() != "1.2.1" {
		t.Errorf("Info() = %+v (%s), %v", info, info.VersionString(), err)
	}
	to, err := c.Timeouts()
	if err != nil || to != (Timeouts{TCP: 900, TCPFin: 120, UDP: 300}) {
		t.Errorf("Timeouts() = %+v, %v", to, err)
	}
	ds, err := c.Daemons()
	if err != nil {
		t.Fatal(err)
	}
	want := []Daemon{
		{State: DaemonMaster, Interface: "eth0", SyncID: 5, MaxLen: 1472, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1},
		{State: DaemonBackup, Interface: "eth0", SyncID: 5, MaxLen: 1472, Group: netip.MustParseAddr("ff02::1:2"), Port: 8848, TTL: 1},
	}
	if diff := cmp.Diff(want, ds, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("daemons (-want +got):\n%s", diff)
	}
}

func TestClientRejectsMalformedReplies(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*netlink.AttributeEncoder)
	}{
		{"short port", func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
				ae.Uint16(uapi.SvcAttrAF, 2)
				ae.Bytes(uapi.SvcAttrPort, []byte{1})
				return nil
			})
		}},
		{"short flags", func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
				ae.Bytes(uapi.SvcAttrFlags, []byte{1, 2, 3, 4})
				return nil
			})
		}},
		{"5-byte address", func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
				ae.Bytes(uapi.SvcAttrAddr, []byte{1, 2, 3, 4, 5})
				return nil
			})
		}},
		{"IPv6 family with a 4-byte address", func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
				ae.Uint16(uapi.SvcAttrAF, 10)
				ae.Bytes(uapi.SvcAttrAddr, []byte{1, 2, 3, 4})
				return nil
			})
		}},
		{"timeout of 2 bytes", func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
				ae.Uint16(uapi.SvcAttrTimeout, 1)
				return nil
			})
		}},
		{"stats counter of 2 bytes", func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
				ae.Nested(uapi.SvcAttrStats64, func(ae *netlink.AttributeEncoder) error {
					ae.Uint16(uapi.StatsConns, 1)
					return nil
				})
				return nil
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) {
				return []genetlink.Message{reply(t, uapi.CmdNewService, tt.fn)}, nil
			})
			_, err := c.Services()
			var ipvsErr *Error
			if !errors.As(err, &ipvsErr) || ipvsErr.Op != OpServices || !errors.Is(err, errInvalidReply) {
				t.Fatalf("Services() error = %v, want an invalid reply for OpServices", err)
			}
		})
	}
}

// TestClientErrors runs every method against every errno the kernel uses and
// checks the sentinel mapping and the raw errno.
func TestClientErrors(t *testing.T) {
	calls := map[Op]func(c *Client) error{
		OpInfo:              func(c *Client) error { _, err := c.Info(); return err },
		OpServices:          func(c *Client) error { _, err := c.Services(); return err },
		OpService:           func(c *Client) error { _, err := c.Service(tcpKey); return err },
		OpAddService:        func(c *Client) error { return c.AddService(Service{ServiceKey: tcpKey}) },
		OpEditService:       func(c *Client) error { return c.EditService(Service{ServiceKey: tcpKey}) },
		OpDeleteService:     func(c *Client) error { return c.DeleteService(tcpKey) },
		OpDestinations:      func(c *Client) error { _, err := c.Destinations(tcpKey); return err },
		OpAddDestination:    func(c *Client) error { return c.AddDestination(tcpKey, Destination{}) },
		OpEditDestination:   func(c *Client) error { return c.EditDestination(tcpKey, Destination{}) },
		OpDeleteDestination: func(c *Client) error { return c.DeleteDestination(tcpKey, Destination{}) },
		OpDaemons:           func(c *Client) error { _, err := c.Daemons(); return err },
		OpStartDaemon:       func(c *Client) error { return c.StartDaemon(Daemon{State: DaemonMaster}) },
		OpStopDaemon:        func(c *Client) error { return c.StopDaemon(Daemon{State: DaemonMaster}) },
		OpTimeouts:          func(c *Client) error { _, err := c.Timeouts(); return err },
		OpSetTimeouts:       func(c *Client) error { return c.SetTimeouts(Timeouts{}) },
		OpZero:              func(c *Client) error { return c.ZeroAll() },
		OpFlush:             func(c *Client) error { return c.Flush() },
	}
	// sentinel expected for (op, errno); ops not listed map to no sentinel.
	expect := func(op Op, errno unix.Errno) error {
		switch errno {
		case unix.EPERM:
			return ErrPermission
		case unix.EEXIST:
			switch op {
			case OpAddService:
				return ErrServiceExists
			case OpAddDestination:
				return ErrDestinationExists
			case OpStartDaemon:
				return ErrDaemonRunning
			}
		case unix.ESRCH:
			if op == OpStopDaemon {
				return ErrDaemonNotRunning
			}
			return ErrServiceNotFound
		case unix.ENOENT:
			switch op {
			case OpAddService, OpEditService:
				return ErrSchedulerNotFound
			case OpEditDestination, OpDeleteDestination:
				return ErrDestinationNotFound
			}
		}
		return nil
	}
	sentinels := []error{ErrNotAvailable, ErrPermission, ErrServiceExists, ErrServiceNotFound, ErrDestinationExists,
		ErrDestinationNotFound, ErrSchedulerNotFound, ErrDaemonRunning, ErrDaemonNotRunning}
	for op, call := range calls {
		for _, errno := range []unix.Errno{unix.EPERM, unix.EEXIST, unix.ESRCH, unix.ENOENT, unix.EINVAL, unix.ERANGE, unix.ENODEV} {
			t.Run(op.String()+"/"+unix.ErrnoName(errno), func(t *testing.T) {
				c := testClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) {
					return nil, errno
				})
				err := call(c)
				var ipvsErr *Error
				if !errors.As(err, &ipvsErr) || ipvsErr.Op != op || ipvsErr.Errno() != errno {
					t.Fatalf("error = %#v, want *Error{Op: %v} with errno %v", err, op, errno)
				}
				if !errors.Is(err, errno) {
					t.Errorf("errors.Is(err, %v) = false", errno)
				}
				want := expect(op, errno)
				for _, s := range sentinels {
					if got := errors.Is(err, s); got != (s == want) {
						t.Errorf("errors.Is(err, %v) = %v, want %v", s, got, s == want)
					}
				}
				if errno == unix.EPERM && !errors.Is(err, os.ErrPermission) {
					t.Errorf("EPERM does not match os.ErrPermission")
				}
			})
		}
	}
}

func TestNewFromConnMissingFamilyIsNotAvailable(t *testing.T) {
	// ip_vs is not loaded: the controller answers ENOENT.
	k := ipvstest.New()
	k.SetLoaded(false)
	_, err := NewFromConn(k.NetlinkConn())
	if !errors.Is(err, ErrNotAvailable) {
		t.Fatalf("NewFromConn error = %v, want ErrNotAvailable", err)
	}
}

func TestClientServicesDropsRepeatedEntries(t *testing.T) {
	c := testClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) {
		m := reply(t, uapi.CmdNewService, replyServiceAttrs)
		return []genetlink.Message{m, m}, nil
	})
	got, err := c.Services()
	if err != nil || len(got) != 1 {
		t.Fatalf("Services() = %d entries, %v; want the repeated service once", len(got), err)
	}
}

// The errors read as sentences naming the operation and its subject, and
// still match the sentinels and the errno.
func TestErrorMessages(t *testing.T) {
	c, k := kernelClient(t, nil, Config{})
	vip := ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.10"), Port: 80}
	rs := Destination{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80, Weight: 1}
	if err := c.AddService(Service{ServiceKey: vip, Scheduler: "rr"}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddDestination(vip, rs); err != nil {
		t.Fatal(err)
	}
	other := ServiceKey{Protocol: UDP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 53}
	fwm := ServiceKey{Family: IPv6, FWMark: 5}
	heavy := rs
	heavy.Addr, heavy.Weight = netip.MustParseAddr("198.51.100.2"), 1<<31
	tests := []struct {
		call     func() error
		want     string
		sentinel error
	}{
		{func() error {
			_, err := c.Service(ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.10"), Port: 81})
			return err
		},
			"ipvs: get service 192.0.2.10:81/tcp: no such service", ErrServiceNotFound},
		{func() error { return c.AddService(Service{ServiceKey: vip, Scheduler: "rr"}) },
			"ipvs: add service 192.0.2.10:80/tcp: service already exists", ErrServiceExists},
		{func() error { return c.AddService(Service{ServiceKey: other, Scheduler: "nosuch", Netmask: 128}) },
			"ipvs: add service [2001:db8::1]:53/udp: scheduler or persistence engine not found", ErrSchedulerNotFound},
		{func() error { return c.DeleteService(fwm) }, "ipvs: delete service fwmark 5/inet6: no such service", ErrServiceNotFound},
		{func() error { return c.AddDestination(vip, rs) },
			"ipvs: add destination 198.51.100.1:80 to 192.0.2.10:80/tcp: destination already exists", ErrDestinationExists},
		{func() error { return c.AddDestination(vip, heavy) },
			"ipvs: add destination 198.51.100.2:80 to 192.0.2.10:80/tcp: numerical result out of range", unix.ERANGE},
		{func() error { return c.EditDestination(vip, heavy) },
			"ipvs: edit destination 198.51.100.2:80 of 192.0.2.10:80/tcp: numerical result out of range", unix.ERANGE},
		{func() error { d := rs; d.Port = 81; return c.DeleteDestination(vip, d) },
			"ipvs: delete destination 198.51.100.1:81 from 192.0.2.10:80/tcp: no such destination", ErrDestinationNotFound},
		{func() error { return c.AddDestination(other, rs) },
			"ipvs: add destination 198.51.100.1:80 to [2001:db8::1]:53/udp: no such service", ErrServiceNotFound},
		{func() error { return c.ZeroService(other) }, "ipvs: zero counters of [2001:db8::1]:53/udp: no such service", ErrServiceNotFound},
		{func() error { return c.StopDaemon(Daemon{State: DaemonBackup}) }, "ipvs: stop daemon backup: no sync daemon is running", ErrDaemonNotRunning},
		{func() error { return c.StartDaemon(Daemon{State: DaemonMaster, Interface: "nosuch0"}) },
			"ipvs: start daemon master on nosuch0: no such device", unix.ENODEV},
		{func() error { return c.SetTimeouts(Timeouts{TCP: 1 << 31}) }, "ipvs: set timeouts: invalid argument", unix.EINVAL},
		{func() error { k.FailNext(uapi.CmdFlush, unix.EPERM); return c.Flush() }, "ipvs: flush: permission denied", ErrPermission},
		{func() error { return &Error{Op: OpDial, Err: needsLinux{"darwin"}} },
			"ipvs: dial: IP Virtual Server needs Linux; this is darwin", ErrNotAvailable},
		{func() error { return &Error{Op: Op(99)} }, "ipvs: op(99): unknown error", nil},
	}
	for _, tt := range tests {
		err := tt.call()
		if err == nil || err.Error() != tt.want {
			t.Errorf("error %q, want %q", err, tt.want)
			continue
		}
		if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
			t.Errorf("%q does not match %v", err, tt.sentinel)
		}
	}
	k.SetLoaded(false)
	_, err := NewFromConn(k.NetlinkConn())
	if want := `ipvs: dial: IP Virtual Server is not available in this kernel`; err == nil || err.Error() != want {
		t.Errorf("dial without ip_vs: %q, want %q", err, want)
	}
}

// A kernel that never answers makes requests fail after the receive
// timeout instead of hanging; when it answers again, so does the client.
func TestClientReceiveTimeout(t *testing.T) {
	c, k := kernelClient(t, nil, Config{ReceiveTimeout: 50 * time.Millisecond})
	k.SetUnresponsive(true)
	calls := map[Op]func() error{
		OpInfo:       func() error { _, err := c.Info(); return err },
		OpServices:   func() error { _, err := c.Services(); return err },
		OpAddService: func() error { return c.AddService(Service{ServiceKey: tcpKey, Scheduler: "rr"}) },
	}
	for op, call := range calls {
		start := time.Now()
		err := call()
		var e *Error
		if !errors.As(err, &e) || e.Op != op || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%v: error %v, want a timeout", op, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%v: failed after %v", op, d)
		}
	}
	if _, err := c.Info(); err == nil || err.Error() != "ipvs: get info: no reply from the kernel within 50ms: netlink receive: i/o timeout" {
		t.Errorf("timeout message: %v", err)
	}
	k.SetUnresponsive(false)
	if err := c.AddService(Service{ServiceKey: tcpKey, Scheduler: "rr"}); err != nil {
		t.Fatalf("after the kernel recovered: %v", err)
	}
	if svcs, err := c.Services(); err != nil || len(svcs) != 1 {
		t.Errorf("Services() = %v, %v", svcs, err)
	}

	// Without a limit, requests still work.
	c, _ = kernelClient(t, nil, Config{ReceiveTimeout: -1})
	if _, err := c.Info(); err != nil {
		t.Errorf("Info without a timeout: %v", err)
	}
}

// Replies to requests the client abandoned are recognised by their
// sequence numbers and skipped.
func TestClientSkipsStaleReplies(t *testing.T) {
	c, _ := kernelClient(t, nil, Config{})
	stale := func(cmd uint8, flags netlink.HeaderFlags, attrs requestAttrs) {
		t.Helper()
		m, err := c.message(cmd, flags, &attrs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.nl.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	svc := Service{ServiceKey: tcpKey, Scheduler: "rr"}
	stale(uapi.CmdGetInfo, 0, requestAttrs{})                                   // a reply
	stale(uapi.CmdDelService, netlink.Acknowledge, requestAttrs{key: &tcpKey})  // an error
	stale(uapi.CmdGetService, netlink.Dump, requestAttrs{})                     // an empty dump
	stale(uapi.CmdNewService, netlink.Acknowledge, requestAttrs{service: &svc}) // an ACK
	if err := c.AddService(svc); !errors.Is(err, ErrServiceExists) {
		t.Fatalf("AddService: %v, want ErrServiceExists", err)
	}
	stale(uapi.CmdGetInfo, 0, requestAttrs{})
	stale(uapi.CmdDelService, netlink.Acknowledge, requestAttrs{key: &fwmKey})
	if svcs, err := c.Services(); err != nil || len(svcs) != 1 {
		t.Errorf("Services() = %v, %v; want the one service", svcs, err)
	}
	stale(uapi.CmdGetService, netlink.Dump, requestAttrs{})
	if info, err := c.Info(); err != nil || info.Version == 0 {
		t.Errorf("Info() = %v, %v", info, err)
	}
	stale(uapi.CmdDelService, netlink.Acknowledge, requestAttrs{key: &fwmKey})
	b := c.NewBatch()
	b.DeleteService(fwmKey)
	b.ZeroAll()
	if results, err := b.Send(); err != nil || !errors.Is(results[0], ErrServiceNotFound) || results[1] != nil {
		t.Errorf("Send() = %v, %v", results, err)
	}
}

// A key without a family takes its address's, or IPv4 for a fwmark; a
// destination without one takes its address's, or its service's.
func TestClientFamilyDefaults(t *testing.T) {
	var got [][]byte
	c := testClient(t, func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
		got = append(got, greq.Data)
		return nil, nil
	})
	v6 := ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 80}
	fwm := ServiceKey{FWMark: 3}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.AddService(Service{ServiceKey: v6, Scheduler: "rr", Netmask: 64}))
	must(c.DeleteService(fwm))
	must(c.AddDestination(tcpKey, Destination{Addr: netip.MustParseAddr("2001:db8::9"), Port: 80, ForwardMethod: Tunnel}))
	must(c.DeleteDestination(v6, Destination{Port: 80}))
	want := [][]byte{
		attrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
				ae.Uint16(uapi.SvcAttrAF, 10)
				ae.Uint16(uapi.SvcAttrProtocol, 6)
				ae.Bytes(uapi.SvcAttrAddr, addr16("2001:db8::1"))
				ae.Bytes(uapi.SvcAttrPort, be16(80))
				ae.String(uapi.SvcAttrSchedName, "rr")
				ae.Bytes(uapi.SvcAttrFlags, flags8(0, 0xffffffff))
				ae.Uint32(uapi.SvcAttrTimeout, 0)
				ae.Uint32(uapi.SvcAttrNetmask, 64) // a prefix length, in host order
				return nil
			})
		}),
		attrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
				ae.Uint16(uapi.SvcAttrAF, 2)
				ae.Uint32(uapi.SvcAttrFWMark, 3)
				return nil
			})
		}),
		attrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error { tcpKeyAttrs(ae); return nil })
			ae.Nested(uapi.CmdAttrDest, func(ae *netlink.AttributeEncoder) error {
				ae.Uint16(uapi.DestAttrAddrFamily, 10)
				ae.Bytes(uapi.DestAttrAddr, addr16("2001:db8::9"))
				ae.Bytes(uapi.DestAttrPort, be16(80))
				ae.Uint32(uapi.DestAttrFwdMethod, 2)
				ae.Uint32(uapi.DestAttrWeight, 0)
				ae.Uint8(uapi.DestAttrTunType, 0)
				ae.Bytes(uapi.DestAttrTunPort, be16(0))
				ae.Uint16(uapi.DestAttrTunFlags, 0)
				ae.Uint32(uapi.DestAttrUThresh, 0)
				ae.Uint32(uapi.DestAttrLThresh, 0)
				return nil
			})
		}),
		attrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
				ae.Uint16(uapi.SvcAttrAF, 10)
				ae.Uint16(uapi.SvcAttrProtocol, 6)
				ae.Bytes(uapi.SvcAttrAddr, addr16("2001:db8::1"))
				ae.Bytes(uapi.SvcAttrPort, be16(80))
				return nil
			})
			ae.Nested(uapi.CmdAttrDest, func(ae *netlink.AttributeEncoder) error {
				ae.Uint16(uapi.DestAttrAddrFamily, 10)
				ae.Bytes(uapi.DestAttrAddr, make([]byte, 16))
				ae.Bytes(uapi.DestAttrPort, be16(80))
				return nil
			})
		}),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// Each Batch method sends exactly what the Client method does.
func TestBatchRequestsMatchClientMethods(t *testing.T) {
	var seen [][]byte
	c := testClient(t, func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
		seen = append(seen, append([]byte{greq.Header.Command}, greq.Data...))
		return nil, nil
	})
	svc := Service{ServiceKey: tcpKey, Scheduler: "wrr", PE: "sip", Flags: FlagPersistent, Timeout: 60, Netmask: 0xffffff00}
	d := Destination{Addr: netip.MustParseAddr("198.51.100.3"), Port: 8080, ForwardMethod: Route, Weight: 5, UpperThreshold: 9}
	daemon := Daemon{State: DaemonMaster, Interface: "eth0", SyncID: 4, Group: netip.MustParseAddr("239.0.0.1"), Port: 8000, TTL: 2, MaxLen: 1000}
	pairs := []struct {
		single func() error
		batch  func(b *Batch)
	}{
		{func() error { return c.AddService(svc) }, func(b *Batch) { b.AddService(svc) }},
		{func() error { return c.EditService(svc) }, func(b *Batch) { b.EditService(svc) }},
		{func() error { return c.DeleteService(fwmKey) }, func(b *Batch) { b.DeleteService(fwmKey) }},
		{func() error { return c.AddDestination(tcpKey, d) }, func(b *Batch) { b.AddDestination(tcpKey, d) }},
		{func() error { return c.EditDestination(tcpKey, d) }, func(b *Batch) { b.EditDestination(tcpKey, d) }},
		{func() error { return c.DeleteDestination(tcpKey, d) }, func(b *Batch) { b.DeleteDestination(tcpKey, d) }},
		{func() error { return c.StartDaemon(daemon) }, func(b *Batch) { b.StartDaemon(daemon) }},
		{func() error { return c.StopDaemon(daemon) }, func(b *Batch) { b.StopDaemon(daemon) }},
		{func() error { return c.SetTimeouts(Timeouts{TCP: 5, UDP: 7}) }, func(b *Batch) { b.SetTimeouts(Timeouts{TCP: 5, UDP: 7}) }},
		{func() error { return c.ZeroService(tcpKey) }, func(b *Batch) { b.ZeroService(tcpKey) }},
		{c.ZeroAll, func(b *Batch) { b.ZeroAll() }},
		{c.Flush, func(b *Batch) { b.Flush() }},
	}
	b := c.NewBatch()
	for _, p := range pairs {
		if err := p.single(); err != nil {
			t.Fatal(err)
		}
		p.batch(b)
	}
	single := seen
	seen = nil
	if results, err := b.Send(); err != nil || slices.ContainsFunc(results, func(e error) bool { return e != nil }) {
		t.Fatalf("Send() = %v, %v", results, err)
	}
	if diff := cmp.Diff(single, seen); diff != "" {
		t.Errorf("batch requests differ from single ones (-single +batch):\n%s", diff)
	}
}

// Dumps larger than a read come in many chunks; all arrive, in order.
func TestClientLargeDumps(t *testing.T) {
	c, _ := kernelClient(t, &ipvstest.SocketConfig{ReadSize: 4096}, Config{})
	b := c.NewBatch()
	var want []DestinationEntry
	for i := range 2000 {
		k := tcpKey
		if i > 0 {
			k.Port = uint16(1000 + i)
		}
		b.AddService(Service{ServiceKey: k, Scheduler: "rr", Netmask: 0xffffffff})
		if i < 1000 {
			d := Destination{Family: IPv4, Addr: netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), Port: 80, Weight: 1}
			b.AddDestination(tcpKey, d)
			want = append([]DestinationEntry{{Destination: d}}, want...) // newest first
		}
	}
	results, err := b.Send()
	if i := slices.IndexFunc(results, func(e error) bool { return e != nil }); err != nil || i >= 0 {
		t.Fatalf("Send(): request %d failed, error %v", i, err)
	}
	svcs, err := c.Services()
	if err != nil || len(svcs) != 2000 {
		t.Fatalf("Services() = %d services, %v", len(svcs), err)
	}
	got, err := c.Destinations(tcpKey)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
}
