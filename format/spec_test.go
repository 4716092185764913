package format

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/ipvs"
)

// The tests in this file cover what the VM cannot produce (counters in the
// billions, forwarding methods ipvsadm cannot set, lvsadm's deliberate
// differences). Their expected values are the observations and printf
// formats recorded in shared/reference/ipvsadm-1.31.md, cited per test.

// TestLargeNum uses the values observed with ipvsadm 1.31 (section 2.5).
func TestLargeNum(t *testing.T) {
	tests := []struct {
		v     uint64
		exact bool
		want  string
	}{
		{0, false, "        0"},
		{99999999, false, " 99999999"},
		{100000000, false, "  100000K"},
		{999999999, false, "  999999K"},
		{1000000000, false, "    1000M"},
		{99999999999, false, "   99999M"},
		{123456789012, false, "     123G"},
		{9876543210987, false, "    9876G"},
		{100000000000000, false, "     100T"},
		{18446744073709551615, false, "18446744T"},
		// --exact: printf("%*llu", len <= 8 ? 9 : len + 1, v).
		{0, true, "        0"},
		{12345678, true, " 12345678"},
		{123456789, true, " 123456789"},
		{18446744073709551615, true, " 18446744073709551615"},
	}
	for _, tt := range tests {
		if got := LargeNum(tt.v, tt.exact); got != tt.want {
			t.Errorf("LargeNum(%d, %t) = %q, want %q", tt.v, tt.exact, got, tt.want)
		}
	}
}

// TestCounterRows checks which counter goes in which column (sections 2.3
// and 2.4): --stats prints conns, inpkts, outpkts, inbytes, outbytes;
// --rate prints cps, inpps, outpps, inbps, outbps, the destination's first
// three never scaled. Destination counters keep all 64 bits: ipvsadm 1.31
// would print the low 32 (outpkts 4294967297 as 1); lvsadm deliberately
// does not.
func TestCounterRows(t *testing.T) {
	stats := ipvs.Stats{
		Connections: 1, PacketsIn: 22, PacketsOut: 4294967297, BytesIn: 123456789012, BytesOut: 100000000,
		CPS: 123456789012, PPSIn: 7, PPSOut: 100000000, BPSIn: 999999999, BPSOut: 5,
	}
	tb := table(service(tcp("192.0.2.1:80"), "rr"), dest("198.51.100.1:80", masq, 1))
	tb.Service.Stats = stats
	tb.Dests[0].Stats = stats

	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"stats", Options{Numeric: true, Stats: true}, "" +
			"TCP  192.0.2.1:80                        1       22    4294M     123G  100000K\n" +
			"  -> 198.51.100.1:80                     1       22    4294M     123G  100000K\n"},
		{"stats-exact", Options{Numeric: true, Stats: true, Exact: true}, "" +
			"TCP  192.0.2.1:80                        1       22 4294967297 123456789012 100000000\n" +
			"  -> 198.51.100.1:80                     1       22 4294967297 123456789012 100000000\n"},
		{"rate", Options{Numeric: true, Rate: true}, "" +
			"TCP  192.0.2.1:80                     123G        7  100000K  999999K        5\n" +
			"  -> 198.51.100.1:80              123456789012        7 100000000  999999K        5\n"},
		{"rate-exact", Options{Numeric: true, Rate: true, Exact: true}, "" +
			"TCP  192.0.2.1:80                 123456789012        7 100000000 999999999        5\n" +
			"  -> 198.51.100.1:80              123456789012        7 100000000 999999999        5\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := ServiceRows(&got, tb, tt.opts, nil); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnnamedForwardMethod: ipvsadm passes NULL for a method it has no name
// or switch for, which glibc prints as "(null)" (sections 2.4 and 2.6).
// Local is listed as Local and saved as -g.
func TestUnnamedForwardMethod(t *testing.T) {
	tb := table(service(tcp("192.0.2.1:80"), "rr"),
		dest("198.51.100.1:80", ipvs.Local, 1),
		dest("198.51.100.2:80", ipvs.Bypass, 1))
	var list, save bytes.Buffer
	if err := ServiceRows(&list, tb, Options{Numeric: true, TunInfo: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Save(&save, tb, nil, true); err != nil {
		t.Fatal(err)
	}
	want := "TCP  192.0.2.1:80 rr\n" +
		"  -> 198.51.100.1:80              Local   n/a           1      0          0         \n" +
		"  -> 198.51.100.2:80              (null)  n/a           1      0          0         \n" +
		"-A -t 192.0.2.1:80 -s rr\n" +
		"-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 1\n" +
		"-a -t 192.0.2.1:80 -r 198.51.100.2:80 (null) -w 1\n"
	if diff := cmp.Diff(want, list.String()+save.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCompareWraps checks the comparator on the pairs of section 2.9,
// where ipvsadm's int subtraction of unsigned values wraps.
func TestCompareWraps(t *testing.T) {
	v4 := func(addr string) ipvs.ServiceEntry { return service(tcp(addr+":80"), "rr") }
	tests := []struct {
		name string
		a, b ipvs.ServiceEntry
		sign int
	}{
		{"no fwmark before fwmark 5", v4("10.0.0.1"), service(fwmark(5), "rr"), -1},
		{"fwmark 3000000000 before no fwmark", service(fwmark(3000000000), "rr"), v4("10.0.0.1"), -1},
		{"fwmark 2147483648 after fwmark 5", service(fwmark(2147483648), "rr"), service(fwmark(5), "rr"), 1},
		{"10.0.0.1 before 100.0.0.1", v4("10.0.0.1"), v4("100.0.0.1"), -1},
		{"200.0.0.1 before 10.0.0.1", v4("200.0.0.1"), v4("10.0.0.1"), -1},
		{"150.0.0.1 before 10.0.0.1", v4("150.0.0.1"), v4("10.0.0.1"), -1},
		{"IPv4 before IPv6", v4("200.0.0.1"), service(tcp("[2001:db8::1]:80"), "rr"), -1},
		{"TCP before UDP", v4("10.0.0.1"), service(udp("10.0.0.1:80"), "rr"), -1},
		{"port", v4("10.0.0.1"), service(tcp("10.0.0.1:81"), "rr"), -1},
	}
	for _, tt := range tests {
		got := compareServices(&tt.a, &tt.b)
		if sign(got) != tt.sign {
			t.Errorf("%s: compareServices = %d, want sign %d", tt.name, got, tt.sign)
		}
	}
}

func sign(v int32) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// TestMergeSortOrder pins the merge order on a non-transitive comparator:
// glibc's msort splits n/2 and merges taking the left element on ties.
func TestMergeSortOrder(t *testing.T) {
	// Stable for ties: equal keys keep their input order.
	type item struct{ key, seq int }
	items := []item{{2, 0}, {1, 1}, {2, 2}, {1, 3}, {0, 4}}
	mergeSort(items, func(a, b *item) int32 { return int32(a.key - b.key) })
	want := []item{{0, 4}, {1, 1}, {1, 3}, {2, 0}, {2, 2}}
	if diff := cmp.Diff(want, items, cmp.AllowUnexported(item{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestHeader(t *testing.T) {
	var got bytes.Buffer
	if err := Header(&got, ipvs.Info{Version: 0x010102, ConnTableSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("IP Virtual Server version 1.1.2 (size=1048576)\n", got.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestInsertionSortMatchesMergeSort: whenever consistent() lets sortOrder
// take the insertion sort, the order is the merge sort's, on random keys
// drawn from narrow and wide ranges (wide ones make the comparator wrap, so
// consistent must refuse them).
func TestInsertionSortMatchesMergeSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	took := 0
	for range 20000 {
		n := 2 + rng.IntN(insertionSortMax-1)
		keys := make([]sortKey, n)
		span := []uint32{4, 1 << 20, 1 << 31, 1<<32 - 1}[rng.IntN(4)]
		words := int32(1 + 3*rng.IntN(2))
		base := rng.Uint32()
		for i := range keys {
			k := &keys[i]
			k.words = words
			if rng.IntN(8) == 0 {
				k.words = 5 - words // a family mix now and then
			}
			for w := range k.addr {
				k.addr[w] = base + rng.Uint32N(span)
			}
			k.port = int32(rng.IntN(3))
		}
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		msort(want, make([]int32, n), func(a, b int32) int32 { return compareKeys(&keys[a], &keys[b]) })
		got := sortOrder(keys, make([]int32, n), make([]int32, n))
		if consistent(keys) {
			took++
		}
		if !slices.Equal(got, want) {
			t.Fatalf("keys %+v: sortOrder %v, merge sort %v", keys, got, want)
		}
	}
	if took < 3000 {
		t.Errorf("only %d of 20000 key sets took the insertion sort", took)
	}
}

// TestProcDestinationsPrintAsEntries: a table whose destinations come from
// /proc prints exactly as the same destinations given as entries, in every
// layout, sorted or not, and as -S.
func TestProcDestinationsPrintAsEntries(t *testing.T) {
	se := service(tcp("192.0.2.1:80"), "wlc")
	var pds []ipvs.ProcDestination
	for i, addr := range []string{"198.51.100.9", "198.51.100.1", "200.0.0.1", "10.0.0.1", "2001:db8::1", "198.51.100.1", "255.255.255.255", "0.0.0.0"} {
		d := ipvs.ProcDestination{Port: uint16(80 + i%2), ForwardMethod: ipvs.ForwardMethod(i % 7), Weight: uint32(i * 1000), ActiveConns: uint32(i), InactiveConns: 1 << 31}
		switch i {
		case 6:
			d.Port, d.Weight, d.ActiveConns, d.InactiveConns = 65535, 1<<31-1, 1<<32-1, 1<<32-1
		case 7:
			d.Port, d.Weight = 0, 1<<31 // ipvsadm prints a negative int
		}
		a := netip.MustParseAddr(addr)
		if d.IPv6 = a.Is6(); d.IPv6 {
			d.Addr = a.As16()
		} else {
			a4 := a.As4()
			copy(d.Addr[:], a4[:])
		}
		pds = append(pds, d)
	}
	proc := Table{Service: se, ProcDests: pds}
	entries := Table{Service: se, Dests: procEntries(pds)}
	type printer struct {
		name  string
		print func(*bytes.Buffer, Table) error
	}
	var printers []printer
	for _, o := range []Options{{}, {Numeric: true}, {Numeric: true, NoSort: true}, {Stats: true}, {Thresholds: true}, {TunInfo: true}, {PersistentConn: true}} {
		printers = append(printers, printer{fmt.Sprintf("%+v", o), func(w *bytes.Buffer, t Table) error { return ServiceRows(w, t, o, nil) }})
	}
	printers = append(printers, printer{"-S", func(w *bytes.Buffer, t Table) error { return Save(w, t, nil, true) }})
	for _, p := range printers {
		var got, want bytes.Buffer
		if err := p.print(&got, proc); err != nil {
			t.Fatal(err)
		}
		if err := p.print(&want, entries); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: from /proc\n%s\nas entries\n%s", p.name, got.String(), want.String())
		}
	}
}

// TestSortedProcDests4MatchesMergeSort: the one-number sort of IPv4
// destinations gives glibc's merge order whenever it accepts the set.
func TestSortedProcDests4MatchesMergeSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	took := 0
	for range 20000 {
		n := rng.IntN(sortOnStack + 2)
		dests := make([]ipvs.ProcDestination, n)
		span := []uint32{3, 1 << 20, 1 << 31, 1<<32 - 1}[rng.IntN(4)]
		base := rng.Uint32()
		for i := range dests {
			binary.BigEndian.PutUint32(dests[i].Addr[:4], base+rng.Uint32N(span))
			dests[i].Port = uint16(rng.IntN(3))
			dests[i].IPv6 = rng.IntN(50) == 0
		}
		keys := make([]sortKey, n)
		for i := range dests {
			keys[i] = sortKey{port: int32(dests[i].Port), words: 1, addr: [4]uint32{binary.BigEndian.Uint32(dests[i].Addr[:4])}}
			if dests[i].IPv6 {
				keys[i].words = 4
			}
		}
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		msort(want, make([]int32, n), func(a, b int32) int32 { return compareKeys(&keys[a], &keys[b]) })
		got, ok := sortedProcDests4(dests, make([]int32, 0, sortOnStack))
		if !ok {
			continue
		}
		took++
		if !slices.Equal(got, want) {
			t.Fatalf("dests %+v: %v, merge sort %v", dests, got, want)
		}
	}
	if took < 5000 {
		t.Errorf("only %d of 20000 sets took the one-number sort", took)
	}
}

// TestServiceRowsAllocatesNothing: a listing calls ServiceRows and Save
// once per service, so for the usual service (numeric, into a buffer with
// room) they must not allocate; a sort scratch that escaped to the heap
// once cost 11 MB per 10,000-service listing.
func TestServiceRowsAllocatesNothing(t *testing.T) {
	se := service(tcp("192.0.2.1:80"), "wlc")
	var pds []ipvs.ProcDestination
	for i := range 10 {
		// Out of order, and 2001:db8::/32 makes one service take the
		// general sort.
		d := ipvs.ProcDestination{Port: 80, ForwardMethod: ipvs.Masquerade, Weight: 1}
		a := netip.AddrFrom4([4]byte{198, 51, 100, byte(200 - i)}).As4()
		copy(d.Addr[:], a[:])
		pds = append(pds, d)
	}
	mixed := append(slices.Clone(pds), ipvs.ProcDestination{Addr: netip.MustParseAddr("2001:db8::1").As16(), IPv6: true, Port: 80})
	for name, tbl := range map[string]Table{
		"/proc IPv4":  {Service: se, ProcDests: pds},
		"/proc mixed": {Service: se, ProcDests: mixed},
		"netlink":     {Service: se, Dests: procEntries(mixed)},
	} {
		w := bufio.NewWriterSize(io.Discard, 64<<10)
		o := Options{Numeric: true}
		if n := testing.AllocsPerRun(50, func() { ServiceRows(w, tbl, o, nil) }); n != 0 {
			t.Errorf("%s: ServiceRows made %v allocations", name, n)
		}
		if n := testing.AllocsPerRun(50, func() { Save(w, tbl, nil, true) }); n != 0 {
			t.Errorf("%s: Save made %v allocations", name, n)
		}
	}
}
