package ipvs

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testdata/proc-net-ip_vs.txt is /proc/net/ip_vs as the VM's 6.1 kernel
// printed it (counters and the last weight edited to be non-trivial).
func TestParseProcIPVS(t *testing.T) {
	f, err := os.Open("testdata/proc-net-ip_vs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseProcIPVS(f)
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	d := func(addr string, port uint16, fwd ForwardMethod, w, act, inact uint32) DestinationEntry {
		fam := IPv4
		if a(addr).Is6() {
			fam = IPv6
		}
		return DestinationEntry{Destination: Destination{Family: fam, Addr: a(addr), Port: port, ForwardMethod: fwd, Weight: w}, ActiveConns: act, InactiveConns: inact}
	}
	type parsed struct {
		ProcService
		Dests []DestinationEntry
	}
	want := []parsed{
		{ProcService{Protocol: SCTP, Addr: a("192.0.2.3"), Port: 9, Sched: "wlc"}, nil},
		{ProcService{Protocol: UDP, Addr: a("192.0.2.2"), Port: 53, Sched: "sh"}, nil},
		{ProcService{Protocol: TCP, Addr: a("2001:db8::1"), Port: 443, Sched: "wlc"}, []DestinationEntry{
			d("198.51.100.7", 443, Tunnel, 1, 0, 0), d("2001:db8::9", 443, Masquerade, 1, 0, 0)}},
		{ProcService{Protocol: TCP, Addr: a("192.0.2.1"), Port: 80, Sched: "rr"}, []DestinationEntry{
			d("2001:db8::5", 80, Tunnel, 1, 0, 0), d("198.51.100.2", 80, Tunnel, 1, 0, 0), d("198.51.100.1", 8080, Masquerade, 3, 7, 12)}},
		{ProcService{FWMark: 3000000000, Sched: "wlc"}, nil},
		{ProcService{FWMark: 5, Sched: "mh"}, []DestinationEntry{d("198.51.100.3", 0, Route, 2147483647, 0, 0)}},
	}
	var gotParsed []parsed
	for _, p := range got {
		dests := p.AppendDestinations(nil)
		p.dests = nil
		gotParsed = append(gotParsed, parsed{p, dests})
	}
	if diff := cmp.Diff(want, gotParsed, cmp.Comparer(func(x, y netip.Addr) bool { return x == y }), cmp.AllowUnexported(ProcService{})); diff != "" {
		t.Errorf("ParseProcIPVS (-want +got):\n%s", diff)
	}
	if !got[3].HasForwardMethod(Tunnel) || got[5].HasForwardMethod(Tunnel) || !got[5].HasForwardMethod(Route) {
		t.Errorf("HasForwardMethod misreads the destination lines")
	}
	fwm6 := ServiceEntry{Service: Service{ServiceKey: ServiceKey{Family: IPv6, FWMark: 3000000000}, Scheduler: "wlc"}}
	if !got[4].Matches(&fwm6) || got[3].Matches(&fwm6) {
		t.Errorf("Matches misidentifies the fwmark service")
	}
}

func TestParseProcIPVSRejectsGarbage(t *testing.T) {
	header := "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
	for _, body := range []string{
		"  -> C6336401:1F90      Masq    3      0          0\n",
		"TCP  C00002:0050 rr\n",
		"XYZ  C0000201:0050 rr\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Warp    3      0          0\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    -3      0          0\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    3      0          0          7\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    3      0\n",
		"TCP  C0000201:0050 rr\n  -> C6336401:1F90      Masq    3      0          4294967296\n",
		"TCP  [2001:db8::1%eth0]:0050 rr\n",
		"TCP  C0000201:10050 rr\n",
		"FWM  G rr\n",
	} {
		if err := parseAll(header + body); err == nil {
			t.Errorf("ParseProcIPVS(%q) and Destinations succeeded", body)
		}
	}
}

func parseAll(text string) error {
	_, err := ParseProcIPVS(strings.NewReader(text))
	return err
}

// TestParseProcIPVSLargeTable parses a table whose destinations span
// several storage chunks, one service larger than a chunk, and checks that
// every service keeps exactly its own destinations.
func TestParseProcIPVSLargeTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n")
	sizes := []int{3, procDestChunk - 2, 5, 2*procDestChunk + 1, 0, 7}
	for i, n := range sizes {
		fmt.Fprintf(&b, "TCP  C00002%02X:0050 rr \n", i)
		for j := 0; j < n; j++ {
			fmt.Fprintf(&b, "  -> %08X:%04X      Masq    %-7d%-7d%-7d\n", 0xC6330000+j, i, i, j, n)
		}
	}
	svcs, err := ParseProcIPVS(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != len(sizes) {
		t.Fatalf("%d services, want %d", len(svcs), len(sizes))
	}
	for i, n := range sizes {
		dests := svcs[i].AppendDestinations(nil)
		if len(dests) != n {
			t.Fatalf("service %d: %d destinations, want %d", i, len(dests), n)
		}
		for j, d := range dests {
			if d.Port != uint16(i) || d.Weight != uint32(i) || d.ActiveConns != uint32(j) || d.InactiveConns != uint32(n) {
				t.Fatalf("service %d destination %d = %+v", i, j, d)
			}
		}
	}
}

func FuzzParseProcIPVS(f *testing.F) {
	data, _ := os.ReadFile("testdata/proc-net-ip_vs.txt")
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) { parseAll(string(b)) })
}

// benchProcText is /proc/net/ip_vs of the benchmark's 10,000 x 10 table as
// the kernel prints it.
func benchProcText() []byte {
	var b bytes.Buffer
	b.WriteString("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "TCP  C612%02X%02X:0050 rr  \n", i/250, i%250+1)
		for j := range 10 {
			n := (i*10 + j) % 64000
			fmt.Fprintf(&b, "  -> C613%02X%02X:0050      Masq    1      0          0         \n", n/250, n%250+1)
		}
	}
	return b.Bytes()
}

func BenchmarkParseProcIPVS(b *testing.B) {
	text := benchProcText()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseProcIPVS(bytes.NewReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzKernelDest4 checks the fixed-layout reading of destination lines
// against the field-by-field one: whatever the first accepts, the second
// reads the same way.
func FuzzKernelDest4(f *testing.F) {
	f.Add([]byte("C6336401:1F90      Masq    3      7          12        "))
	f.Add([]byte("C6336401:1F90      Route   2147483647 4294967295 0         "))
	f.Add([]byte("c6336401:1f90      Tunnel  1      0          0         "))
	f.Add([]byte("C6336401:1F90      Masq    1      0          0          "))
	f.Add([]byte("C6336401:1F90      Bypass  999999 4294967295 4294967296"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != kernelDest4Len {
			return
		}
		var fast ProcDestination
		if !readKernelDest4((*[kernelDest4Len]byte)(b), &fast) {
			return
		}
		slow, err := parseProcDest(b)
		if err != nil || fast != slow {
			t.Fatalf("%q: fixed layout read %+v, fields read %+v, %v", b, fast, slow, err)
		}
	})
}

// TestParseProcIPVSReadSizes reads the same text in reads of every size
// from one byte on, and the large table through the kernel's page-sized
// reads: the lines, and which of them take the fixed-layout path, must not
// depend on where reads end.
func TestParseProcIPVSReadSizes(t *testing.T) {
	small, err := os.ReadFile("testdata/proc-net-ip_vs.txt")
	if err != nil {
		t.Fatal(err)
	}
	large := benchProcText()[:200000]
	large = large[:bytes.LastIndexByte(large, '\n')+1]
	for _, text := range [][]byte{small, large} {
		want, err := ParseProcIPVS(bytes.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 2, 7, 60, 61, 62, 4096} {
			got, err := ParseProcIPVS(&chunkReader{text, size})
			if err != nil {
				t.Fatalf("reads of %d: %v", size, err)
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y }), cmp.AllowUnexported(ProcService{}, ProcDestination{})); diff != "" {
				t.Fatalf("reads of %d (-whole +chunked):\n%s", size, diff)
			}
		}
	}
}

// chunkReader returns at most size bytes per read.
type chunkReader struct {
	b    []byte
	size int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.size)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// TestParseProcIPVSManyServices reads the benchmark's 10,000 x 10 table,
// whose services span many chunks, and checks every service and
// destination is where it belongs.
func TestParseProcIPVSManyServices(t *testing.T) {
	svcs, err := ParseProcIPVS(bytes.NewReader(benchProcText()))
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 10000 {
		t.Fatalf("%d services, want 10000", len(svcs))
	}
	for i := range svcs {
		want := netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(i%250 + 1)})
		if svcs[i].Addr != want || svcs[i].Port != 80 || svcs[i].Protocol != TCP {
			t.Fatalf("service %d = %+v, want %v:80", i, svcs[i], want)
		}
		dests := svcs[i].Destinations()
		if len(dests) != 10 {
			t.Fatalf("service %d: %d destinations", i, len(dests))
		}
		for j := range dests {
			n := (i*10 + j) % 64000
			if a := dests[j].NetipAddr(); a != netip.AddrFrom4([4]byte{198, 19, byte(n / 250), byte(n%250 + 1)}) {
				t.Fatalf("service %d destination %d = %v", i, j, a)
			}
		}
	}
}
