package compat

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// byteRestoreLines is this package's first RestoreScanner, kept as an
// oracle: it reads one byte at a time, step by step as ipvsadm does (a word
// of up to 4096 bytes, then one blank consumed with it), so it is slow but
// easy to compare with ipvsadm. Unlike modelRestoreLines it covers NULs.
func byteRestoreLines(r io.Reader) [][]string {
	br := bufio.NewReader(r)
	readByte := func() (byte, bool) {
		c, err := br.ReadByte()
		return c, err == nil
	}
	var lines [][]string
	for {
		words, ok := byteRestoreLine(br, readByte)
		if !ok {
			return lines
		}
		if len(words) > 0 {
			lines = append(lines, words)
		}
	}
}

func byteRestoreLine(br *bufio.Reader, readByte func() (byte, bool)) (words []string, ok bool) {
	for {
		c, more := readByte()
		if !more {
			return words, len(words) > 0
		}
		if isRestoreBlank(c) {
			for c != '\n' {
				if c, more = readByte(); !more {
					return nil, false
				}
				if !isRestoreBlank(c) {
					_ = br.UnreadByte()
					break
				}
			}
			if c == '\n' {
				return words, true
			}
			continue
		}
		word := []byte{c}
		for len(word) < restoreTokenMax {
			if c, more = readByte(); !more {
				break
			}
			if isRestoreBlank(c) {
				_ = br.UnreadByte()
				break
			}
			word = append(word, c)
		}
		endOfLine := false
		if c, more = readByte(); more {
			if isRestoreBlank(c) {
				endOfLine = c == '\n'
			} else {
				_ = br.UnreadByte()
			}
		}
		if w := cString(string(word)); w != "ipvsadm" {
			words = append(words, w)
		}
		if endOfLine {
			return words, true
		}
	}
}

func isRestoreBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// FuzzRestoreScannerOracle: the scanner splits any input, NULs included and
// however the reader hands it out, as the byte-at-a-time oracle does.
func FuzzRestoreScannerOracle(f *testing.F) {
	for _, seed := range []string{
		"-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1\n",
		"ipvsadm\x00 -C\r\n\n\t-L -n",
		"-A -t 192.0.2.14:80 \t",
		"-A -t 192.0.2.14:80 ",
		"\x00\x00 ipvsadm\x00x\n",
		strings.Repeat("x", 5000) + " y\n",
	} {
		f.Add(seed, uint8(0))
	}
	f.Fuzz(func(t *testing.T, input string, reader uint8) {
		var r io.Reader = strings.NewReader(input)
		switch reader % 4 {
		case 1:
			r = iotest.OneByteReader(r)
		case 2:
			r = iotest.HalfReader(r)
		case 3:
			r = iotest.DataErrReader(r)
		}
		s := NewRestoreScanner(r)
		var got [][]string
		for s.Scan() {
			got = append(got, slices.Clone(s.Args()))
		}
		if err := s.Err(); err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("Err() = %v", err)
		}
		want := byteRestoreLines(strings.NewReader(input))
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("lines for %q (-oracle +scanner):\n%s", input, diff)
		}
	})
}
