package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"testing"

	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// BenchmarkListAll is -Ln and -Sn of a 10,000 x 10 table: the service dump
// (from the fake kernel), /proc/net/ip_vs (from memory), sorting and
// printing.
func BenchmarkListAll(b *testing.B) {
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.NetlinkConn())
	if err != nil {
		b.Fatal(err)
	}
	batch := c.NewBatch()
	for i := range 10000 {
		// Scattered addresses, as in the kernel's hash order.
		x := uint32(i) * 2654435761 >> 16
		k := ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{198, 18, byte(x >> 8), byte(x)}), Port: 80}
		batch.AddService(ipvs.Service{ServiceKey: k, Scheduler: "rr", Netmask: 0xffffffff})
	}
	if _, err := batch.Send(); err != nil {
		b.Fatal(err)
	}
	svcs, err := c.Services()
	if err != nil {
		b.Fatal(err)
	}
	c.Close()
	var proc bytes.Buffer
	proc.WriteString("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n")
	for i, s := range svcs {
		a := s.Addr.As4()
		fmt.Fprintf(&proc, "TCP  %02X%02X%02X%02X:0050 rr  \n", a[0], a[1], a[2], a[3])
		for j := range 10 {
			n := (i*10 + j) % 64000
			fmt.Fprintf(&proc, "  -> C613%02X%02X:0050      Masq    1      0          0         \n", n/250, n%250+1)
		}
	}
	for _, bc := range []struct {
		name, opt string
	}{{"list", "-Ln"}, {"save", "-Sn"}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(nil, io.Discard, io.Discard)
			e.dial = func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.NetlinkConn()) }
			e.procIPVS = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(proc.Bytes())), nil }
			if status, ok := e.init(); !ok {
				b.Fatal(status)
			}
			inv, err := e.parser().Parse("ipvsadm", []string{bc.opt})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(proc.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if out := e.list(inv); out.status != 0 {
					b.Fatal(out)
				}
				e.stdout.Flush()
			}
		})
	}
}
