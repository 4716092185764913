package compat

import (
	"math"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStrtol(t *testing.T) {
	type result struct {
		Value    int64
		End      int
		Digits   bool
		Overflow bool
	}
	tests := []struct {
		in   string
		want result
	}{
		{"", result{}},
		{"abc", result{}},
		{"+", result{}},
		{" -", result{}},
		{"0", result{0, 1, true, false}},
		{"42", result{42, 2, true, false}},
		{" \t\n\v\f\r+42", result{42, 9, true, false}},
		{"-7x", result{-7, 2, true, false}},
		{"0x10", result{0, 1, true, false}},
		{"9223372036854775807", result{math.MaxInt64, 19, true, false}},
		{"9223372036854775808", result{math.MaxInt64, 19, true, true}},
		{"-9223372036854775808", result{math.MinInt64, 20, true, false}},
		{"-9223372036854775809", result{math.MinInt64, 20, true, true}},
		{"99999999999999999999999", result{math.MaxInt64, 23, true, true}},
	}
	for _, tt := range tests {
		var got result
		got.Value, got.End, got.Digits, got.Overflow = strtol(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("strtol(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestStringToNumberAtoiFWMark(t *testing.T) {
	type result struct {
		Number   int64
		NumberOK bool
		Atoi     int32
		Mark     uint32
		MarkOK   bool
	}
	tests := []struct {
		in   string
		want result
	}{
		{"", result{}},
		{"5", result{5, true, 5, 5, true}},
		{" +5", result{5, true, 5, 5, true}},
		{"5 ", result{0, false, 5, 0, false}},
		{"-0", result{0, true, 0, 0, false}},
		{"-1", result{0, false, -1, 0, false}},
		{"70000", result{0, false, 70000, 70000, true}},
		{"4294967295", result{0, false, -1, 4294967295, true}},
		{"4294967296", result{0, false, 0, 0, false}},
		{"4294967360", result{0, false, 64, 0, false}},
		{"9223372036854775808", result{0, false, -1, 0, false}},
		{"-9223372036854775809", result{0, false, 0, 0, false}},
	}
	for _, tt := range tests {
		var got result
		got.Number, got.NumberOK = stringToNumber(tt.in, 0, 65535)
		got.Atoi = atoi(tt.in)
		got.Mark, got.MarkOK = parseFWMark(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestInetAton(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for invalid
	}{
		{"192.0.2.1", "192.0.2.1"},
		{"127.1", "127.0.0.1"},
		{"10.1.2", "10.1.0.2"},
		{"3221225985", "192.0.2.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0X7F.0.0.01", "127.0.0.1"},
		{"010.0.0.1", "8.0.0.1"},
		{"0", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"192.0.2.1 trailing", "192.0.2.1"},
		{"192.0.2.1\tx", "192.0.2.1"},
		{"1.2.65535", "1.2.255.255"},
		{"1.16777215", "1.255.255.255"},
		{"", ""},
		{" 1.2.3.4", ""},
		{"+1.2.3.4", ""},
		{"1.2.3.4.", ""},
		{"1..2", ""},
		{"1.2.3.4.5", ""},
		{"256.1.1.1", ""},
		{"1.2.3.256", ""},
		{"1.2.65536", ""},
		{"1.16777216", ""},
		{"4294967296", ""},
		{"99999999999999999999999", ""},
		{"08", ""},
		{"0x", ""},
		{"0xg", ""},
		{"1.2.3.4x", ""},
		{"localhost", ""},
	}
	for _, tt := range tests {
		var got string
		if v, ok := inetAton(tt.in); ok {
			got = addrFromUint32(v).String()
		}
		if got != tt.want {
			t.Errorf("inetAton(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInetPton(t *testing.T) {
	tests := []struct {
		in     string
		want4  string // "" for invalid
		want16 string // "" for invalid
	}{
		{"192.0.2.1", "192.0.2.1", ""},
		{"0.0.0.0", "0.0.0.0", ""},
		{"01.2.3.4", "", ""},
		{"1.2.3", "", ""},
		{"1.2.3.4.", "", ""},
		{"1.2.3.256", "", ""},
		{"127.1", "", ""},
		{"::", "", "::"},
		{"::1", "", "::1"},
		{"2001:db8::1", "", "2001:db8::1"},
		{"2001:DB8:0:0:0:0:0:1", "", "2001:db8::1"},
		{"1:2:3:4:5:6:7:8", "", "1:2:3:4:5:6:7:8"},
		{"1:2:3:4:5:6:7::", "", "1:2:3:4:5:6:7:0"},
		{"::2:3:4:5:6:7:8", "", "0:2:3:4:5:6:7:8"},
		{"::ffff:192.0.2.1", "", "::ffff:192.0.2.1"},
		{"1:2:3:4:5:6:192.0.2.1", "", "1:2:3:4:5:6:c000:201"},
		{"::192.0.2.1", "", "::c000:201"},
		{"1:2:3:4:5:6:7::8", "", ""},
		{"1:2:3:4:5:6:7:8:9", "", ""},
		{"1:2:3:4:5:6:7", "", ""},
		{":1::", "", ""},
		{":", "", ""},
		{":::", "", ""},
		{"1::2::3", "", ""},
		{"1::2:", "", ""},
		{"12345::", "", ""},
		{"fe80::1%eth0", "", ""},
		{"[::1]", "", ""},
		{"::ffff:01.2.3.4", "", ""},
		{"1:2:3:4:5:6:7:192.0.2.1", "", ""},
		{"g::", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		got4 := ""
		if b, ok := inetPton4(tt.in); ok {
			got4 = netip.AddrFrom4(b).String()
		}
		got16 := ""
		if a, ok := inetPton6(tt.in); ok {
			if !a.Is6() {
				t.Errorf("inetPton6(%q) = %v, not an IPv6 address", tt.in, a)
			}
			got16 = a.String()
		}
		if got4 != tt.want4 || got16 != tt.want16 {
			t.Errorf("inetPton(%q) = %q, %q; want %q, %q", tt.in, got4, got16, tt.want4, tt.want16)
		}
	}
}
