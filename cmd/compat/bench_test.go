package compat

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// The restore lines lvsadm -R sees most: what ipvsadm -Sn writes.
var (
	benchAddService = strings.Fields("-A -t 198.18.12.34:80 -s rr")
	benchAddServer  = strings.Fields("-a -t 198.18.12.34:80 -r 198.19.5.6:80 -m -w 1")
	benchSaveLines  = [][]string{
		benchAddService,
		benchAddServer,
		strings.Fields("-A -u 198.18.0.13:53 -s rr -p 360 --pe sip -o"),
		strings.Fields("-A -f 4 -6 -s wlc -p 360 -M 48"),
		strings.Fields("-A -t 198.18.0.16:80 -s sh -b sh-fallback,sh-port"),
		strings.Fields("-A -t 198.18.0.17:443 -s wlc -p 300 -M 255.255.255.0"),
		strings.Fields("-A -t [2001:db8::1]:80 -s wrr"),
		strings.Fields("-a -t 198.18.0.1:80 -r 198.19.1.14:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum"),
		strings.Fields("-a -t 198.18.0.1:80 -r 198.19.1.15:80 -i -w 3 --tun-type gre --tun-csum"),
		strings.Fields("-a -t 198.18.0.1:80 -r 198.19.1.16:80 -g -w 0"),
		strings.Fields("-a -f 4 -r 198.19.1.17:0 -m -w 5"),
		strings.Fields("-a -t [2001:db8::1]:80 -r [2001:db8::2]:80 -m -w 1"),
	}
)

func benchmarkParse(b *testing.B, lines [][]string) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Parse("ipvsadm", lines[i%len(lines)], nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAddService(b *testing.B) { benchmarkParse(b, [][]string{benchAddService}) }

func BenchmarkParseAddServer(b *testing.B) { benchmarkParse(b, [][]string{benchAddServer}) }

// BenchmarkParseSaveLines parses each line of the mix once per op.
func BenchmarkParseSaveLines(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, line := range benchSaveLines {
			if _, err := Parse("ipvsadm", line, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// restoreInput is a 10,000 x 10 table as ipvsadm -Sn writes it: 110,000
// lines.
func restoreInput() []byte {
	var buf bytes.Buffer
	for s := range 10000 {
		vip := fmt.Sprintf("198.18.%d.%d:80", s/250, s%250+1)
		fmt.Fprintf(&buf, "-A -t %s -s rr\n", vip)
		for d := range 10 {
			fmt.Fprintf(&buf, "-a -t %s -r 198.19.%d.%d:80 -m -w 1\n", vip, s%250, d+1)
		}
	}
	return buf.Bytes()
}

// BenchmarkRestoreScanner splits the whole 110,000-line input per op.
func BenchmarkRestoreScanner(b *testing.B) {
	input := restoreInput()
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewRestoreScanner(bytes.NewReader(input))
		lines := 0
		for s.Scan() {
			lines++
		}
		if lines != 110000 || s.Err() != nil {
			b.Fatalf("%d lines, error %v", lines, s.Err())
		}
	}
}
