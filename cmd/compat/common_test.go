package compat

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// commonLineWords are, per position of the two shapes parseCommonLine
// takes, the plain spellings it must accept and near misses it must leave
// to the general parser (other numeric notations, out-of-range values,
// other options, names).
var commonLineWords = struct {
	commands, protocols, addrs, optS, schedulers, optR, forwards, optW, weights []string
}{
	commands:  []string{"-A", "-E", "-a", "-e", "-d", "-D", "-Z", "--add-service", "-Ax"},
	protocols: []string{"-t", "-u", "-f", "--tcp-service", "-tu", "-6"},
	addrs: []string{
		"198.18.0.1:80", "198.19.250.13:8080", "0.0.0.0:1", "255.255.255.255:65535", "192.0.2.1:0",
		"256.1.1.1:80", "01.2.3.4:80", "010.2.3.4:80", "08.1.1.1:80", "1.2.3.4:0080", "1.2.3.4:080", "1.2.3.4:65536", "1.2.3:80", "1.2.3.4",
		"1.2.3.4:", "[1.2.3.4]:80", "1.2.3.4:http", "0x1.2.3.4:80", "1.2.3.4:+80", "1.2.3.4:8a",
		"[2001:db8::1]:80", "2001:db8::1", "1.2.3.4:99999999999", "1.2.3.4.5:80", ".1.2.3:80",
		"1..2.3:80", "1.2.3.4::80", "1.2.3.4:80 ", " 1.2.3.4:80", "-r", "localhost:80", "",
	},
	optS:       []string{"-s", "-r", "--scheduler", "-w", "-p"},
	schedulers: []string{"rr", "wlc", "mh", "sed2", "abcdefghijklmno", "abcdefghijklmnop", "RR", "r-r", "-m", "!#:+", "", "w\x00lc"},
	optR:       []string{"-r", "-s", "--real-server", "-R"},
	forwards:   []string{"-g", "-m", "-i", "-w", "--masquerading", "-gm", "-x"},
	optW:       []string{"-w", "-x", "--weight", "-m"},
	weights: []string{
		"0", "1", "7", "100", "65535", "2147483647", "2147483648", "4294967296", "9999999999",
		"01", "-1", "+1", " 1", "1x", "", "0x10",
	},
}

// commonLine builds a line of one of the two shapes, each word the plain
// one with probability plain, else any candidate for its position.
func commonLine(r *rand.Rand, plain float64) []string {
	w := commonLineWords
	pick := func(plainWords, all []string) string {
		if r.Float64() < plain {
			return plainWords[r.IntN(len(plainWords))]
		}
		return all[r.IntN(len(all))]
	}
	addrs := w.addrs[:4]
	if r.IntN(2) == 0 {
		return []string{pick([]string{"-A", "-E"}, w.commands), pick(w.protocols[:2], w.protocols),
			pick(addrs, w.addrs), pick(w.optS[:1], w.optS), pick(w.schedulers[:5], w.schedulers)}
	}
	return []string{pick([]string{"-a", "-e"}, w.commands), pick(w.protocols[:2], w.protocols),
		pick(addrs, w.addrs), pick(w.optR[:1], w.optR), pick(addrs, w.addrs),
		pick(w.forwards[:3], w.forwards), pick(w.optW[:1], w.optW), pick(w.weights[:6], w.weights)}
}

// checkCommonLine parses args both ways; when the common-line path takes
// it, the general parser must accept it and give the same Invocation.
func checkCommonLine(t *testing.T, args []string) (taken bool) {
	t.Helper()
	var fast, general Invocation
	resetInvocation(&fast)
	untouched := fast
	if !parseCommonLine(&fast, args) {
		if diff := cmp.Diff(untouched, fast, cmpOpts); diff != "" {
			t.Fatalf("%q: not taken, but the Invocation changed (-before +after):\n%s", args, diff)
		}
		return false
	}
	resetInvocation(&general)
	if err := (Parser{}).parseGeneral(&general, "ipvsadm", args); err != nil {
		t.Fatalf("%q: common-line path took it, general parser says %v", args, err)
	}
	if diff := cmp.Diff(general, fast, cmpOpts); diff != "" {
		t.Fatalf("%q: (-general +common-line):\n%s", args, diff)
	}
	return true
}

func TestCommonLinesMatchGeneralParser(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 21))
	taken, left := 0, 0
	for range 200000 {
		args := commonLine(r, 0.8)
		if checkCommonLine(t, args) {
			taken++
		} else {
			left++
		}
	}
	// Both outcomes must be common, or the comparison proves little.
	if taken < 20000 || left < 20000 {
		t.Errorf("common-line path took %d lines and left %d; want both >= 20000", taken, left)
	}
	// What ipvsadm -Sn writes for the benchmark's table goes the fast way.
	for _, line := range []string{
		"-A -t 198.18.12.34:80 -s rr",
		"-a -t 198.18.12.34:80 -r 198.19.5.6:80 -m -w 1",
		"-a -u 198.18.0.1:53 -r 198.19.1.16:53 -g -w 0",
		"-e -t 198.18.0.1:80 -r 198.19.1.14:8080 -i -w 2147483647",
	} {
		if !checkCommonLine(t, strings.Fields(line)) {
			t.Errorf("%q: not taken by the common-line path", line)
		}
	}
}

func FuzzCommonLine(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		f.Add(strings.Join(commonLine(r, 0.9), " "))
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkCommonLine(t, strings.Split(line, " "))
	})
}
