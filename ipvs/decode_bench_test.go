package ipvs

import (
	"testing"

	"github.com/mdlayher/netlink"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// kernelDestReply is one destination-dump reply as a 6.1 kernel fills it:
// ten destinations with every attribute and both statistics nests.
func kernelDestReply(tb testing.TB) []byte {
	stats := func(ae *netlink.AttributeEncoder, wide bool) {
		for typ := uint16(uapi.StatsConns); typ <= uapi.StatsOutBPS; typ++ {
			if wide || typ == uapi.StatsInBytes || typ == uapi.StatsOutBytes {
				ae.Uint64(typ, uint64(typ)<<20)
			} else {
				ae.Uint32(typ, uint32(typ)<<10)
			}
		}
	}
	return attrs(tb, func(ae *netlink.AttributeEncoder) {
		for i := 0; i < 10; i++ {
			ae.Nested(uapi.CmdAttrDest, func(ae *netlink.AttributeEncoder) error {
				ae.Bytes(uapi.DestAttrAddr, addr16("198.51.100.7"))
				ae.Bytes(uapi.DestAttrPort, be16(80))
				ae.Uint32(uapi.DestAttrFwdMethod, 0)
				ae.Uint32(uapi.DestAttrWeight, 1)
				ae.Uint8(uapi.DestAttrTunType, 0)
				ae.Bytes(uapi.DestAttrTunPort, be16(0))
				ae.Uint16(uapi.DestAttrTunFlags, 0)
				ae.Uint32(uapi.DestAttrUThresh, 0)
				ae.Uint32(uapi.DestAttrLThresh, 0)
				ae.Uint32(uapi.DestAttrActiveConns, 3)
				ae.Uint32(uapi.DestAttrInactConns, 4)
				ae.Uint32(uapi.DestAttrPersistConns, 5)
				ae.Nested(uapi.DestAttrStats, func(ae *netlink.AttributeEncoder) error { stats(ae, false); return nil })
				ae.Nested(uapi.DestAttrStats64, func(ae *netlink.AttributeEncoder) error { stats(ae, true); return nil })
				ae.Uint16(uapi.DestAttrAddrFamily, 2)
				return nil
			})
		}
	})
}

func BenchmarkDecodeDestinationReply(b *testing.B) {
	payload := kernelDestReply(b)
	var dst []DestinationEntry
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = appendDestinations(dst[:0], payload, IPv4); err != nil || len(dst) != 10 {
			b.Fatal(len(dst), err)
		}
	}
}

// TestDecodeDestinationPrefersStats64 checks the lazily decoded statistics:
// with both nests the 64-bit one wins, whatever the order.
func TestDecodeDestinationPrefersStats64(t *testing.T) {
	payload := kernelDestReply(t)
	dst, err := appendDestinations(nil, payload, IPv4)
	if err != nil || len(dst) != 10 {
		t.Fatal(len(dst), err)
	}
	want := Stats{Connections: 1 << 20, PacketsIn: 2 << 20, PacketsOut: 3 << 20, BytesIn: 4 << 20, BytesOut: 5 << 20,
		CPS: 6 << 20, PPSIn: 7 << 20, PPSOut: 8 << 20, BPSIn: 9 << 20, BPSOut: 10 << 20}
	if dst[9].Stats != want || dst[9].ActiveConns != 3 || dst[9].Port != 80 {
		t.Errorf("decoded %+v", dst[9])
	}
}
