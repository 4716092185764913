package cli

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/ipvs"
)

// procIPVSSample is a /proc/net/ip_vs with, by hand: TCP [2001:db8::1]:443
// (real servers 198.51.100.7:443, [2001:db8::9]:443) and 192.0.2.1:80
// ([2001:db8::5]:80, 198.51.100.2:80, 198.51.100.1:8080); UDP 192.0.2.2:53;
// SCTP 192.0.2.3:9; fwmarks 3000000000 and 5 (198.51.100.3:0).
const procIPVSSample = "../internal/procipvs/testdata/proc-net-ip_vs.txt"

// TestMain lets the completion scripts run this binary as lvsadm: with
// LVSADM_TEST_AS_LVSADM=1 it is lvsadm, reading the IPVS table from
// $LVSADM_TEST_PROC_IPVS and with no kernel to dial.
func TestMain(m *testing.M) {
	if os.Getenv("LVSADM_TEST_AS_LVSADM") == "1" {
		e := newEnv(os.Stdin, os.Stdout, os.Stderr)
		e.procIPVS = func() (io.ReadCloser, error) { return os.Open(os.Getenv("LVSADM_TEST_PROC_IPVS")) }
		e.dial = func() (*ipvs.Client, error) { return nil, os.ErrNotExist }
		e.modprobe = func(io.Writer) error { return os.ErrNotExist }
		os.Exit(run(e, append([]string{"lvsadm"}, os.Args[1:]...)))
	}
	m.Run()
}

// bashCompletionLib loads bash-completion, which cobra's bash script needs
// for _get_comp_words_by_ref; where it is not installed, a stand-in takes
// the words as given (the tests give COMP_WORDS already joined at colons,
// as bash-completion's -n : would).
const bashCompletionLib = `if [ -r /usr/share/bash-completion/bash_completion ]; then
	. /usr/share/bash-completion/bash_completion
else
	_get_comp_words_by_ref() {
		while [ "${1#-}" != "$1" ]; do shift 2; done
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
fi`

// bashWithCompletion returns a function that runs a bash snippet after
// sourcing `lvsadm completion bash`, with this test binary as lvsadm on
// PATH.
func bashWithCompletion(t *testing.T) func(snippet string) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "lvsadm")); err != nil {
		t.Fatal(err)
	}
	table, err := filepath.Abs(procIPVSSample)
	if err != nil {
		t.Fatal(err)
	}
	var script, errb bytes.Buffer
	if status := run(newEnv(strings.NewReader(""), &script, &errb), []string{"lvsadm", "completion", "bash"}); status != 0 {
		t.Fatalf("completion bash: status %d, %s", status, errb.String())
	}
	scriptPath := filepath.Join(dir, "lvsadm.bash")
	if err := os.WriteFile(scriptPath, script.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(snippet string) string {
		t.Helper()
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", bashCompletionLib+"\nsource "+scriptPath+"\n"+snippet)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "LVSADM_TEST_AS_LVSADM=1", "LVSADM_TEST_PROC_IPVS="+table)
		// Stdout only: compopt complains on stderr when run outside
		// a completion that bash started.
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("bash: %v\n%s%s", err, out, stderr.String())
		}
		return string(out)
	}
}

func TestCompletionBashRegisters(t *testing.T) {
	bash := bashWithCompletion(t)
	got := bash("complete -p lvsadm; complete -p ipvsadm")
	for _, want := range []string{"-F __start_lvsadm lvsadm\n", "complete -F _lvsadm_ipvsadm ipvsadm\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("complete -p lacks %q:\n%s", want, got)
		}
	}
}

// ipvsadm's command line: options, live services and real servers, with
// bash's split at colons undone.
func TestCompletionBashIpvsadm(t *testing.T) {
	bash := bashWithCompletion(t)
	tests := []struct {
		line string
		want []string
	}{
		{"ipvsadm --tcp", []string{"--tcp-service"}},
		{"ipvsadm --s", []string{"--set", "--save", "--start-daemon", "--stop-daemon", "--sctp-service", "--scheduler", "--syncid", "--stats", "--sort", "--sched-flags", "--sync-maxlen"}},
		{"ipvsadm -", nil}, // every option: checked by count below
		{"ipvsadm -A -t ", []string{"[2001:db8::1]:443", "192.0.2.1:80"}},
		{"ipvsadm -A -t 192", []string{"192.0.2.1:80"}},
		{"ipvsadm -A -t 192.0.2.1:", []string{"80"}},
		{"ipvsadm -a -u ", []string{"192.0.2.2:53"}},
		{"ipvsadm -a --sctp-service ", []string{"192.0.2.3:9"}},
		{"ipvsadm -d -f ", []string{"3000000000", "5"}},
		{"ipvsadm -a -t 192.0.2.1:80 -r ", []string{"[2001:db8::5]:80", "198.51.100.2:80", "198.51.100.1:8080"}},
		{"ipvsadm -e -t 192.0.2.1:80 -r 198.51.100.1:8", []string{"8080"}},
		{"ipvsadm -e -f 5 -r ", []string{"198.51.100.3:0"}},
		{"ipvsadm -E -t 192.0.2.1:80 -s w", []string{"wrr", "wlc"}},
		{"ipvsadm -A -t 192.0.2.99:80 -r ", nil}, // no such service
		{"ipvsadm 192", nil},
	}
	for _, tt := range tests {
		words := strings.Fields(tt.line)
		if strings.HasSuffix(tt.line, " ") {
			words = append(words, "")
		}
		snippet := "COMP_LINE='" + tt.line + "'; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(" + quoteWords(words) + "); COMP_CWORD=" +
			itoa(len(words)-1) + "; _lvsadm_ipvsadm; printf '%s\\n' \"${COMPREPLY[@]}\""
		got := fieldsOrNil(bash(snippet))
		if tt.line == "ipvsadm -" {
			// ipvsadm 1.31 has 57 long options and 33 short ones (-L and -l both list).
			if len(got) != 90 {
				t.Errorf("%q: %d candidates, want 90: %v", tt.line, len(got), got)
			}
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.line, diff)
		}
	}
}

// lvsadm's own commands through cobra's script, with live addresses for
// drain and enable.
func TestCompletionBashLvsadm(t *testing.T) {
	bash := bashWithCompletion(t)
	tests := []struct {
		words []string
		want  []string
	}{
		{[]string{"lvsadm", "dr"}, []string{"drain"}},
		{[]string{"lvsadm", "en"}, []string{"enable"}},
		{[]string{"lvsadm", "completion", ""}, []string{"bash", "fish", "zsh"}},
		{[]string{"lvsadm", "drain", ""}, []string{"192.0.2.1:80", "[2001:db8::1]:443"}},
		{[]string{"lvsadm", "drain", "-u", ""}, []string{"192.0.2.2:53"}},
		{[]string{"lvsadm", "drain", "-f", ""}, []string{"3000000000", "5"}},
		{[]string{"lvsadm", "enable", "192.0.2.1:80", "198"}, []string{"198.51.100.1:8080", "198.51.100.2:80"}},
		{[]string{"lvsadm", "drain", "--wa"}, []string{"--wait"}},
	}
	for _, tt := range tests {
		line := strings.Join(tt.words, " ")
		snippet := "COMP_LINE='" + line + "'; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(" + quoteWords(tt.words) + "); COMP_CWORD=" +
			itoa(len(tt.words)-1) + "; COMP_TYPE=9; __start_lvsadm; printf '%s\\n' \"${COMPREPLY[@]}\" | sort"
		got := fieldsOrNil(bash(snippet))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", line, diff)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{"zsh": "#compdef lvsadm", "fish": "complete -c lvsadm"} {
		var out, errb bytes.Buffer
		status := run(newEnv(strings.NewReader(""), &out, &errb), []string{"lvsadm", "completion", shell})
		if status != 0 || !strings.Contains(out.String(), want) {
			t.Errorf("completion %s: status %d, script lacks %q; stderr %s", shell, status, want, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if status := run(newEnv(strings.NewReader(""), &out, &errb), []string{"lvsadm", "completion", "tcsh"}); status != 2 ||
		errb.String() != "lvsadm: completion: give one shell: bash, zsh or fish\n" {
		t.Errorf("completion tcsh: status %d, stderr %q", status, errb.String())
	}
}

func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + w + "'"
	}
	return strings.Join(q, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

func fieldsOrNil(s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		return f
	}
	return nil
}
