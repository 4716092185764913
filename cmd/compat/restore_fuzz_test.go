package compat

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// modelRestoreLines is an independent statement of how ipvsadm 1.31 splits
// restore input: lines end at LF; words are separated by space, TAB and CR
// and cut into 4096-byte pieces; "ipvsadm" words vanish; lines without words
// are skipped; an unterminated last line is dropped when two or more blanks
// follow its last word.
func modelRestoreLines(input string) [][]string {
	var out [][]string
	lines := strings.Split(input, "\n")
	for i, line := range lines {
		last := i == len(lines)-1
		if last && line == "" {
			break
		}
		if last {
			trimmed := strings.TrimRight(line, " \t\r")
			if strings.TrimLeft(trimmed, " \t\r") != "" && len(line)-len(trimmed) >= 2 {
				break
			}
		}
		var words []string
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' }) {
			for len(f) > restoreTokenMax {
				words = appendModelWord(words, f[:restoreTokenMax])
				f = f[restoreTokenMax:]
			}
			words = appendModelWord(words, f)
		}
		if len(words) > 0 {
			out = append(out, words)
		}
	}
	return out
}

func appendModelWord(words []string, w string) []string {
	if w == "ipvsadm" {
		return words
	}
	return append(words, w)
}

// FuzzRestoreScanner: no panics, and every word of the input comes out, in
// order, in the line it was on (no partial reads).
func FuzzRestoreScanner(f *testing.F) {
	for _, seed := range []string{
		"-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1\n",
		"ipvsadm -C\r\n\n\t-L -n",
		"-A -t 192.0.2.14:80 \t",
		"-A -t 192.0.2.14:80 ",
		"  # comment\n",
		strings.Repeat("x", 5000) + " y\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		if strings.ContainsRune(input, 0) {
			t.Skip("NUL bytes end C strings; not modelled")
		}
		s := NewRestoreScanner(strings.NewReader(input))
		var got [][]string
		for s.Scan() {
			got = append(got, append([]string(nil), s.Args()...))
		}
		if err := s.Err(); err != nil {
			t.Fatalf("Err() = %v", err)
		}
		if diff := cmp.Diff(modelRestoreLines(input), got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("lines for %q (-model +scanner):\n%s", input, diff)
		}
	})
}
