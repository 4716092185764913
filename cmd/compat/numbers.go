package compat

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// The C library conversions ipvsadm relies on, with glibc's semantics
// (C locale, 64-bit long).

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// strtol is strtol(s, &end, 10): leading white space and one sign are
// skipped; the value saturates at the int64 limits with overflow set.
// digits is false when no digit was read (then end is 0, as C sets end = s).
func strtol(s string) (value int64, end int, digits, overflow bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	number := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	first := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == first {
		return 0, 0, false, false
	}
	// ParseInt saturates as strtol does and reports the overflow.
	value, err := strconv.ParseInt(s[number:i], 10, 64)
	return value, i, true, err != nil
}

// stringToNumber is ipvsadm's string_to_number: the whole string must be a
// base-10 number (after optional white space and sign) within min..max.
func stringToNumber(s string, min, max int64) (int64, bool) {
	v, end, digits, overflow := strtol(s)
	if !digits || end != len(s) || overflow || v < min || v > max {
		return 0, false
	}
	return v, true
}

// atoi is glibc's atoi: (int)strtol(s, NULL, 10), truncated to 32 bits.
func atoi(s string) int32 {
	v, _, _, _ := strtol(s)
	return int32(v)
}

// parseFWMark is ipvsadm's parse_fwmark: 1..4294967295.
func parseFWMark(s string) (uint32, bool) {
	v, end, digits, overflow := strtol(s)
	// ipvsadm stores the result in an unsigned long, so negatives are huge.
	if !digits || end != len(s) || overflow || v <= 0 || v > math.MaxUint32 {
		return 0, false
	}
	return uint32(v), true
}

// isAllDigits is ipvsadm's str_is_digit; true for the empty string.
func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// inetAton is glibc's inet_aton: one to four parts separated by dots, each
// in C notation (0x hex, leading 0 octal, else decimal), the last part
// filling the remaining bytes ("127.1" is 127.0.0.1); anything after the
// number must start with white space. The result is in host order.
func inetAton(s string) (uint32, bool) {
	// The usual form, inet_pton's four decimal parts without leading
	// zeros, reads the same there at a fraction of the cost.
	if b, ok := inetPton4(s); ok {
		return uint32FromAddr(netip.AddrFrom4(b)), true
	}
	var parts [3]uint32
	n := 0
	i := 0
	var value uint64
	for {
		if i >= len(s) || !isDigit(s[i]) {
			return 0, false
		}
		var ok bool
		value, i, ok = strtoulC(s, i)
		if !ok {
			return 0, false
		}
		if i < len(s) && s[i] == '.' {
			if n > 2 || value > 0xff {
				return 0, false
			}
			parts[n] = uint32(value)
			n++
			i++
			continue
		}
		break
	}
	if i < len(s) && !isSpace(s[i]) {
		return 0, false
	}
	limits := [4]uint64{0xffffffff, 0xffffff, 0xffff, 0xff}
	if value > limits[n] {
		return 0, false
	}
	addr := uint32(value)
	for k := 0; k < n; k++ {
		addr |= parts[k] << (24 - 8*k)
	}
	return addr, true
}

// strtoulC reads an unsigned number in C notation (base 0) starting at a
// digit at s[i]; ok is false when it exceeds 32 bits (inet_aton rejects
// those anyway).
func strtoulC(s string, i int) (value uint64, end int, ok bool) {
	base := uint64(10)
	if s[i] == '0' {
		base = 8
		// "0x" without a hex digit after it is just the number 0.
		if i+2 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && hexValue(s[i+2]) >= 0 {
			base = 16
			i += 2
		}
	}
	ok = true
	for ; i < len(s); i++ {
		d := hexValue(s[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		value = value*base + uint64(d)
		if value > math.MaxUint32 {
			ok = false
			value = math.MaxUint32 + 1 // keep it from growing
		}
	}
	return value, i, ok
}

func hexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// inetPton4 is glibc's inet_pton(AF_INET): exactly four decimal parts
// 0..255 without leading zeros, as netip reads IPv4.
func inetPton4(s string) ([4]byte, bool) {
	if strings.IndexByte(s, ':') >= 0 {
		return [4]byte{}, false // not worth netip's error
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return [4]byte{}, false
	}
	return a.As4(), true
}

// inetPton6 is glibc's inet_pton(AF_INET6): eight groups of one to four hex
// digits, one "::" for a run of zero groups (never an empty run), and an
// optional dotted IPv4 tail. netip reads the same, plus zones, which glibc
// rejects.
func inetPton6(s string) (netip.Addr, bool) {
	if strings.Count(s, ":") < 2 {
		return netip.Addr{}, false // no IPv6 address has fewer; not worth netip's error
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// cString cuts s at its first NUL byte, as C sees an argument.
func cString(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}

// cStrings is cString of every word. It returns words itself when no word
// has a NUL, so the usual command line is not copied; callers only read it.
func cStrings(words []string) []string {
	for i, w := range words {
		if strings.IndexByte(w, 0) < 0 {
			continue
		}
		cut := make([]string, len(words))
		copy(cut, words[:i])
		for j := i; j < len(words); j++ {
			cut[j] = cString(words[j])
		}
		return cut
	}
	return words
}

// truncate keeps at most n bytes, as strncpy into a fixed buffer does.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
