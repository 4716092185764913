package hostsetup

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docMAC is from the range RFC 7042 §2.1.2 reserves for documentation.
var docMAC = net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x53, 0x01}

func TestGratuitousARPLayout(t *testing.T) {
	got, err := gratuitousARP(docMAC, netip.MustParseAddr("192.0.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		// Ethernet II: broadcast destination, our source, EtherType ARP.
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,
		0x08, 0x06,
		// RFC 826: hardware type Ethernet (1), protocol type IPv4 (0x0800),
		// hardware length 6, protocol length 4, opcode request (1).
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		// Sender hardware and protocol address: ours, the VIP.
		0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, 192, 0, 2, 10,
		// Target hardware address zero, target protocol address the VIP
		// again (RFC 5227 §2.3 ARP Announcement).
		0, 0, 0, 0, 0, 0, 192, 0, 2, 10,
		// Padding to the 60-byte Ethernet minimum.
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("gratuitous ARP frame mismatch (-want +got):\n%s", diff)
	}
}

func TestUnsolicitedNALayout(t *testing.T) {
	header := func(flags byte, checksum [2]byte) []byte {
		return []byte{
			// Ethernet II: all-nodes multicast 33:33:00:00:00:01 (RFC 2464 §7),
			// our source, EtherType IPv6.
			0x33, 0x33, 0x00, 0x00, 0x00, 0x01,
			0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,
			0x86, 0xdd,
			// IPv6: version 6, payload length 32, next header ICMPv6 (58),
			// hop limit 255 (RFC 4861 §7.1.2).
			0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 58, 255,
			// Source: the VIP.
			0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
			// Destination: ff02::1.
			0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
			// ICMPv6 neighbour advertisement (136), code 0, checksum.
			136, 0, checksum[0], checksum[1],
			// R|S|O flags and 29 reserved bits (RFC 4861 §4.4).
			flags, 0, 0, 0,
			// Target address: the VIP.
			0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
			// Option 2 (target link-layer address), length 1 (8 bytes).
			2, 1, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,
		}
	}
	// The checksums were computed apart from this code (RFC 1071 sum over
	// the RFC 8200 §8.1 pseudo-header and the message, by a short Python
	// script), so the test does not check the function against itself.
	tests := []struct {
		name   string
		router bool
		want   []byte
	}{
		{"host: Override only", false, header(0x20, [2]byte{0x4a, 0x0c})},
		{"router: Router and Override", true, header(0xa0, [2]byte{0xca, 0x0b})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unsolicitedNA(docMAC, netip.MustParseAddr("2001:db8::10"), tt.router)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("neighbour advertisement mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A receiver verifies the checksum by summing the pseudo-header and the whole
// message including the checksum: the result must be 0xffff, i.e. our
// function returns 0 over it.
func TestUnsolicitedNAChecksumVerifies(t *testing.T) {
	ip := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	f, err := unsolicitedNA(docMAC, ip, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := icmpv6Checksum(ip.As16(), allNodes.As16(), f[54:]); got != 0 {
		t.Errorf("checksum over the finished message = %#04x, want 0", got)
	}
}

func TestFrameBuildersRefuseWrongInput(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	mapped := netip.MustParseAddr("::ffff:192.0.2.1")
	short := net.HardwareAddr{1, 2, 3}
	tests := []struct {
		name  string
		build func() ([]byte, error)
	}{
		{"ARP for IPv6", func() ([]byte, error) { return gratuitousARP(docMAC, v6) }},
		{"ARP for mapped IPv4", func() ([]byte, error) { return gratuitousARP(docMAC, mapped) }},
		{"ARP with short MAC", func() ([]byte, error) { return gratuitousARP(short, v4) }},
		{"NA for IPv4", func() ([]byte, error) { return unsolicitedNA(docMAC, v4, false) }},
		{"NA for mapped IPv4", func() ([]byte, error) { return unsolicitedNA(docMAC, mapped, false) }},
		{"NA with short MAC", func() ([]byte, error) { return unsolicitedNA(short, v6, false) }},
	}
	for _, tt := range tests {
		if _, err := tt.build(); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
