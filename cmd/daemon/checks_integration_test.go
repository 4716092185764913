//go:build integration && linux

package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// flapScript counts its runs per real server in DIR/ADDRESS and fails every
// third one: pass, pass, fail, pass, pass, fail, ...
const flapScript = `#!/bin/sh
f="$1/$LVSADM_ADDRESS"
n=$(cat "$f" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$f"
[ $((n % 3)) -ne 0 ]
`

// TestIntegrationRunFlapping: a real server that fails one check in three
// never changes state with rise 3 and fall 3: one that starts up stays up
// (never three failures in a row), one that starts down stays down (never
// three successes in a row).
func TestIntegrationRunFlapping(t *testing.T) {
	testnet.NeedIPVS(t)
	ns := testnet.NewNS(t)
	dir := t.TempDir()
	script := writeFile(t, dir, "flap.sh", flapScript)
	yaml := fmt.Sprintf(`schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.10
    port: 80
    scheduler: wrr
    health_check:
      type: exec
      command: [/bin/sh, %s, %s]
      dynamic_weight: false
      interval: 100ms
      timeout: 2s
      rise: 3
      fall: 3
      warmup: 10ms
    real_servers:
      - {address: 198.51.100.21, weight: 2}
      - {address: 198.51.100.22, weight: 5, health_check: {initial_state: down}}
`, script, dir)
	file := writeFile(t, dir, "flap.yaml", yaml)
	d := startRun(t, ns, file, listen)
	k := newKernel(t, ns, "192.0.2.10", 80)
	want := map[string]uint32{"198.51.100.21": 2, "198.51.100.22": 0}
	k.waitWeights(t, want, 2*time.Second)

	// Watch the weights while each server is checked at least 15 times
	// (five failures each), counting the runs in the script's files.
	runs := func(addr string) int {
		b, _ := os.ReadFile(filepath.Join(dir, addr))
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for runs("198.51.100.21") < 15 || runs("198.51.100.22") < 15 {
		if got := k.weights(t); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("weights %v after %d and %d checks, want %v all along", got, runs("198.51.100.21"), runs("198.51.100.22"), want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("checks after 30 s: %d and %d", runs("198.51.100.21"), runs("198.51.100.22"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := d.lines("msg=health"); len(got) != 0 {
		t.Errorf("state changes of flapping servers: %q", got)
	}
	for _, r := range status(t, ns, listen).Services[0].RealServers {
		wantState := map[string]string{"198.51.100.21:80": "up", "198.51.100.22:80": "down"}[r.Address]
		// Every third run fails. /status is refreshed every second, so it
		// may count fewer runs than the files, and be one run into a
		// pass-pass-fail cycle.
		if r.State != wantState || r.Failed < r.Checks/3-1 || r.Failed > r.Checks/3+1 {
			t.Errorf("%s: %s, %d failed of %d checks; want %s, a third failed", r.Address, r.State, r.Failed, r.Checks, wantState)
		}
		t.Logf("%s: %s, %d of %d checks failed", r.Address, r.State, r.Failed, r.Checks)
	}
}

// lineOf is the 1-based number of the line of text that contains s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q not in the file", s)
	return 0
}

// TestIntegrationRunBadConfig: lvsadm run refuses a file with errors, each
// named by file and line, exits non-zero and leaves the kernel's table as
// it was.
func TestIntegrationRunBadConfig(t *testing.T) {
	testnet.NeedIPVS(t)
	ns := testnet.NewNS(t)
	reference(t, ns, "-A", "-t", "192.0.2.1:80", "-s", "rr")
	reference(t, ns, "-a", "-t", "192.0.2.1:80", "-r", "198.51.100.1:80", "-m", "-w", "2")
	before := reference(t, ns, "-Sn")
	dir := t.TempDir()

	// Each file has a valid service first, which a daemon that applied
	// anything would add. marks are the texts of the lines with errors.
	const good = "schema_version: 1\nservices:\n  - {protocol: tcp, address: 192.0.2.20, port: 80, real_servers: [{address: 198.51.100.5}]}\n"
	for _, tc := range []struct {
		name, text string
		marks      []string
	}{
		{"keys.yaml", good + `  - protocol: tcp
    address: 192.0.2.21
    port: 80
    health_check:
      type: tcp
      fall: 0
      intervall: 1s
    real_servers:
      - address: 198.51.100.6
        health_check: {type: ping}
`, []string{"fall: 0", "intervall", "type: ping"}},
		{"via-vip-no-route.yaml", good + `  - protocol: tcp
    address: 192.0.2.22
    port: 80
    real_servers:
      - address: 198.51.100.7
        health_check: {type: tcp, via_vip: true}
`, []string{"198.51.100.7"}},
		{"duration.yaml", good + `  - protocol: tcp
    address: 192.0.2.23
    port: 80
    health_check: {type: http, timeout: soon}
    real_servers: [{address: 198.51.100.8}]
`, []string{"timeout: soon"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, dir, tc.name, tc.text)
			cmd := exec.Command("ip", "netns", "exec", ns, testnet.Lvsadm(t), "run", "-f", file, "--listen", listen)
			out, err := cmd.CombinedOutput()
			if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() == 0 {
				t.Fatalf("lvsadm run accepted %s (%v):\n%s", tc.name, err, out)
			}
			t.Logf("exit status %d:\n%s", cmd.ProcessState.ExitCode(), out)
			for _, m := range tc.marks {
				place := fmt.Sprintf("%s:%d:", file, lineOf(t, tc.text, m))
				if !strings.Contains(string(out), place) {
					t.Errorf("no error at %s (%q)", place, m)
				}
			}
			if diff := cmp.Diff(before, reference(t, ns, "-Sn")); diff != "" {
				t.Errorf("ipvsadm -Sn after the refused file (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIntegrationImportKeepalivedPlan: the seeds' keepalived.conf (its DR
// director with TCP_CHECK, documentation addresses) imported with lvsadm
// import keepalived is a file lvsadm plan and apply take, and lvsadm run
// runs: the table is the one keepalived would build, written here by hand
// from the keepalived.conf.
func TestIntegrationImportKeepalivedPlan(t *testing.T) {
	testnet.NeedIPVS(t)
	ns := testnet.NewNS(t)
	conf, err := filepath.Abs("testdata/seed-dr-keepalived.conf")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testnet.Lvsadm(t), "import", "keepalived", conf)
	yaml, err := cmd.Output()
	if err != nil {
		t.Fatalf("import keepalived: %v", err)
	}
	file := writeFile(t, t.TempDir(), "seed.yaml", string(yaml))

	// plan: exit status 2 (changes pending) with the three additions.
	out, err := testnet.Exec(ns, testnet.Lvsadm(t), "plan", "-f", file)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("plan: %v, want exit status 2\n%s", err, out)
	}
	t.Logf("plan:\n%s", out)
	for _, s := range []string{"192.0.2.148:80", "198.51.100.146:80", "198.51.100.147:80"} {
		if !strings.Contains(out, s) {
			t.Errorf("plan does not mention %s", s)
		}
	}
	testnet.Run(t, ns, testnet.Lvsadm(t), "apply", "-f", file)
	want := "-A -t 192.0.2.148:80 -s rr\n" +
		"-a -t 192.0.2.148:80 -r 198.51.100.146:80 -g -w 1\n" +
		"-a -t 192.0.2.148:80 -r 198.51.100.147:80 -g -w 1\n"
	if diff := cmp.Diff(want, reference(t, ns, "-Sn")); diff != "" {
		t.Errorf("ipvsadm -Sn after apply (-want +got):\n%s", diff)
	}
	if out, err := testnet.Exec(ns, testnet.Lvsadm(t), "plan", "-f", file); err != nil {
		t.Errorf("plan after apply: %v, want no changes\n%s", err, out)
	}
	// lvsadm run accepts it and starts its checks (nothing answers: the
	// real servers do not exist, so both leave after fall failures).
	startRun(t, ns, file, listen)
	doc := status(t, ns, listen)
	if len(doc.Services) != 1 || len(doc.Services[0].RealServers) != 2 || doc.Services[0].RealServers[0].Check != "tcp" {
		t.Errorf("/status: %+v", doc)
	}
}

// TestIntegrationRunFlushOnExit: stopped with SIGTERM, lvsadm run
// --flush-on-exit removes the services and real servers it added and
// nothing else.
func TestIntegrationRunFlushOnExit(t *testing.T) {
	testnet.NeedIPVS(t)
	ns := testnet.NewNS(t)
	for _, line := range [][]string{
		{"-A", "-t", "192.0.2.1:80", "-s", "rr"}, // not in the file
		{"-a", "-t", "192.0.2.1:80", "-r", "198.51.100.1:80", "-m"},
		{"-A", "-t", "192.0.2.30:80", "-s", "rr"}, // in the file, there before
		{"-a", "-t", "192.0.2.30:80", "-r", "198.51.100.31:80", "-m"},
	} {
		reference(t, ns, line...)
	}
	file := writeFile(t, t.TempDir(), "flush.yaml", `schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.30
    port: 80
    scheduler: rr
    real_servers:
      - {address: 198.51.100.31, method: nat}
      - {address: 198.51.100.32, method: nat}
  - protocol: tcp
    address: 192.0.2.40
    port: 80
    scheduler: rr
    real_servers:
      - {address: 198.51.100.41, method: nat}
`)
	d := startRun(t, ns, file, listen, "--flush-on-exit")
	running := "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n" +
		"-A -t 192.0.2.30:80 -s rr\n-a -t 192.0.2.30:80 -r 198.51.100.31:80 -m -w 1\n-a -t 192.0.2.30:80 -r 198.51.100.32:80 -m -w 1\n" +
		"-A -t 192.0.2.40:80 -s rr\n-a -t 192.0.2.40:80 -r 198.51.100.41:80 -m -w 1\n"
	if diff := cmp.Diff(running, reference(t, ns, "-Sn")); diff != "" {
		t.Errorf("ipvsadm -Sn while running (-want +got):\n%s", diff)
	}
	d.signal(t, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		t.Fatal("lvsadm run did not stop on SIGTERM")
	}
	if d.err != nil {
		t.Errorf("lvsadm run after SIGTERM: %v\n%s", d.err, d.log.String())
	}
	stopped := "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n" +
		"-A -t 192.0.2.30:80 -s rr\n-a -t 192.0.2.30:80 -r 198.51.100.31:80 -m -w 1\n"
	if diff := cmp.Diff(stopped, reference(t, ns, "-Sn")); diff != "" {
		t.Errorf("ipvsadm -Sn after SIGTERM with --flush-on-exit (-want +got):\n%s", diff)
	}
}
