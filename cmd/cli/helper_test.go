package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// Texts and statuses of the helper subcommands' command-line errors, as
// lvsadm prints them: "lvsadm: " once, then the command path. None of these
// reaches the system.
func TestHelperCommandLineErrors(t *testing.T) {
	tests := []struct {
		argv   []string
		stderr string
		status int
	}{
		{[]string{"lvsadm", "vip", "add"}, "lvsadm: vip add: expected one address\n", 2},
		{[]string{"lvsadm", "vip"}, "lvsadm: vip: missing subcommand: add, del or list (see 'lvsadm vip --help')\n", 2},
		{[]string{"lvsadm", "dirctor"}, "lvsadm: unknown command \"dirctor\" for \"lvsadm\"\n\nDid you mean this?\n\tdirector\n", 2},
		{[]string{"lvsadm", "director", "uup"}, "lvsadm: unknown command \"uup\" for \"lvsadm director\"\n\nDid you mean this?\n\tup\n", 2},
		{[]string{"lvsadm", "vip", "lst"}, "lvsadm: unknown command \"lst\" for \"lvsadm vip\"\n\nDid you mean this?\n\tlist\n", 2},
		{[]string{"lvsadm", "director", "up", "--vip", "192.0.2.10"}, "lvsadm: director up: --mode is missing; give --mode nat, dr or tun\n", 2},
		{[]string{"lvsadm", "realserver", "up", "--mode", "nat", "--vip", "192.0.2.10"},
			"lvsadm: realserver up: a NAT real server needs no host setup: its default route must point at the director\n", 2},
		{[]string{"lvsadm", "arp", "up", "--scope", "iface"}, "lvsadm: arp up: unknown flag: --scope\n", 2},
		{[]string{"lvsadm", "realserver", "down", "now"}, "lvsadm: realserver down: unexpected argument \"now\"\n", 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv[1:], " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			status := run(newEnv(strings.NewReader(""), &out, &errb), tt.argv)
			if diff := cmp.Diff(tt.stderr, errb.String()); diff != "" || status != tt.status || out.Len() != 0 {
				t.Errorf("status %d (want %d), stdout %q, stderr (-want +got):\n%s", status, tt.status, out.String(), diff)
			}
		})
	}
}

// ordered records writes to stdout and stderr in the order they reach the
// terminal.
type ordered struct {
	log *bytes.Buffer
	tag string
}

func (o ordered) Write(p []byte) (int, error) {
	o.log.WriteString(o.tag + string(p))
	return len(p), nil
}

// stdout is buffered; whatever a helper command prints to stdout before a
// warning must reach the terminal before it.
func TestHelperStderrFlushesStdoutFirst(t *testing.T) {
	saved := hostsetupCommands
	defer func() { hostsetupCommands = saved }()
	hostsetupCommands = func(stdout, stderr io.Writer) []*cobra.Command {
		return []*cobra.Command{{
			Use: "demo",
			RunE: func(*cobra.Command, []string) error {
				io.WriteString(stdout, "table\n")
				io.WriteString(stderr, "lvsadm: warning: something\n")
				io.WriteString(stdout, "more\n")
				return nil
			},
		}}
	}
	var log bytes.Buffer
	status := run(newEnv(strings.NewReader(""), ordered{&log, "out: "}, ordered{&log, "err: "}), []string{"lvsadm", "demo"})
	want := "out: table\nerr: lvsadm: warning: something\nout: more\n"
	if status != 0 || log.String() != want {
		t.Errorf("status %d, terminal:\n%s\nwant:\n%s", status, log.String(), want)
	}
}

// lvsadm top is wired: with stdout not a terminal it prints one plain table
// (here counters only, so no waiting); a bad flag exits 1.
func TestTopSubcommand(t *testing.T) {
	h := newHarness(t)
	if r := h.ipvsadm("-A -t 192.0.2.1:80 -s rr"); r.status != 0 {
		t.Fatal(r)
	}
	if r := h.ipvsadm("-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 0"); r.status != 0 {
		t.Fatal(r)
	}
	r := h.run("", "lvsadm", "top", "--interval", "0", "--status-url", "")
	want := "SERVICE / REAL SERVER      WEIGHT  ACTIVE  INACT  CONN/S  PKT/S  BYTES/S\n" +
		"TCP  192.0.2.1:80 rr            0       0      0       -      -        -\n" +
		"  -> 198.51.100.1:80 Masq       0       0      0       -      -        -\n"
	if r.status != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("top: %+v, want stdout:\n%s", r, want)
	}
	r = h.run("", "lvsadm", "top", "--interval", "-1s")
	if r.status != 1 || r.stderr != "lvsadm: --interval must not be negative\n" {
		t.Errorf("top --interval -1s: %+v", r)
	}
}
