//go:build integration && linux

// Tests of the built lvsadm binary ($LVSADM_BIN, which scripts/vmtest.sh
// sets to the bin/lvsadm of 'make build'), run with 'ip netns exec' in a
// network namespace of their own: the exit statuses and the texts a user
// sees, and a real SIGKILL or SIGTERM at a random moment of up followed by
// down. The state is the binary's own, /run/lvsadm.

package hostsetup

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// binResult is what one run of the binary gave; signal is set when a signal
// ended it.
type binResult struct {
	stdout, stderr string
	status         int
	signal         syscall.Signal
}

// startBin starts lvsadm args in namespace ns; ip netns exec execs the
// binary, so the process is lvsadm itself.
func startBin(t *testing.T, ns string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, testnet.Lvsadm(t)}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, &errb
}

func waitBin(t *testing.T, cmd *exec.Cmd, out, errb *bytes.Buffer) binResult {
	t.Helper()
	err := cmd.Wait()
	r := binResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.signal = ws.Signal()
		} else {
			r.status = ws.ExitStatus()
		}
	default:
		t.Fatal(err)
	}
	return r
}

func runBin(t *testing.T, ns string, args ...string) binResult {
	t.Helper()
	cmd, out, errb := startBin(t, ns, args...)
	return waitBin(t, cmd, out, errb)
}

func expectBin(t *testing.T, what string, got, want binResult) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(binResult{})); diff != "" {
		t.Errorf("lvsadm %s (-want +got):\n%s", what, diff)
	}
}

// binNS is a namespace for the binary with its state file's path; the
// state files of the namespace are removed with it.
func binNS(t *testing.T, ns string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/run/netns", ns), &st); err != nil {
		t.Fatal(err)
	}
	state := fmt.Sprintf("/run/lvsadm/netns-%d.json", st.Ino)
	t.Cleanup(func() {
		for _, p := range stateFiles(state) {
			os.Remove(p)
		}
		os.Remove(strings.TrimSuffix(state, ".json") + ".lock")
	})
	return state
}

// stateFiles lists the state file and what sits beside it: temporary
// files of saves, stale copies.
func stateFiles(state string) []string {
	a, _ := filepath.Glob(state + "*")
	b, _ := filepath.Glob(filepath.Join(filepath.Dir(state), "."+filepath.Base(state)+".tmp-*"))
	return append(a, b...)
}

// nsState is what up changes in a namespace.
type nsState struct {
	Conf  map[string]string
	Addrs []string
	Links []string
}

func snapshotNS(t *testing.T, ns string) nsState {
	t.Helper()
	var s nsState
	inNS(t, ns, func() {
		s.Conf = confSnapshot(t)
		n, err := dialNetwork()
		if err != nil {
			t.Error(err)
			return
		}
		defer n.Close()
		addrs, err := n.Addresses()
		if err != nil {
			t.Error(err)
		}
		for _, a := range addrs {
			s.Addrs = append(s.Addrs, a.String())
		}
		links, err := n.Links()
		if err != nil {
			t.Error(err)
		}
		for _, l := range links {
			s.Links = append(s.Links, fmt.Sprintf("%s up=%v", l.Name, l.Up))
		}
	})
	slices.Sort(s.Addrs)
	return s
}

// ipv4Ifaces lists, sorted, the interfaces of ns besides lo: eth0, and the
// ipip module's fallback tunl0 and the like, which appear in every namespace
// once the module is loaded and follow conf/default as eth0 does.
func ipv4Ifaces(t *testing.T, ns string) []string {
	t.Helper()
	var names []string
	inNS(t, ns, func() {
		entries, err := os.ReadDir("/proc/sys/net/ipv4/conf")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if n := e.Name(); !slices.Contains([]string{"all", "default", "lo"}, n) {
				names = append(names, n)
			}
		}
	})
	return names
}

func TestIntegrationBinaryDirector(t *testing.T) {
	dir, _ := twoHosts(t)
	state := binNS(t, dir)
	before := snapshotNS(t, dir)
	// send_redirects is 1 by default everywhere. eth0 has an IPv4 address,
	// so it no longer follows conf/default: lvsadm writes it. The fallback
	// tunnels of loaded modules (tunl0 and the like) have none and follow.
	effects := func(from, to string) string {
		var b strings.Builder
		for _, name := range ipv4Ifaces(t, dir) {
			if name != "eth0" {
				fmt.Fprintf(&b, "  kernel side effect: /proc/sys/net/ipv4/conf/%s/send_redirects: %s -> %s\n", name, from, to)
			}
		}
		return b.String()
	}
	expectBin(t, "director up", runBin(t, dir, "director", "up", "--mode", "dr", "--vip", "198.51.100.10", "--iface", "eth0"), binResult{
		stdout: "write /proc/sys/net/ipv4/conf/all/send_redirects: 1 -> 0\n" +
			"write /proc/sys/net/ipv4/conf/default/send_redirects: 1 -> 0\n" +
			effects("1", "0") +
			"write /proc/sys/net/ipv4/conf/eth0/send_redirects: 1 -> 0\n" +
			"ip address add 198.51.100.10/32 dev eth0\n" +
			"announce 198.51.100.10 on eth0 (gratuitous ARP)\n" +
			"director: up; 4 change(s) recorded in " + state + "\n",
	})

	r := runBin(t, dir, "director", "status")
	header := regexp.MustCompile(`^director: up since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(--mode dr --vip 198\.51\.100\.10/32 --iface eth0\), 4 change\(s\) recorded\n`)
	table := `+-------------------+-----------+-----+-----+-------------+----------------+-------+
| SETTING           | INTERFACE | ALL | OWN | EFFECTIVE   | NEEDED         | STATE |
+-------------------+-----------+-----+-----+-------------+----------------+-------+
| send_redirects    | default   |     | 0   | 0           | 0              | ok    |
| send_redirects    | eth0      | 0   | 0   | 0           | 0              | ok    |
| vip 198.51.100.10 | eth0      |     |     | /32 on eth0 | on eth0 as /32 | ok    |
+-------------------+-----------+-----+-----+-------------+----------------+-------+
`
	if !header.MatchString(r.stdout) || header.ReplaceAllString(r.stdout, "") != table || r.stderr != "" || r.status != 0 {
		t.Errorf("director status: status %d\nstdout:\n%s\nstderr:\n%s\nwant the header and\n%s", r.status, r.stdout, r.stderr, table)
	}

	expectBin(t, "director down", runBin(t, dir, "director", "down"), binResult{
		stdout: "ip address del 198.51.100.10/32 dev eth0\n" +
			"write /proc/sys/net/ipv4/conf/eth0/send_redirects: 0 -> 1\n" +
			"write /proc/sys/net/ipv4/conf/default/send_redirects: 0 -> 1\n" +
			effects("0", "1") +
			"write /proc/sys/net/ipv4/conf/all/send_redirects: 0 -> 1\n" +
			"director: down\n",
	})
	if diff := cmp.Diff(before, snapshotNS(t, dir)); diff != "" {
		t.Errorf("namespace after down differs from before up (-before +after):\n%s", diff)
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file left after down: %v", err)
	}
	expectBin(t, "director down again", runBin(t, dir, "director", "down"), binResult{
		stdout: "director: nothing to undo: no 'lvsadm director up' is recorded in this network namespace (" + state + ")\n",
	})
}

func TestIntegrationBinaryRealServer(t *testing.T) {
	rs, _ := twoHosts(t)
	state := binNS(t, rs)
	before := snapshotNS(t, rs)
	up := []string{"realserver", "up", "--mode", "dr", "--vip", "198.51.100.10", "--iface", "eth0", "--label", "lo:0"}
	expectBin(t, "realserver up", runBin(t, rs, up...), binResult{
		stdout: "write /proc/sys/net/ipv4/conf/all/arp_ignore: 0 -> 1\n" +
			"write /proc/sys/net/ipv4/conf/all/arp_announce: 0 -> 2\n" +
			"write /proc/sys/net/ipv4/conf/eth0/arp_ignore: 0 -> 1\n" +
			"write /proc/sys/net/ipv4/conf/eth0/arp_announce: 0 -> 2\n" +
			"ip address add 198.51.100.10/32 dev lo label lo:0\n" +
			"realserver: up; 5 change(s) recorded in " + state + "\n",
	})
	expectBin(t, "realserver up again", runBin(t, rs, up...), binResult{
		stdout: "keep /proc/sys/net/ipv4/conf/all/arp_ignore = 1\n" +
			"keep /proc/sys/net/ipv4/conf/all/arp_announce = 2\n" +
			"keep /proc/sys/net/ipv4/conf/eth0/arp_ignore = 1\n" +
			"keep /proc/sys/net/ipv4/conf/eth0/arp_announce = 2\n" +
			"keep address 198.51.100.10/32 dev lo label lo:0\n" +
			"realserver: up; nothing needed changing\n",
	})
	expectBin(t, "realserver up with other settings", runBin(t, rs, "realserver", "up", "--mode", "tun", "--vip", "198.51.100.10"), binResult{
		stderr: "lvsadm: realserver up: already up here with other settings (--mode dr --vip 198.51.100.10/32 --label lo:0 " +
			"--iface eth0 --arp-scope all); run 'lvsadm realserver down' first\n",
		status: 2,
	})

	r := runBin(t, rs, "realserver", "status")
	header := regexp.MustCompile(`^realserver: up since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(--mode dr --vip 198\.51\.100\.10/32 --label lo:0 --iface eth0 --arp-scope all\), 5 change\(s\) recorded\n`)
	table := `+-------------------+-----------+-----+-----+----------------------+-------------------------+-------+
| SETTING           | INTERFACE | ALL | OWN | EFFECTIVE            | NEEDED                  | STATE |
+-------------------+-----------+-----+-----+----------------------+-------------------------+-------+
| arp_ignore        | eth0      | 1   | 1   | 1                    | 1 or 2                  | ok    |
| arp_announce      | eth0      | 2   | 2   | 2                    | 2                       | ok    |
| vip 198.51.100.10 | lo        |     |     | /32 on lo label lo:0 | on lo as /32 label lo:0 | ok    |
+-------------------+-----------+-----+-----+----------------------+-------------------------+-------+
`
	if !header.MatchString(r.stdout) || header.ReplaceAllString(r.stdout, "") != table || r.stderr != "" || r.status != 0 {
		t.Errorf("realserver status: status %d\nstdout:\n%s\nstderr:\n%s\nwant the header and\n%s", r.status, r.stdout, r.stderr, table)
	}

	expectBin(t, "realserver down", runBin(t, rs, "realserver", "down"), binResult{
		stdout: "ip address del 198.51.100.10/32 dev lo label lo:0\n" +
			"write /proc/sys/net/ipv4/conf/eth0/arp_announce: 2 -> 0\n" +
			"write /proc/sys/net/ipv4/conf/eth0/arp_ignore: 1 -> 0\n" +
			"write /proc/sys/net/ipv4/conf/all/arp_announce: 2 -> 0\n" +
			"write /proc/sys/net/ipv4/conf/all/arp_ignore: 1 -> 0\n" +
			"realserver: down\n",
	})
	if diff := cmp.Diff(before, snapshotNS(t, rs)); diff != "" {
		t.Errorf("namespace after down differs from before up (-before +after):\n%s", diff)
	}

	// Without records, status needs to be told what to check; with them,
	// it reports the problems of a host that is not set up.
	expectBin(t, "realserver status without records", runBin(t, rs, "realserver", "status"), binResult{
		stderr: "lvsadm: realserver status: not recorded as up in this network namespace; give --mode and --vip to check\n",
		status: 2,
	})
	r = runBin(t, rs, "realserver", "status", "--mode", "dr", "--vip", "198.51.100.10", "--iface", "eth0")
	if r.status != ExitProblems || !strings.Contains(r.stdout, "| vip 198.51.100.10 | lo        |     |     | absent") ||
		r.stderr != "lvsadm: realserver status: 3 problem(s) for --mode dr --vip 198.51.100.10/32 --iface eth0 --arp-scope all\n" {
		t.Errorf("status of a host not set up: status %d\n%s%s", r.status, r.stdout, r.stderr)
	}
}

func TestIntegrationBinaryVIP(t *testing.T) {
	ns, _ := twoHosts(t)
	binNS(t, ns)
	before := snapshotNS(t, ns)
	expectBin(t, "vip add lo", runBin(t, ns, "vip", "add", "192.0.2.10", "--iface", "lo:0"), binResult{
		stdout: "ip address add 192.0.2.10/32 dev lo label lo:0\n",
	})
	expectBin(t, "vip add eth0", runBin(t, ns, "vip", "add", "198.51.100.20", "--iface", "eth0"), binResult{
		stdout: "ip address add 198.51.100.20/32 dev eth0\nannounce 198.51.100.20 on eth0 (gratuitous ARP)\n",
	})
	expectBin(t, "vip add again", runBin(t, ns, "vip", "add", "198.51.100.20", "--iface", "eth0"), binResult{
		stdout: "keep address 198.51.100.20/32 dev eth0\n",
	})
	expectBin(t, "vip add elsewhere", runBin(t, ns, "vip", "add", "198.51.100.20", "--iface", "lo"), binResult{
		stderr: "lvsadm: vip add: 198.51.100.20 is already configured on eth0 (198.51.100.20/32 dev eth0); remove it there first\n",
		status: 1,
	})
	expectBin(t, "vip list", runBin(t, ns, "vip", "list"), binResult{
		stdout: `+------------------+-----------+-------+-------------+
| ADDRESS          | INTERFACE | LABEL | LVSADM ROLE |
+------------------+-----------+-------+-------------+
| 192.0.2.10/32    | lo        | lo:0  | -           |
| 198.51.100.20/32 | eth0      | -     | -           |
+------------------+-----------+-------+-------------+
`,
	})
	expectBin(t, "vip list --iface lo", runBin(t, ns, "vip", "list", "--iface", "lo"), binResult{
		stdout: `+---------------+-----------+-------+-------------+
| ADDRESS       | INTERFACE | LABEL | LVSADM ROLE |
+---------------+-----------+-------+-------------+
| 192.0.2.10/32 | lo        | lo:0  | -           |
+---------------+-----------+-------+-------------+
`,
	})
	expectBin(t, "vip list --iface nosuch", runBin(t, ns, "vip", "list", "--iface", "nosuch"), binResult{
		stderr: "lvsadm: vip list: interface nosuch does not exist\n",
		status: 1,
	})
	expectBin(t, "vip del lo", runBin(t, ns, "vip", "del", "192.0.2.10", "--iface", "lo:0"), binResult{
		stdout: "ip address del 192.0.2.10/32 dev lo label lo:0\n",
	})
	expectBin(t, "vip del eth0", runBin(t, ns, "vip", "del", "198.51.100.20", "--iface", "eth0"), binResult{
		stdout: "ip address del 198.51.100.20/32 dev eth0\n",
	})
	expectBin(t, "vip del gone", runBin(t, ns, "vip", "del", "198.51.100.20", "--iface", "eth0"), binResult{
		stdout: "address 198.51.100.20/32 dev eth0 is not present; nothing to do\n",
	})
	if diff := cmp.Diff(before, snapshotNS(t, ns)); diff != "" {
		t.Errorf("namespace after the VIPs were removed (-before +after):\n%s", diff)
	}
	// Mistakes on the command line: status 2, one message, no change.
	expectBin(t, "vip add without address", runBin(t, ns, "vip", "add"), binResult{
		stderr: "lvsadm: vip add: expected one address\n",
		status: 2,
	})
	expectBin(t, "vip lst", runBin(t, ns, "vip", "lst"), binResult{
		stderr: "lvsadm: unknown command \"lst\" for \"lvsadm vip\"\n\nDid you mean this?\n\tlist\n",
		status: 2,
	})
	expectBin(t, "director up without --mode", runBin(t, ns, "director", "up", "--vip", "192.0.2.10"), binResult{
		stderr: "lvsadm: director up: --mode is missing; give --mode nat, dr or tun\n",
		status: 2,
	})
}

// up is stopped at a random moment by SIGKILL (nothing runs after it) or
// SIGTERM (lvsadm finishes the step under way and stops), again and again;
// each time, down restores the namespace exactly.
func TestIntegrationBinaryKilledUpIsUndoneByDown(t *testing.T) {
	ns := testnet.NewNS(t)
	state := binNS(t, ns)
	for _, dev := range []string{"eth0", "eth1"} {
		testnet.IP(t, "-n", ns, "link", "add", dev, "type", "dummy")
		testnet.IP(t, "-n", ns, "link", "set", dev, "up")
	}
	testnet.IP(t, "-n", ns, "address", "add", "203.0.113.1/24", "dev", "eth0")
	// eth1 forwards on its own: ip_forward's reset of it must be repaired.
	if out, err := testnet.Sh(ns, "echo 1 > /proc/sys/net/ipv4/conf/eth1/forwarding"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	up := []string{"director", "up", "--mode", "nat", "--vip", "203.0.113.10", "--vip", "2001:db8::10", "--iface", "eth0", "--rs-iface", "eth1"}
	before := snapshotNS(t, ns)

	start := time.Now()
	if r := runBin(t, ns, up...); r.status != 0 || r.signal != 0 {
		t.Fatalf("clean up: %+v", r)
	}
	full := time.Since(start)
	if r := runBin(t, ns, "director", "down"); r.status != 0 || r.stderr != "" {
		t.Fatalf("clean down: %+v", r)
	}
	if diff := cmp.Diff(before, snapshotNS(t, ns)); diff != "" {
		t.Fatalf("a clean up and down does not restore the namespace (-before +after):\n%s", diff)
	}

	stoppedMsg := regexp.MustCompile(`^lvsadm: director up: stopped by SIGTERM(` +
		` before changing anything|; the [1-9][0-9]* change\(s\) made so far are recorded in ` + regexp.QuoteMeta(state) +
		`: 'lvsadm director down' undoes them, 'lvsadm director up' completes the setup)\n$`)
	// Half the signals come at a random moment from the start (often
	// before lvsadm has begun), half at a random moment after up has
	// recorded its first intent.
	outcomes := map[string]int{}
	for i := range 32 {
		sig, name := syscall.SIGKILL, "SIGKILL"
		if i%2 == 1 {
			sig, name = syscall.SIGTERM, "SIGTERM"
		}
		cmd, out, errb := startBin(t, ns, up...)
		when := "from start"
		if i%4 < 2 {
			time.Sleep(time.Duration(rand.Int64N(int64(full) * 6 / 5)))
		} else {
			when = "after the first record"
			deadline := time.Now().Add(2 * full)
			for time.Now().Before(deadline) {
				if _, err := os.Stat(state); err == nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Duration(rand.Int64N(int64(full) / 4)))
		}
		cmd.Process.Signal(sig)
		r := waitBin(t, cmd, out, errb)
		what := fmt.Sprintf("%s %s (%d)", name, when, i)
		switch {
		case r.signal != 0:
			outcomes[name+" "+when+": killed"]++
		case r.status == 0:
			outcomes[name+" "+when+": up finished first"]++
		case sig == syscall.SIGTERM && r.status == 128+15 && stoppedMsg.MatchString(r.stderr):
			outcomes[name+" "+when+": stopped by lvsadm"]++
		default:
			t.Errorf("%s: status %d\nstdout:\n%s\nstderr:\n%s", what, r.status, r.stdout, r.stderr)
		}
		d := runBin(t, ns, "director", "down")
		if d.status != 0 || d.stderr != "" {
			t.Errorf("%s: down: status %d\nstdout:\n%s\nstderr:\n%s", what, d.status, d.stdout, d.stderr)
		}
		if diff := cmp.Diff(before, snapshotNS(t, ns)); diff != "" {
			t.Fatalf("%s (up said %q): namespace after down (-before +after):\n%s\ndown said:\n%s",
				what, r.stdout+r.stderr, diff, d.stdout)
		}
		if leftovers := stateFiles(state); len(leftovers) > 0 {
			t.Errorf("%s: left in /run/lvsadm after down: %q", what, leftovers)
		}
	}
	t.Logf("clean up took %v; outcomes: %v", full, outcomes)
}
