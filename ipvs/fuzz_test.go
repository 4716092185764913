package ipvs

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"
)

// decoders lists every decode function, so each fuzz target below decodes
// what its name says.
var decoders = map[string]func([]byte) error{
	"service":      func(b []byte) error { _, err := decodeService(b); return err },
	"destination":  func(b []byte) error { _, err := decodeDestination(b, IPv4); return err },
	"destination6": func(b []byte) error { _, err := decodeDestination(b, IPv6); return err },
	"daemon":       func(b []byte) error { _, err := decodeDaemon(b); return err },
	"stats":        func(b []byte) error { _, err := decodeStats(b, false); return err },
	"stats64":      func(b []byte) error { _, err := decodeStats(b, true); return err },
}

func fuzzDecoder(f *testing.F, name string) {
	decode := decoders[name]
	// Seeds: a valid reply nest and some truncations of it.
	seed := attrs(f, func(ae *netlink.AttributeEncoder) { replyServiceAttrs(ae) })
	ad, _ := netlink.NewAttributeDecoder(seed)
	for ad.Next() {
		inner := ad.Bytes()
		f.Add(inner)
		f.Add(inner[:len(inner)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{4, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = decode(b) // must not panic
	})
}

func FuzzDecodeService(f *testing.F)      { fuzzDecoder(f, "service") }
func FuzzDecodeDestination(f *testing.F)  { fuzzDecoder(f, "destination") }
func FuzzDecodeDestination6(f *testing.F) { fuzzDecoder(f, "destination6") }
func FuzzDecodeDaemon(f *testing.F)       { fuzzDecoder(f, "daemon") }
func FuzzDecodeStats(f *testing.F)        { fuzzDecoder(f, "stats") }
func FuzzDecodeStats64(f *testing.F)      { fuzzDecoder(f, "stats64") }

// encodeNest encodes what fn writes, as the contents of one nest.
func encodeNest(t *testing.T, fn func(ae *attrList)) []byte {
	t.Helper()
	ae := newAttrs(0, 0)
	fn(&ae)
	if ae.tooLong {
		t.Fatal(errAttrTooLong)
	}
	b, err := netlink.MarshalAttributes(ae.list)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// addrFor makes an address of family v6 from fuzz bytes.
func addrFor(v6 bool, raw []byte) netip.Addr {
	var b [16]byte
	copy(b[:], raw)
	if v6 {
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}

// cleanName is what a NUL-terminated name attribute can carry.
func cleanName(s string) string { return strings.ReplaceAll(s, "\x00", "") }

// FuzzServiceRoundTrip: a service the client encodes decodes to itself.
func FuzzServiceRoundTrip(f *testing.F) {
	f.Add(false, uint16(6), []byte{192, 0, 2, 1}, uint16(80), uint32(0), "rr", "", uint32(1), uint32(300), uint32(0xffffff00))
	f.Add(true, uint16(17), []byte{0x20, 1, 0xd, 0xb8}, uint16(53), uint32(0), "wlc", "sip", uint32(0x3d), uint32(0), uint32(64))
	f.Add(true, uint16(0), []byte{}, uint16(0), uint32(7), "sh", "", uint32(0x18), uint32(1), uint32(128))
	f.Fuzz(func(t *testing.T, v6 bool, proto uint16, addr []byte, port uint16, fwmark uint32, sched, pe string, flags, timeout, netmask uint32) {
		s := Service{
			ServiceKey: ServiceKey{Family: IPv4, Protocol: Protocol(proto), Addr: addrFor(v6, addr), Port: port, FWMark: fwmark},
			Scheduler:  cleanName(sched), PE: cleanName(pe), Flags: ServiceFlags(flags), Timeout: timeout, Netmask: netmask,
		}
		if v6 {
			s.Family = IPv6
		}
		if s.IsFWMark() {
			s.Protocol, s.Addr, s.Port = 0, netip.Addr{}, 0
		}
		got, err := decodeService(encodeNest(t, func(ae *attrList) { encodeService(ae, &s) }))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ServiceEntry{Service: s}, got, cmpAddr); diff != "" {
			t.Errorf("round trip (-sent +decoded):\n%s", diff)
		}
	})
}

// FuzzDestinationRoundTrip: a destination the client encodes decodes to
// itself.
func FuzzDestinationRoundTrip(f *testing.F) {
	f.Add(false, []byte{198, 51, 100, 1}, uint16(80), uint32(0), uint32(1), uint32(0), uint32(0), uint8(0), uint16(0), uint16(0))
	f.Add(true, []byte{0x20, 1, 0xd, 0xb8, 9: 5}, uint16(443), uint32(2), uint32(1<<31-1), uint32(10), uint32(5), uint8(1), uint16(6080), uint16(2))
	f.Fuzz(func(t *testing.T, v6 bool, addr []byte, port uint16, fwd, weight, upper, lower uint32, tunType uint8, tunPort, tunFlags uint16) {
		d := Destination{
			Family: IPv4, Addr: addrFor(v6, addr), Port: port, ForwardMethod: ForwardMethod(fwd), Weight: weight,
			UpperThreshold: upper, LowerThreshold: lower, TunnelType: TunnelType(tunType), TunnelPort: tunPort, TunnelFlags: TunnelFlags(tunFlags),
		}
		if v6 {
			d.Family = IPv6
		}
		got, err := decodeDestination(encodeNest(t, func(ae *attrList) { encodeDestination(ae, &tcpKey, &d) }), IPv4)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(DestinationEntry{Destination: d}, got, cmpAddr); diff != "" {
			t.Errorf("round trip (-sent +decoded):\n%s", diff)
		}
	})
}

// FuzzDaemonRoundTrip: a daemon the client encodes decodes to itself.
func FuzzDaemonRoundTrip(f *testing.F) {
	f.Add(uint32(1), "eth0", uint32(5), uint16(1400), false, []byte{239, 1, 2, 3}, uint16(8848), uint8(1))
	f.Add(uint32(2), "lo", uint32(0), uint16(0), true, []byte{0xff, 2, 15: 1}, uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, state uint32, ifname string, syncID uint32, maxLen uint16, v6 bool, group []byte, port uint16, ttl uint8) {
		d := Daemon{State: DaemonState(state), Interface: cleanName(ifname), SyncID: syncID, MaxLen: maxLen, Port: port, TTL: ttl}
		if len(group) > 0 {
			d.Group = addrFor(v6, group)
		}
		if d.Group.Is6() && d.Group.IsUnspecified() {
			d.Group = netip.Addr{} // not sent distinguishably from "unset"
		}
		got, err := decodeDaemon(encodeNest(t, func(ae *attrList) { encodeDaemon(ae, &d) }))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(d, got, cmpAddr); diff != "" {
			t.Errorf("round trip (-sent +decoded):\n%s", diff)
		}
	})
}
