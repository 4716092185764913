package hostsetup

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/sysctl"
)

// decode reads JSON output into generic values, for comparing with what a
// test expects whatever the layout.
func decode(t *testing.T, out string) any {
	t.Helper()
	if !strings.HasSuffix(out, "}\n") {
		t.Errorf("JSON output does not end in a closing brace and a newline: %q", out)
	}
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return v
}

func mustDecode(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("bad expectation: %v\n%s", err, text)
	}
	return v
}

// TestStatusJSON: status -o json says what the table says, with the same
// exit status, and a recorded role is checked against its recorded
// settings (-o is not an option that names other settings).
func TestStatusJSON(t *testing.T) {
	r := newRig(t, []string{"eth0"}, map[sysctl.Key]string{
		sysctl.ConfKey("lo", sysctl.ArpIgnore):   "1",
		sysctl.ConfKey("lo", sysctl.ArpAnnounce): "2",
	})
	r.n.addrs = append(r.n.addrs, Address{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Link: "lo", Label: "lo:0"})
	out, errOut, err := r.run("realserver", "status", "--mode", "dr", "--vip", "192.0.2.10", "--label", "lo:0", "-o", "json")
	if exitCode(err) != ExitProblems || err.Error() != "realserver status: 2 problem(s) for --mode dr --vip 192.0.2.10/32 --label lo:0 --arp-scope all" {
		t.Errorf("err = %v (exit %d), want exit %d", err, exitCode(err), ExitProblems)
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
	const flags = "--mode dr --vip 192.0.2.10/32 --label lo:0 --arp-scope all"
	want := `{
  "schema_version": 1,
  "role": "realserver",
  "recorded": null,
  "checking": {"flags": "` + flags + `", "mode": "dr", "vips": ["192.0.2.10/32"], "label": "lo:0", "arp_scope": "all"},
  "checks": [
    {"kind": "sysctl", "key": "net.ipv4.conf.eth0.arp_ignore", "interface": "eth0", "all": 0, "own": 0, "effective": 0, "needed": [1, 2], "ok": false,
     "problem": "net/ipv4/conf/eth0/arp_ignore is 0 (the kernel uses the larger of all=0 and eth0=0), needs 1 or 2: the host answers ARP requests for the VIP, racing the director for the clients' traffic"},
    {"kind": "sysctl", "key": "net.ipv4.conf.eth0.arp_announce", "interface": "eth0", "all": 0, "own": 0, "effective": 0, "needed": [2], "ok": false,
     "problem": "net/ipv4/conf/eth0/arp_announce is 0 (the kernel uses the larger of all=0 and eth0=0), needs 2: the host may use the VIP as the source of its ARP requests, pointing neighbours at itself"},
    {"kind": "vip", "vip": "192.0.2.10", "interface": "lo", "prefix_length": 32, "label": "lo:0", "exclusive": true,
     "found": [{"address": "192.0.2.10/32", "interface": "lo", "label": "lo:0"}], "ok": true}
  ],
  "problems": [
    "net/ipv4/conf/eth0/arp_ignore is 0 (the kernel uses the larger of all=0 and eth0=0), needs 1 or 2: the host answers ARP requests for the VIP, racing the director for the clients' traffic",
    "net/ipv4/conf/eth0/arp_announce is 0 (the kernel uses the larger of all=0 and eth0=0), needs 2: the host may use the VIP as the source of its ARP requests, pointing neighbours at itself"
  ]
}`
	if diff := cmp.Diff(mustDecode(t, want), decode(t, out)); diff != "" {
		t.Errorf("status -o json (-want +got):\n%s", diff)
	}

	r.mustRun(t, "realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--label", "lo:0")
	out = r.mustRun(t, "realserver", "status", "-o", "json")
	var got statusJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	wantRecorded := &recordedJSON{Since: r.env.now(), Changes: 2,
		Settings: settingsJSON{Flags: flags, Mode: "dr", VIPs: []string{"192.0.2.10/32"}, Label: "lo:0", ARPScope: "all"}}
	if diff := cmp.Diff(wantRecorded, got.Recorded); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRecorded.Settings, got.Checking); diff != "" {
		t.Errorf("checking (-want +got):\n%s", diff)
	}
	if len(got.Problems) != 0 || len(got.Checks) != 3 {
		t.Errorf("after up: %d checks, problems %q; want 3 checks and none", len(got.Checks), got.Problems)
	}
}

// tableRows reads the rows of a status or vip list table, and the problem
// lines after it.
func tableRows(out string) (rows [][]string, problems []string) {
	header := true
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "problem: "):
			problems = append(problems, strings.TrimPrefix(line, "problem: "))
		case strings.HasPrefix(line, "|") && header:
			header = false
		case strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		}
	}
	return rows, problems
}

// cellsOf writes a check of status -o json as the table's row.
func cellsOf(t *testing.T, c map[string]any) []string {
	t.Helper()
	str := func(k string) string {
		v, ok := c[k]
		switch {
		case !ok:
			return ""
		case v == nil:
			return "-"
		}
		return fmt.Sprint(v)
	}
	state := "ok"
	if c["ok"] != true {
		state = "PROBLEM"
	}
	switch c["kind"] {
	case "sysctl":
		setting := str("key")
		if iface := str("interface"); iface != "" {
			setting = setting[strings.LastIndex(setting, ".")+1:]
		}
		eff := str("effective")
		if c["effective"] == nil {
			eff = str("read_error")
		}
		var need []string
		for _, v := range c["needed"].([]any) {
			need = append(need, fmt.Sprint(v))
		}
		return []string{setting, str("interface"), str("all"), str("own"), eff, strings.Join(need, " or "), state}
	case "vip":
		var found []string
		for _, f := range c["found"].([]any) {
			a := f.(map[string]any)
			s := fmt.Sprintf("/%s on %s", strings.Split(a["address"].(string), "/")[1], a["interface"])
			if l, ok := a["label"]; ok {
				s += " label " + l.(string)
			}
			found = append(found, s)
		}
		have := strings.Join(found, ", ")
		if have == "" {
			have = "absent"
		}
		need := "on this host"
		if iface := str("interface"); iface != "" {
			need = "on " + iface + " as /" + str("prefix_length")
			if l := str("label"); l != "" {
				need += " label " + l
			}
		}
		return []string{"vip " + str("vip"), str("interface"), "", "", have, need, state}
	case "link":
		return []string{"link", str("interface"), "", "", str("state"), "up", state}
	}
	t.Fatalf("unknown kind %v", c["kind"])
	return nil
}

// TestStatusJSONMatchesTable: for every role and hosts right and wrong, the
// JSON says what the table says, row for row, and exits the same; without
// -o and with -o table the output is the same bytes.
func TestStatusJSONMatchesTable(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *rig)
		args  []string
	}{
		{"director nat", nil, []string{"director", "status", "--mode", "nat", "--vip", "203.0.113.10", "--vip", "2001:db8::10", "--rs-iface", "eth1"}},
		{"director dr, VIP elsewhere", func(r *rig) {
			r.n.addrs = append(r.n.addrs, Address{Prefix: netip.MustParsePrefix("192.0.2.10/24"), Link: "eth1"})
		}, []string{"director", "status", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0:vip"}},
		{"realserver tun without tunl0", nil, []string{"realserver", "status", "--mode", "tun", "--vip", "192.0.2.10"}},
		{"realserver dr on a missing interface", nil, []string{"realserver", "status", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth9"}},
		{"realserver dr, VIP on lo and eth0", func(r *rig) {
			r.n.addrs = append(r.n.addrs, Address{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Link: "lo"},
				Address{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Link: "eth0", Label: "eth0:1"})
		}, []string{"realserver", "status", "--mode", "dr", "--vip", "192.0.2.10"}},
		{"forward", nil, []string{"forward", "status", "--ipv6"}},
		{"redirects", nil, []string{"redirects", "status"}},
		{"rpfilter", nil, []string{"rpfilter", "status", "--rp-filter", "off"}},
		{"arp, set up", func(r *rig) { r.mustRun(t, "arp", "up") }, []string{"arp", "status"}},
		{"realserver tun, set up", func(r *rig) {
			r.mustRun(t, "realserver", "up", "--mode", "tun", "--vip", "192.0.2.10", "--iface", "eth0")
		}, []string{"realserver", "status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, []string{"eth0", "eth1"}, nil)
			if tt.setup != nil {
				tt.setup(r)
			}
			table, tableErrOut, tableErr := r.run(tt.args...)
			explicit, _, explicitErr := r.run(append(tt.args, "-o", "table")...)
			if explicit != table || fmt.Sprint(explicitErr) != fmt.Sprint(tableErr) {
				t.Errorf("-o table differs from the default:\n%s\n%v\n%s\n%v", table, tableErr, explicit, explicitErr)
			}
			out, errOut, err := r.run(append(tt.args, "-o", "json")...)
			if exitCode(err) != exitCode(tableErr) || fmt.Sprint(err) != fmt.Sprint(tableErr) || errOut != tableErrOut {
				t.Errorf("-o json: err %v (exit %d), stderr %q; the table: %v (exit %d), %q", err, exitCode(err), errOut, tableErr, exitCode(tableErr), tableErrOut)
			}
			v := decode(t, out).(map[string]any)
			var rows [][]string
			for _, c := range v["checks"].([]any) {
				rows = append(rows, cellsOf(t, c.(map[string]any)))
			}
			var problems []string
			for _, p := range v["problems"].([]any) {
				problems = append(problems, p.(string))
			}
			wantRows, wantProblems := tableRows(table)
			if diff := cmp.Diff(wantRows, rows); diff != "" {
				t.Errorf("checks (-table +json):\n%s\n%s", diff, out)
			}
			if diff := cmp.Diff(wantProblems, problems); diff != "" {
				t.Errorf("problems (-table +json):\n%s", diff)
			}
			if len(wantRows) == 0 {
				t.Errorf("no rows in the table:\n%s", table)
			}
			// The table's first line names the settings checked.
			first, _, _ := strings.Cut(table, "\n")
			if flags := v["checking"].(map[string]any)["flags"].(string); !strings.Contains(first, flags) {
				t.Errorf("checking %q; the table says %q", flags, first)
			}
			if recorded := v["recorded"] != nil; recorded != strings.Contains(first, ": up since ") {
				t.Errorf("recorded %v; the table says %q", recorded, first)
			}
		})
	}
}

// TestVipListJSON: vip list -o json lists what the table lists.
func TestVipListJSON(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	r.mustRun(t, "realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--label", "lo:0")
	r.mustRun(t, "vip", "add", "2001:db8::10", "--iface", "eth0")
	r.mustRun(t, "vip", "add", "198.51.100.7/24", "--iface", "eth0", "--label", "eth0:web")
	r.n.addrs = append(r.n.addrs, Address{Prefix: netip.MustParsePrefix("198.51.100.8/24"), Link: "eth0"}) // not VIP-like
	table := r.mustRun(t, "vip", "list")
	out := r.mustRun(t, "vip", "list", "-o", "json")
	want := `{"schema_version": 1, "addresses": [
		{"address": "192.0.2.10/32", "interface": "lo", "label": "lo:0", "role": "realserver"},
		{"address": "2001:db8::10/128", "interface": "eth0"},
		{"address": "198.51.100.7/24", "interface": "eth0", "label": "eth0:web"}]}`
	if diff := cmp.Diff(mustDecode(t, want), decode(t, out)); diff != "" {
		t.Errorf("vip list -o json (-want +got):\n%s\ntable:\n%s", diff, table)
	}
	rows, _ := tableRows(table)
	var list vipListJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	var fromJSON [][]string
	for _, a := range list.Addresses {
		label, role := a.Label, a.Role
		if label == "" {
			label = "-"
		}
		if role == "" {
			role = "-"
		}
		fromJSON = append(fromJSON, []string{a.Address, a.Interface, label, role})
	}
	if diff := cmp.Diff(rows, fromJSON); diff != "" {
		t.Errorf("vip list: table and JSON differ (-table +json):\n%s", diff)
	}
	if out := r.mustRun(t, "vip", "list", "--iface", "lo", "-o", "json"); !strings.Contains(out, `"lo:0"`) || strings.Contains(out, "eth0") {
		t.Errorf("vip list --iface lo -o json:\n%s", out)
	}
}

func TestOutputFlagErrors(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	for _, args := range [][]string{
		{"vip", "list", "-o", "yaml"},
		{"arp", "status", "-o", "yaml"},
		{"director", "status", "--mode", "dr", "--vip", "192.0.2.10", "--output", "yaml"},
	} {
		out, errOut, err := r.run(args...)
		want := args[0] + " " + args[1] + ": -o yaml: want table or json"
		if exitCode(err) != ExitUsage || err.Error() != want || out != "" || errOut != "" {
			t.Errorf("%s: err %v (exit %d), stdout %q, stderr %q; want %q (exit 2)", args, err, exitCode(err), out, errOut, want)
		}
	}
	// Without a recorded role, status still needs the settings; -o is not
	// one of them.
	_, _, err := r.run("director", "status", "-o", "json")
	if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "give --mode and --vip to check") {
		t.Errorf("director status -o json with nothing recorded: %v", err)
	}
}
