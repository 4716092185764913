package procipvs

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lvsadm/lvsadm/ipvs"
)

const header = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"

var addrEqual = cmp.Comparer(func(x, y netip.Addr) bool { return x == y })

// testdata/proc-net-ip_vs.txt is /proc/net/ip_vs as the VM's 6.1 kernel
// printed it (counters and the last weight edited to be non-trivial).
func TestParse(t *testing.T) {
	f, err := os.Open("testdata/proc-net-ip_vs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	var gotDests [][]ipvs.DestinationEntry
	for i := range got {
		d, err := got[i].AppendDests(nil)
		if err != nil {
			t.Fatal(err)
		}
		gotDests = append(gotDests, d)
	}
	a := netip.MustParseAddr
	d := func(addr string, port uint16, fwd ipvs.ForwardMethod, w, act, inact uint32) ipvs.DestinationEntry {
		fam := ipvs.IPv4
		if a(addr).Is6() {
			fam = ipvs.IPv6
		}
		return ipvs.DestinationEntry{Destination: ipvs.Destination{Family: fam, Addr: a(addr), Port: port, ForwardMethod: fwd, Weight: w}, ActiveConns: act, InactiveConns: inact}
	}
	want := []Service{
		{Protocol: ipvs.SCTP, Addr: a("192.0.2.3"), Port: 9, Scheduler: "wlc"},
		{Protocol: ipvs.UDP, Addr: a("192.0.2.2"), Port: 53, Scheduler: "sh"},
		{Protocol: ipvs.TCP, Addr: a("2001:db8::1"), Port: 443, Scheduler: "wlc"},
		{Protocol: ipvs.TCP, Addr: a("192.0.2.1"), Port: 80, Scheduler: "rr"},
		{FWMark: 3000000000, Scheduler: "wlc"},
		{FWMark: 5, Scheduler: "mh"},
	}
	wantDests := [][]ipvs.DestinationEntry{nil, nil,
		{d("198.51.100.7", 443, ipvs.Tunnel, 1, 0, 0), d("2001:db8::9", 443, ipvs.Masquerade, 1, 0, 0)},
		{d("2001:db8::5", 80, ipvs.Tunnel, 1, 0, 0), d("198.51.100.2", 80, ipvs.Tunnel, 1, 0, 0), d("198.51.100.1", 8080, ipvs.Masquerade, 3, 7, 12)},
		nil,
		{d("198.51.100.3", 0, ipvs.Route, 2147483647, 0, 0)},
	}
	if diff := cmp.Diff(want, got, addrEqual, cmpopts.IgnoreUnexported(Service{})); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantDests, gotDests, addrEqual); diff != "" {
		t.Errorf("AppendDests (-want +got):\n%s", diff)
	}
	fwm6 := ipvs.ServiceEntry{Service: ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: 3000000000}, Scheduler: "wlc"}}
	if !got[4].Matches(&fwm6) || got[3].Matches(&fwm6) {
		t.Errorf("Matches misidentifies the fwmark service")
	}
	tcp := ipvs.ServiceEntry{Service: ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: a("192.0.2.1"), Port: 80}, Scheduler: "rr"}}
	if !got[3].Matches(&tcp) || got[2].Matches(&tcp) {
		t.Errorf("Matches misidentifies the TCP service")
	}
	tcp.Scheduler = "wrr"
	if got[3].Matches(&tcp) {
		t.Errorf("Matches ignores the scheduler")
	}
}

// parseAll reads text and every service's destinations.
func parseAll(text string) error {
	svcs, err := Read(strings.NewReader(text))
	for i := 0; err == nil && i < len(svcs); i++ {
		_, err = svcs[i].AppendDests(nil)
	}
	return err
}

func TestReadRejectsGarbage(t *testing.T) {
	for _, body := range []string{
		"  -> C6336401:1F90      Masq    3      0          0\n",
		"TCP  C00002:0050 rr\n",
		"XYZ  C0000201:0050 rr\n",
		"TCP  C0000201:0050\n",
		"TCP  C0000201 rr\n",
		"TCP  C0000201:0050 rr",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    3      0          0",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Warp    3      0          0\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    -3      0          0\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    +3      0          0\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    3      0          0          7\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    3      0\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    3      0          4294967296\n",
		"TCP  [2001:db8::1%eth0]:0050 rr\n",
		"TCP  [2001:db8::1:0050 rr\n",
		"TCP  [192.0.2.1]:0050 rr\n",
		"TCP  C0000201:10050 rr\n",
		"FWM  G rr\n",
		"FWM  100000000 rr\n",
	} {
		if err := parseAll(header + body); err == nil {
			t.Errorf("reading %q succeeded", body)
		}
	}
}

// TestReadManyServices reads a 10,000 x 10 table and checks that every
// service keeps exactly its own destinations.
func TestReadManyServices(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	for i := range 10000 {
		fmt.Fprintf(&b, "TCP  C612%02X%02X:0050 rr  \n", i/250, i%250+1)
		for j := range 10 {
			n := (i*10 + j) % 64000
			fmt.Fprintf(&b, "  -> C613%02X%02X:0050      Masq    %-6d %-10d %-10d\n", n/250, n%250+1, j, i, 0)
		}
	}
	svcs, err := Read(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 10000 {
		t.Fatalf("%d services, want 10000", len(svcs))
	}
	for i, s := range svcs {
		if want := netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(i%250 + 1)}); s.Addr != want || s.Port != 80 || s.Protocol != ipvs.TCP {
			t.Fatalf("service %d = %+v, want %v:80", i, s, want)
		}
		dests, err := s.AppendDests(nil)
		if err != nil || len(dests) != 10 {
			t.Fatalf("service %d: %d destinations, %v", i, len(dests), err)
		}
		for j, d := range dests {
			n := (i*10 + j) % 64000
			if want := netip.AddrFrom4([4]byte{198, 19, byte(n / 250), byte(n%250 + 1)}); d.Addr != want || d.Weight != uint32(j) || d.ActiveConns != uint32(i) {
				t.Fatalf("service %d destination %d = %+v", i, j, d)
			}
		}
	}
}

func FuzzRead(f *testing.F) {
	data, _ := os.ReadFile("testdata/proc-net-ip_vs.txt")
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) { parseAll(string(b)) })
}

// TestAppendDestsErrorNamesTheLine: a bad destination line is reported with
// its line number in the file.
func TestAppendDestsErrorNamesTheLine(t *testing.T) {
	svcs, err := Read(strings.NewReader(header + "TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    3      0          0\n  -> C6336402:1F90      Warp    3      0          0\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = svcs[0].AppendDests(nil)
	if want := `ip_vs line 6: forwarding method "Warp"`; err == nil || err.Error() != want {
		t.Errorf("AppendDests: %v, want %s", err, want)
	}
}
