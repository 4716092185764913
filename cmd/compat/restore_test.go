package compat

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// Every input here was fed to the reference `ipvsadm -R` in the VM; the
// comments say what it did, which the expected lines explain.
func TestRestoreScanner(t *testing.T) {
	a4096 := strings.Repeat("a", 4096)
	b4095 := strings.Repeat("b", 4095)
	tests := []struct {
		name  string
		input string
		lines [][]string
		// firstError is Parse's message for the first line that fails,
		// as the reference printed it ("" when all parse).
		firstError string
	}{
		{"last line without LF", "-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80",
			[][]string{{"-A", "-t", "192.0.2.1:80"}, {"-A", "-t", "192.0.2.2:80"}}, ""},
		{"last line ending in blanks is dropped", "-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80 \t",
			[][]string{{"-A", "-t", "192.0.2.1:80"}}, ""},
		{"one trailing blank is kept", "-A -t 192.0.2.19:80 ",
			[][]string{{"-A", "-t", "192.0.2.19:80"}}, ""},
		{"one trailing CR is kept", "-A -t 192.0.2.20:80\r",
			[][]string{{"-A", "-t", "192.0.2.20:80"}}, ""},
		{"two trailing CRs drop the line", "-A -t 192.0.2.22:80\r\r", nil, ""},
		{"blank then TAB drop the line", "-A -t 192.0.2.21:80 \t", nil, ""},
		{"ipvsadm words dropped", "ipvsadm -A ipvsadm -t 192.0.2.3:80 ipvsadm\n",
			[][]string{{"-A", "-t", "192.0.2.3:80"}}, ""},
		{"blank lines, TABs, CRLF", "\n\n  \t \n-A\t-t  192.0.2.4:80\r\n\r\n-A -t 192.0.2.5:80\n",
			[][]string{{"-A", "-t", "192.0.2.4:80"}, {"-A", "-t", "192.0.2.5:80"}}, ""},
		{"long word split", "-A -t 192.0.2.5:80 -s " + a4096 + "rr\n",
			[][]string{{"-A", "-t", "192.0.2.5:80", "-s", a4096, "rr"}}, "unexpected argument rr"},
		{"word of 4095", "-A -t 192.0.2.23:80 -s wlc\n-A -t 192.0.2.24:80 -s " + b4095 + "\n",
			[][]string{{"-A", "-t", "192.0.2.23:80", "-s", "wlc"}, {"-A", "-t", "192.0.2.24:80", "-s", b4095}}, ""},
		{"vertical tab is not a separator", "-A\v-t 192.0.2.6:80\n",
			[][]string{{"-A\v-t", "192.0.2.6:80"}}, "-A\v-t: unknown option"},
		{"line of ipvsadm only", "ipvsadm\n-A -t 192.0.2.7:80\n",
			[][]string{{"-A", "-t", "192.0.2.7:80"}}, ""},
		{"only ipvsadm", "ipvsadm", nil, ""},
		{"word cut at NUL", "-A -t 192.0.2.8:80 ipvsadm\x00x\n",
			[][]string{{"-A", "-t", "192.0.2.8:80"}}, ""},
		{"argument cut at NUL", "-A -t 192.0.2.8:80 -s rr\x00junk\n",
			[][]string{{"-A", "-t", "192.0.2.8:80", "-s", "rr"}}, ""},
		{"trailing blank line without LF", "-A -t 192.0.2.9:80\n   ",
			[][]string{{"-A", "-t", "192.0.2.9:80"}}, ""},
		{"no comments", "  # comment\n-A -t 192.0.2.10:80\n",
			[][]string{{"#", "comment"}, {"-A", "-t", "192.0.2.10:80"}}, try},
		{"trailing comment", "-A -t 192.0.2.11:80 # c\n",
			[][]string{{"-A", "-t", "192.0.2.11:80", "#", "c"}}, "unexpected argument #"},
		{"empty", "", nil, ""},
		{"popt error", "-A -t 192.0.2.17:80 --bogus\n-A -t 192.0.2.18:80\n",
			[][]string{{"-A", "-t", "192.0.2.17:80", "--bogus"}, {"-A", "-t", "192.0.2.18:80"}}, "--bogus: unknown option"},
		{"zero port", "-A -t 192.0.2.25:80\n-A -t 192.0.2.26\n-A -t 192.0.2.27:80\n",
			[][]string{{"-A", "-t", "192.0.2.25:80"}, {"-A", "-t", "192.0.2.26"}, {"-A", "-t", "192.0.2.27:80"}},
			"Zero port specified for non-persistent service"},
		{"restore with an option", "-R -n\n", [][]string{{"-R", "-n"}}, "Illegal 'numeric' option with the 'restore' command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewRestoreScanner(strings.NewReader(tt.input))
			var lines [][]string
			firstError := ""
			for s.Scan() {
				lines = append(lines, slices.Clone(s.Args()))
				if _, err := Parse("ipvsadm", s.Args(), nil); err != nil && firstError == "" {
					firstError = err.Error()
				}
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.lines, lines); diff != "" {
				t.Errorf("lines mismatch (-want +got):\n%s", diff)
			}
			if firstError != tt.firstError {
				t.Errorf("first error %q, want %q", firstError, tt.firstError)
			}
			if s.Scan() {
				t.Errorf("Scan after the end returned true")
			}
		})
	}
}

func TestRestoreScannerReadError(t *testing.T) {
	// A read error ends the input like EOF does for ipvsadm's fscanf.
	s := NewRestoreScanner(iotest.TimeoutReader(strings.NewReader("-C\n-L")))
	var lines [][]string
	for s.Scan() {
		lines = append(lines, slices.Clone(s.Args()))
	}
	if diff := cmp.Diff([][]string{{"-C"}, {"-L"}}, lines); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
	if !errors.Is(s.Err(), iotest.ErrTimeout) {
		t.Errorf("Err() = %v, want %v", s.Err(), iotest.ErrTimeout)
	}
}
