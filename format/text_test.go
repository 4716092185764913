package format

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/ipvs"
)

// TestAppendNumbers checks the printf helpers against Go's own formatting
// of the same conversions, which matches C's for ASCII text.
func TestAppendNumbers(t *testing.T) {
	values := []uint64{0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, 12345678,
		99999999, 100000000, 4294967295, 4294967296, 1e19 - 1, 1e19, math.MaxUint64}
	for _, v := range values {
		for _, width := range []int{0, 1, 6, 8, 9, 10, 28, 40} {
			tests := []struct {
				name      string
				got, want string
			}{
				{"appendUint", string(appendUint([]byte("x"), v)), "x" + strconv.FormatUint(v, 10)},
				{"appendUintLeft", string(appendUintLeft([]byte("x"), v, width)), fmt.Sprintf("x%-*d", width, v)},
				{"appendUintRight", string(appendUintRight([]byte("x"), v, width)), fmt.Sprintf("x%*d", width, v)},
				{"appendIntLeft", string(appendIntLeft([]byte("x"), int64(v), width)), fmt.Sprintf("x%-*d", width, int64(v))},
				{"appendIntLeft of int32", string(appendIntLeft(nil, int64(int32(v)), width)), fmt.Sprintf("%-*d", width, int32(v))},
			}
			for _, tt := range tests {
				if diff := cmp.Diff(tt.want, tt.got); diff != "" {
					t.Errorf("%s(%d, %d) (-want +got):\n%s", tt.name, v, width, diff)
				}
			}
		}
	}
	if diff := cmp.Diff("x"+strconv.FormatInt(math.MinInt64, 10), string(appendInt([]byte("x"), math.MinInt64))); diff != "" {
		t.Errorf("appendInt(MinInt64) (-want +got):\n%s", diff)
	}
}

// TestNtop6 checks IPv6 addresses as glibc 2.36's inet_ntop (Debian 12,
// the reference ipvsadm's libc) prints them; the expected strings are its
// output, through Python's socket.inet_ntop.
func TestNtop6(t *testing.T) {
	tests := []struct{ hex, want string }{
		{"00000000000000000000000000000000", "::"},
		{"00000000000000000000000000000001", "::1"},
		{"000000000000000000000000c0000201", "::192.0.2.1"},
		{"00000000000000000000ffffc0000201", "::ffff:192.0.2.1"},
		{"0000000000000000ffff0000c0000201", "::ffff:0:c000:201"},
		{"000000000000000000000001c0000201", "::1:c000:201"},
		{"20010db8000000000000000000000001", "2001:db8::1"},
		{"00010000000000010000000000000001", "1:0:0:1::1"},
		{"00010000000000020000000000030004", "1::2:0:0:3:4"},
		{"20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"},
		{"00010000000000000000000000000000", "1::"},
		{"fe800000000000000000000000000000", "fe80::"},
		{"00000000000100000000000000000000", "0:0:1::"},
		{"00000000000000000002000000000000", "::2:0:0:0"},
		{"00010002000300040005000600070008", "1:2:3:4:5:6:7:8"},
		{"00000000000000000000ffff00000000", "::ffff:0.0.0.0"},
		{"00000000000000000000000100000000", "::1:0:0"},
		{"abcdef0123456789abcdef0123456789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
		{"00000000000000000000000000000100", "::100"},
		{"00000000000000000000ffff00000001", "::ffff:0.0.0.1"},
	}
	for _, tt := range tests {
		var raw [16]byte
		for i := range raw {
			v, err := strconv.ParseUint(tt.hex[2*i:2*i+2], 16, 8)
			if err != nil {
				t.Fatal(err)
			}
			raw[i] = byte(v)
		}
		if diff := cmp.Diff(tt.want, ntop(ipvs.IPv6, raw)); diff != "" {
			t.Errorf("ntop(%s) (-want +got):\n%s", tt.hex, diff)
		}
	}
}

// TestManyDestinations lists a service with many destinations in shuffled
// order; without wrapping differences the
// order is plain ascending address, then port.
func TestManyDestinations(t *testing.T) {
	const count = 96
	var rows []string
	var dests []ipvs.DestinationEntry
	for i := range count {
		addrPort := fmt.Sprintf("198.51.100.%d:%d", 1+i/2, 80+i%2)
		rows = append(rows, fmt.Sprintf("-a -t 192.0.2.1:80 -r %s -g -w 1\n", addrPort))
		dests = append(dests, dest(addrPort, route, 1))
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(dests), func(i, j int) { dests[i], dests[j] = dests[j], dests[i] })
	want := "-A -t 192.0.2.1:80 -s rr\n" + strings.Join(rows, "")

	var got strings.Builder
	if err := Save(&got, table(service(tcp("192.0.2.1:80"), "rr"), dests...), nil, true); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.String()); diff != "" {
		t.Errorf("Save (-want +got):\n%s", diff)
	}

	SortDestinations(dests)
	var sorted []string
	for _, d := range dests {
		sorted = append(sorted, netip.AddrPortFrom(d.Addr, d.Port).String())
	}
	var wantSorted []string
	for i := range count {
		wantSorted = append(wantSorted, fmt.Sprintf("198.51.100.%d:%d", 1+i/2, 80+i%2))
	}
	if diff := cmp.Diff(wantSorted, sorted); diff != "" {
		t.Errorf("SortDestinations (-want +got):\n%s", diff)
	}
}
