package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile puts text in a file of the test's own and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const stateRules = "-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 198.51.100.1:80 -m -w 3\n-A -u 192.0.2.11:53 -s rr\n"

// TestPlanApplyExport drives the desired-state commands as a user does:
// plan (exit 2: changes pending), apply, plan again (exit 0), a second
// apply that sends nothing, export in each format and back.
func TestPlanApplyExport(t *testing.T) {
	h := newHarness(t)
	rules := writeFile(t, "lvs.rules", stateRules)
	r := h.run("", "lvsadm", "plan", "-f", rules)
	want := "+ -A -t 192.0.2.10:80 -s wrr   (" + rules + ":1)\n" +
		"+ -a -t 192.0.2.10:80 -r 198.51.100.1:80 -m -w 3   (" + rules + ":2)\n" +
		"+ -A -u 192.0.2.11:53 -s rr   (" + rules + ":3)\n" +
		"Plan: 3 to add, 0 to change, 0 to remove.\n"
	if r.status != 2 || r.stdout != want || r.stderr != "" {
		t.Errorf("plan: status %d\n%s%s\nwant status 2\n%s", r.status, r.stdout, r.stderr, want)
	}
	r = h.run("", "lvsadm", "apply", "-f", rules)
	if r.status != 0 || r.stdout != strings.Replace(want, "Plan:", "Plan:", 1)+"Applied: 3 added, 0 changed, 0 removed.\n" {
		t.Errorf("apply: status %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	if got := h.rules(); got != stateRules {
		t.Errorf("rules after apply:\n%s", got)
	}
	if r = h.run("", "lvsadm", "plan", "-f", rules); r.status != 0 || r.stdout != "Plan: 0 to add, 0 to change, 0 to remove.\n" {
		t.Errorf("plan after apply: status %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	r = h.run("", "lvsadm", "apply", "-f", rules)
	if r.status != 0 || r.stdout != "No changes: the kernel's table already matches "+rules+"; nothing was sent.\n" {
		t.Errorf("second apply: status %d\n%s%s", r.status, r.stdout, r.stderr)
	}

	for _, f := range []string{"rules", "yaml", "json"} {
		r = h.run("", "lvsadm", "export", "-o", f)
		if r.status != 0 || r.stderr != "" {
			t.Fatalf("export -o %s: status %d\n%s", f, r.status, r.stderr)
		}
		if f == "rules" && r.stdout != h.rules() {
			t.Errorf("export -o rules is not ipvsadm -Sn:\n%s", r.stdout)
		}
		exported := writeFile(t, "exported."+f, r.stdout)
		if p := h.run("", "lvsadm", "plan", "-f", exported); p.status != 0 {
			t.Errorf("plan of export -o %s: status %d\n%s%s\nexported:\n%s", f, p.status, p.stdout, p.stderr, r.stdout)
		}
	}
	r = h.run("", "lvsadm", "export")
	want = `schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.10
    port: 80
    scheduler: wrr
    real_servers:
      - address: 198.51.100.1
        port: 80
        method: nat
        weight: 3
  - protocol: udp
    address: 192.0.2.11
    port: 53
    scheduler: rr
`
	if r.stdout != want {
		t.Errorf("export:\n%s\nwant:\n%s", r.stdout, want)
	}
}

// TestApplyBadInput: a file apply cannot read is an error naming the place,
// with status 1, and the kernel is untouched.
func TestApplyBadInput(t *testing.T) {
	h := newHarness(t)
	h.ipvsadm("-A -t 192.0.2.99:80 -s rr")
	before := h.rules()
	for _, tt := range []struct{ name, text, want string }{
		{"bad.rules", "-A -t 192.0.2.1:80\n-A -t 192.0.2.1:0\n", "bad.rules:2: Zero port specified for non-persistent service"},
		{"bad.yaml", "schema_version: 1\nservices:\n  - protocol: tcp\n    adress: 192.0.2.1\n    port: 80\n",
			"bad.yaml:4:5: unknown key \"adress\" in service (did you mean \"address\"?)\nlvsadm: bad.yaml:3:5: service: address missing (a service has protocol, address and port, or fwmark)"},
		{"bad.json", `{"schema_version": 1, "services": [`, "bad.json:1: did not find expected node content"},
	} {
		path := writeFile(t, tt.name, tt.text)
		for _, cmd := range []string{"plan", "apply"} {
			r := h.run("", "lvsadm", cmd, "-f", path)
			want := "lvsadm: " + strings.ReplaceAll(tt.want, tt.name, path) + "\n"
			if r.status != 1 || r.stderr != want || r.stdout != "" {
				t.Errorf("%s %s: status %d, stdout %q, stderr %q; want 1, %q", cmd, tt.name, r.status, r.stdout, r.stderr, want)
			}
		}
	}
	if got := h.rules(); got != before {
		t.Errorf("the kernel changed:\n%s", got)
	}
	if r := h.run("", "lvsadm", "plan"); r.status != 1 || r.stderr != "lvsadm: give the desired table with -f FILE (- for standard input)\n" {
		t.Errorf("plan without -f: %+v", r)
	}
	if r := h.run("", "lvsadm", "plan", "--bogus"); r.status != 1 {
		t.Errorf("plan with an unknown flag: status %d, want 1 (2 means changes)", r.status)
	}
}

// TestApplyFromStdinDryRun: -f - reads standard input; --dry-run changes
// nothing.
func TestApplyFromStdinDryRun(t *testing.T) {
	h := newHarness(t)
	r := h.run(stateRules, "lvsadm", "apply", "-f", "-", "--dry-run")
	if r.status != 0 || !strings.HasSuffix(r.stdout, "Dry run: nothing was changed.\n") || !strings.Contains(r.stdout, "(<stdin>:1)") {
		t.Errorf("apply --dry-run: status %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	if got := h.rules(); got != "" {
		t.Errorf("dry run changed the kernel:\n%s", got)
	}
}

// TestListJSONShowsThresholds: list -o json reads real servers over
// netlink, where /proc/net/ip_vs has no thresholds.
func TestListJSONShowsThresholds(t *testing.T) {
	h := newHarness(t)
	h.ipvsadm("-A -t 192.0.2.1:80 -s rr")
	h.ipvsadm("-a -t 192.0.2.1:80 -r 198.51.100.1 -m -w 1 -x 100 -y 10")
	h.procIPVS = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n" +
		"TCP  C0000201:0050 rr  \n  -> C6336401:0050      Masq    1      0          0         \n"
	r := h.run("", "lvsadm", "list", "-o", "json")
	if !strings.Contains(r.stdout, `"upper_threshold": 100`) || !strings.Contains(r.stdout, `"persistent_connections": 0`) {
		t.Errorf("list -o json leaves out what /proc lacks:\n%s%s", r.stdout, r.stderr)
	}
}

// TestPlanWithoutIPVS: plan dials the kernel and reads it while it parses
// the file, but a file's error still comes first, and a missing -f is
// reported without trying to load IPVS.
func TestPlanWithoutIPVS(t *testing.T) {
	h := newHarness(t)
	h.noIPVS = true
	bad := writeFile(t, "bad.rules", "-A -t 192.0.2.1:0\n")
	good := writeFile(t, "good.rules", stateRules)
	for _, tt := range []struct {
		args       []string
		wantStderr string
		modprobes  int
	}{
		{[]string{"plan"}, "lvsadm: give the desired table with -f FILE (- for standard input)\n", 0},
		{[]string{"plan", "-f", bad}, "lvsadm: " + bad + ":1: Zero port specified for non-persistent service\n", 1},
		{[]string{"apply", "-f", bad}, "lvsadm: " + bad + ":1: Zero port specified for non-persistent service\n", 1},
		{[]string{"plan", "-f", good}, "", 1},
	} {
		h.modprobes = 0
		r := h.run("", append([]string{"lvsadm"}, tt.args...)...)
		if r.status != 1 || r.stdout != "" || (tt.wantStderr != "" && r.stderr != tt.wantStderr) || h.modprobes != tt.modprobes {
			t.Errorf("%q: status %d, stdout %q, stderr %q, %d modprobes; want 1, %q, %d", tt.args, r.status, r.stdout, r.stderr, h.modprobes, tt.wantStderr, tt.modprobes)
		}
		if tt.wantStderr == "" && !strings.Contains(r.stderr, "IPVS") {
			t.Errorf("%q: stderr %q does not say IPVS is missing", tt.args, r.stderr)
		}
	}
}
