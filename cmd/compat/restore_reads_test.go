package compat

import (
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func scanAll(t *testing.T, r io.Reader) [][]string {
	t.Helper()
	s := NewRestoreScanner(r)
	var lines [][]string
	for s.Scan() {
		lines = append(lines, slices.Clone(s.Args()))
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
	return lines
}

// How the reader hands out the bytes must not change the lines.
func TestRestoreScannerReadSizes(t *testing.T) {
	long := strings.Repeat("x", 70000) // longer than what is read at once
	inputs := []string{
		"-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80",
		"-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80 \t",
		"-A -t 192.0.2.19:80 ",
		"-A -t 192.0.2.22:80\r\r",
		"ipvsadm -A ipvsadm -t 192.0.2.3:80 ipvsadm\n",
		"\n\n  \t \n-A\t-t  192.0.2.4:80\r\n\r\n-A -t 192.0.2.5:80\n",
		"-A -t 192.0.2.5:80 -s " + strings.Repeat("a", 4096) + "rr\n",
		"-A -t 192.0.2.8:80 ipvsadm\x00x\n-A -s rr\x00junk\n\x00 x\n",
		"-A -t 192.0.2.9:80\n   ",
		"",
		// Lines across the read size, and lines longer than it.
		strings.Repeat("-a -t 198.18.0.1:80 -r 198.19.0.1:80 -m -w 1\n", 3000),
		"-A " + long + " y\n-C\n" + long + "\n" + long,
		"-L\n" + long + " \t",
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for i, input := range inputs {
		want := scanAll(t, strings.NewReader(input))
		if !strings.Contains(input, "\x00") {
			if diff := cmp.Diff(modelRestoreLines(input), want); diff != "" {
				t.Errorf("input %d: lines differ from the model (-model +scanner):\n%s", i, diff)
			}
		}
		for _, r := range readers {
			got := scanAll(t, r.wrap(strings.NewReader(input)))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("input %d, %s reader (-whole +%s):\n%s", i, r.name, r.name, diff)
			}
		}
	}
}

// Args' slice is reused, but its strings stay valid after later Scans, and
// a caller appending to Args does not disturb the next line.
func TestRestoreScannerArgsReused(t *testing.T) {
	var input strings.Builder
	var want [][]string
	for i := range 500 {
		words := []string{"-a", "-t", "192.0.2.1:80", "-r", "198.51.100." + strings.Repeat("1", i%3+1)}
		// Lines of different lengths, some longer than any before.
		for range i % 90 {
			words = append(words, "-n")
		}
		want = append(want, words)
		input.WriteString(strings.Join(words, " ") + "\n")
	}
	s := NewRestoreScanner(strings.NewReader(input.String()))
	var words, extended [][]string
	for s.Scan() {
		words = append(words, slices.Clone(s.Args()))
		extended = append(extended, append(s.Args(), "appended"))
	}
	if diff := cmp.Diff(want, words); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	for i := range want {
		want[i] = append(want[i], "appended")
	}
	if diff := cmp.Diff(want, extended); diff != "" {
		t.Errorf("extended lines (-want +got):\n%s", diff)
	}
}
