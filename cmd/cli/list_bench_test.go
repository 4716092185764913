package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"testing"

	"github.com/lvsadm/lvsadm/format"
	"github.com/lvsadm/lvsadm/ipvs"
)

// BenchmarkPrintAll is what -Ln and -Sn of the benchmark's 10,000 x 10 table
// do after the service dump: read /proc/net/ip_vs (here from memory),
// match it to the services, sort and print.
func BenchmarkPrintAll(b *testing.B) {
	var proc bytes.Buffer
	proc.WriteString("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n")
	svcs := make([]ipvs.ServiceEntry, 10000)
	for i := range svcs {
		// Kernel hash order: scattered addresses.
		x := uint32(i) * 2654435761 >> 16
		a := netip.AddrFrom4([4]byte{198, 18, byte(x >> 8), byte(x)})
		svcs[i].ServiceKey = ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: a, Port: 80}
		svcs[i].Scheduler, svcs[i].Netmask = "rr", 0xffffffff
		fmt.Fprintf(&proc, "TCP  C612%04X:0050 rr  \n", x)
		for j := range 10 {
			n := (i*10 + j) % 64000
			fmt.Fprintf(&proc, "  -> C613%02X%02X:0050      Masq    1      0          0         \n", n/250, n%250+1)
		}
	}
	for _, bc := range []struct {
		name  string
		rules bool
	}{{"list", false}, {"save", true}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(nil, io.Discard, io.Discard)
			e.procIPVS = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(proc.Bytes())), nil }
			o := format.Options{Numeric: true}
			b.SetBytes(int64(proc.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if out := e.printAll(svcs, e.readProcIPVS(), o, bc.rules, true); out.status != 0 {
					b.Fatal(out)
				}
				e.stdout.Flush()
			}
		})
	}
}
