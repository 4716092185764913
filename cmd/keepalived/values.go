package keepalived

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// The values of keepalived's keywords, read as keepalived reads them;
// anything keepalived would reject is an error here.

func noArgs(n *node) error {
	if len(n.words) > 1 {
		return errorAt(n.at, "%s takes no value", n.keyword())
	}
	return nil
}

func oneArg(n *node) (string, error) {
	if len(n.words) != 2 {
		return "", errorAt(n.at, "%s takes one value", n.keyword())
	}
	return n.words[1], nil
}

// number reads the keyword's one value, a whole number from lo to hi.
func number(n *node, lo, hi uint64) (uint64, error) {
	s, err := oneArg(n)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, errorAt(n.at, "%s %s: want a whole number from %d to %d", n.keyword(), s, lo, hi)
	}
	return v, nil
}

// timerMax is the longest timer the importer reads (keepalived's are
// seconds with up to six decimals).
const timerMax = math.MaxInt32 * time.Second

// timer reads the keyword's one value: seconds, with up to six decimals.
func timer(n *node, min time.Duration) (time.Duration, error) {
	s, err := oneArg(n)
	if err != nil {
		return 0, err
	}
	d, ok := parseSeconds(s)
	if !ok || d < min || d > timerMax {
		if min > 0 {
			return 0, errorAt(n.at, "%s %s: want seconds greater than 0 (decimals allowed, such as 1.5)", n.keyword(), s)
		}
		return 0, errorAt(n.at, "%s %s: want seconds (decimals allowed, such as 1.5)", n.keyword(), s)
	}
	return d, nil
}

func parseSeconds(s string) (time.Duration, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if len(frac) > 6 || whole == "" && frac == "" || hasFrac && frac == "" {
		return 0, false
	}
	var w, f uint64
	var err error
	if whole != "" {
		if w, err = strconv.ParseUint(whole, 10, 32); err != nil {
			return 0, false
		}
	}
	if frac != "" {
		if f, err = strconv.ParseUint(frac+strings.Repeat("0", 6-len(frac)), 10, 32); err != nil {
			return 0, false
		}
	}
	return time.Duration(w)*time.Second + time.Duration(f)*time.Microsecond, true
}

// flag reads a keyword that stands alone or takes a <BOOL> (on, off, true,
// false, yes, no).
func flag(n *node) (bool, error) {
	switch len(n.words) {
	case 1:
		return true, nil
	case 2:
		switch n.words[1] {
		case "on", "true", "yes":
			return true, nil
		case "off", "false", "no":
			return false, nil
		}
	}
	return false, errorAt(n.at, "%s: want nothing or one of on, off, true, false, yes, no", n.keyword())
}

// seconds writes a duration for lvsadm: whole seconds as "6s", others as
// Go writes them ("1.5s", "250ms").
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// hexBytes reads keepalived's hex strings (UDP_CHECK payload and
// require_reply): blanks are ignored between pairs of digits, a lone digit
// before a blank or the end is one byte, and with wild, x or X is a nibble
// that matches anything (its bits set in mask).
func hexBytes(n *node, s string, wild bool) (data, mask []byte, err error) {
	digit := func(c byte) (byte, byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', 0, true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, 0, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, 0, true
		case wild && (c == 'x' || c == 'X'):
			return 0, 0xf, true
		}
		return 0, 0, false
	}
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		v, m, ok := digit(s[i])
		if !ok {
			return nil, nil, errorAt(n.at, "%s: %q is not a hex digit", n.keyword(), s[i])
		}
		i++
		if i < len(s) && s[i] != ' ' && s[i] != '\t' {
			w, wm, ok := digit(s[i])
			if !ok {
				return nil, nil, errorAt(n.at, "%s: %q is not a hex digit", n.keyword(), s[i])
			}
			v, m = v<<4|w, m<<4|wm
			i++
		}
		data, mask = append(data, v), append(mask, m)
	}
	if len(data) == 0 {
		return nil, nil, errorAt(n.at, "%s: want hex digits", n.keyword())
	}
	return data, mask, nil
}
