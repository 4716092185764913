package format

import (
	"bytes"
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
	msort(items, make([]item, len(items)), func(a, b item) int32 { return int32(a.key - b.key) })
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
