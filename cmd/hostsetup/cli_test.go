package hostsetup

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Error texts and exit statuses as the user gets them: the command path once
// (lvsadm's main adds "lvsadm: "), a missing --mode named as missing with
// the modes, cobra-style suggestions for unknown subcommands at every level.
func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"vip", "add"}, ExitUsage, "vip add: expected one address"},
		{[]string{"vip", "add", "192.0.2.10"}, ExitUsage, "vip add: --iface is required"},
		{[]string{"realserver", "down", "now"}, ExitUsage, `realserver down: unexpected argument "now"`},
		{[]string{"director"}, ExitUsage, "director: missing subcommand: up, down or status (see 'lvsadm director --help')"},
		{[]string{"vip"}, ExitUsage, "vip: missing subcommand: add, del or list (see 'lvsadm vip --help')"},
		{[]string{"director", "uup"}, ExitUsage, "unknown command \"uup\" for \"lvsadm director\"\n\nDid you mean this?\n\tup\n"},
		{[]string{"vip", "lst"}, ExitUsage, "unknown command \"lst\" for \"lvsadm vip\"\n\nDid you mean this?\n\tlist\n"},
		{[]string{"forward", "stat"}, ExitUsage, "unknown command \"stat\" for \"lvsadm forward\"\n\nDid you mean this?\n\tstatus\n"},
		{[]string{"realserver", "frobnicate"}, ExitUsage, "unknown command \"frobnicate\" for \"lvsadm realserver\""},
		{[]string{"director", "up", "--vip", "192.0.2.10"}, ExitUsage, "director up: --mode is missing; give --mode nat, dr or tun"},
		{[]string{"realserver", "up", "--vip", "192.0.2.10"}, ExitUsage, "realserver up: --mode is missing; give --mode dr or tun"},
		{[]string{"realserver", "status", "--vip", "192.0.2.10"}, ExitUsage, "realserver status: --mode is missing; give --mode dr or tun"},
		{[]string{"director", "up", "--mode", "fullnat", "--vip", "192.0.2.10"}, ExitUsage, `director up: --mode must be nat, dr or tun, not "fullnat"`},
		{[]string{"director", "up", "--mode", "dr"}, ExitUsage, "director up: --vip is missing; give at least one VIP address"},
		{[]string{"director", "up", "--bogus"}, ExitUsage, "director up: unknown flag: --bogus"},
		{[]string{"arp", "up", "--scope", "iface"}, ExitUsage, "arp up: unknown flag: --scope"},
		{[]string{"arp", "up", "--arp-scope", "wide"}, ExitUsage, `arp up: --arp-scope must be all or iface, not "wide"`},
		{[]string{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--arp-scope", "iface"}, ExitUsage,
			"realserver up: --arp-scope iface needs --iface, the interfaces where ARP requests for the VIP arrive"},
		{[]string{"vip", "list", "--iface", "nosuch"}, ExitFailure, "vip list: interface nosuch does not exist"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := newRig(t, []string{"eth0"}, nil)
			out, errOut, err := r.run(tt.args...)
			if err == nil || exitCode(err) != tt.code || err.Error() != tt.msg {
				t.Errorf("err = %q (exit %d)\nwant %q (exit %d)", err, exitCode(err), tt.msg, tt.code)
			}
			if out != "" || errOut != "" {
				t.Errorf("printed stdout %q, stderr %q", out, errOut)
			}
			if len(r.ev.log) != 0 {
				t.Errorf("did something: %q", r.ev.log)
			}
		})
	}
}

// Commands that change the system refuse early without root; --dry-run,
// status and list work unprivileged.
func TestNonRootIsRefusedEarly(t *testing.T) {
	const rootMsg = ": must be run as root, as it changes the system (--dry-run shows what it would do)"
	tests := []struct {
		args   []string
		refuse bool
	}{
		{[]string{"director", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0"}, true},
		{[]string{"director", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0", "--persist"}, true},
		{[]string{"director", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0", "--dry-run"}, false},
		{[]string{"director", "down"}, true},
		{[]string{"director", "down", "--dry-run"}, false},
		{[]string{"forward", "on"}, true},
		{[]string{"arp", "status"}, false},
		{[]string{"vip", "add", "192.0.2.10", "--iface", "lo"}, true},
		{[]string{"vip", "add", "192.0.2.10", "--iface", "lo", "--dry-run"}, false},
		{[]string{"vip", "del", "192.0.2.10", "--iface", "lo"}, true},
		{[]string{"vip", "list"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := newRig(t, []string{"eth0"}, nil)
			r.env.euid = func() int { return 1000 }
			_, _, err := r.run(tt.args...)
			path := tt.args[0] + " " + tt.args[1]
			if tt.args[1] == "on" {
				path = "forward up"
			}
			if tt.refuse {
				if err == nil || exitCode(err) != ExitFailure || err.Error() != path+rootMsg {
					t.Errorf("err = %q (exit %d), want %q (exit 1)", err, exitCode(err), path+rootMsg)
				}
				if _, serr := os.Stat(r.env.stateDir); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("the refused command created the state directory")
				}
			} else if err != nil && exitCode(err) != ExitProblems {
				t.Errorf("err = %v, want it to work unprivileged", err)
			}
			if len(r.ev.log) != 0 {
				t.Errorf("did something: %q", r.ev.log)
			}
		})
	}
}

// One flag name per concept: the ARP scope is --arp-scope for arp and
// realserver, in up and status.
func TestARPScopeFlag(t *testing.T) {
	r := newRig(t, []string{"eth0", "eth1"}, nil)
	out := r.mustRun(t, "arp", "up", "--arp-scope", "iface", "--iface", "eth0", "--dry-run")
	want := "# dry run: nothing is changed\n" +
		"write /proc/sys/net/ipv4/conf/eth0/arp_ignore: 0 -> 1\n" +
		"write /proc/sys/net/ipv4/conf/eth0/arp_announce: 0 -> 2\n"
	if out != want {
		t.Errorf("arp up --arp-scope iface --dry-run:\n%s\nwant\n%s", out, want)
	}
	for _, args := range [][]string{
		{"arp", "status", "--arp-scope", "iface", "--iface", "eth0"},
		{"realserver", "status", "--mode", "dr", "--vip", "192.0.2.10", "--arp-scope", "iface", "--iface", "eth0"},
	} {
		if _, _, err := r.run(args...); exitCode(err) != ExitProblems {
			t.Errorf("%s: err = %v, want the problems of a host not set up (exit 3)", args, err)
		}
	}
	for _, role := range []string{"arp", "realserver"} {
		for _, sub := range []string{"up", "status"} {
			help, _, _ := r.run(role, sub, "--help")
			if !strings.Contains(help, "--arp-scope") || strings.Contains(help, "--scope ") {
				t.Errorf("%s %s --help does not offer --arp-scope alone:\n%s", role, sub, help)
			}
		}
	}
	help, _, _ := r.run("arp", "--help")
	if strings.Contains(help, "--scope") {
		t.Errorf("arp --help still speaks of --scope:\n%s", help)
	}
}

// Each command's help describes that command: status offers only what it
// checks, not up's options, and says what its exit status means.
func TestHelpDescribesEachCommand(t *testing.T) {
	r := newRig(t, nil, nil)
	for _, role := range []string{"director", "realserver", "arp", "forward", "redirects", "rpfilter"} {
		status, _, _ := r.run(role, "status", "--help")
		for _, bad := range []string{"--dry-run", "--persist", "--no-announce", "turn on", "Apply"} {
			if strings.Contains(status, bad) {
				t.Errorf("%s status --help mentions %q:\n%s", role, bad, status)
			}
		}
		for _, want := range []string{"Exit status 3", "lvsadm " + role + " status"} {
			if !strings.Contains(status, want) {
				t.Errorf("%s status --help lacks %q:\n%s", role, want, status)
			}
		}
		up, _, _ := r.run(role, "up", "--help")
		for _, want := range []string{"'lvsadm " + role + " down'", "as root", "--dry-run", "lvsadm " + role + " up"} {
			if !strings.Contains(up, want) {
				t.Errorf("%s up --help lacks %q:\n%s", role, want, up)
			}
		}
		if strings.Contains(up, role+" status\n") || strings.Contains(up, role+" down\n") {
			t.Errorf("%s up --help gives examples of other commands:\n%s", role, up)
		}
		down, _, _ := r.run(role, "down", "--help")
		for _, want := range []string{"as root", "lvsadm " + role + " down"} {
			if !strings.Contains(down, want) {
				t.Errorf("%s down --help lacks %q:\n%s", role, want, down)
			}
		}
	}
	fwd, _, _ := r.run("forward", "status", "--help")
	// cobra pads the flag names to the longest one.
	if !regexp.MustCompile(`--ipv6 +also check IPv6 forwarding`).MatchString(fwd) {
		t.Errorf("forward status --help describes --ipv6 as up does:\n%s", fwd)
	}
}
