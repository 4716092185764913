package hostsetup

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/sysctl"
)

func TestDryRunPrintsExactOperationsAndChangesNothing(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[sysctl.Key]string
		args      []string
		want      string
	}{
		{
			name: "realserver dr",
			args: []string{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0", "--label", "lo:0", "--dry-run"},
			want: `# dry run: nothing is changed
write /proc/sys/net/ipv4/conf/all/arp_ignore: 0 -> 1
write /proc/sys/net/ipv4/conf/all/arp_announce: 0 -> 2
write /proc/sys/net/ipv4/conf/eth0/arp_ignore: 0 -> 1
write /proc/sys/net/ipv4/conf/eth0/arp_announce: 0 -> 2
ip address add 192.0.2.10/32 dev lo label lo:0
`,
		},
		{
			name:      "realserver dr keeps a stricter arp_ignore",
			overrides: map[sysctl.Key]string{sysctl.ConfKey(sysctl.All, sysctl.ArpIgnore): "2"},
			args:      []string{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--dry-run"},
			want: `# dry run: nothing is changed
keep /proc/sys/net/ipv4/conf/all/arp_ignore = 2
write /proc/sys/net/ipv4/conf/all/arp_announce: 0 -> 2
ip address add 192.0.2.10/32 dev lo
`,
		},
		{
			name: "director nat with kernel side effects",
			args: []string{"director", "up", "--mode", "nat", "--vip", "203.0.113.10", "--iface", "eth0", "--dry-run"},
			want: `# dry run: nothing is changed
write /proc/sys/net/ipv4/ip_forward: 0 -> 1
  kernel side effect: /proc/sys/net/ipv4/conf/all/forwarding: 0 -> 1
  kernel side effect: /proc/sys/net/ipv4/conf/all/accept_redirects: 1 -> 0
  kernel side effect: /proc/sys/net/ipv4/conf/default/forwarding: 0 -> 1
  kernel side effect: /proc/sys/net/ipv4/conf/eth0/forwarding: 0 -> 1
  kernel side effect: /proc/sys/net/ipv4/conf/lo/forwarding: 0 -> 1
write /proc/sys/net/ipv4/conf/all/send_redirects: 1 -> 0
write /proc/sys/net/ipv4/conf/default/send_redirects: 1 -> 0
  kernel side effect unless send_redirects was set explicitly on eth0: /proc/sys/net/ipv4/conf/eth0/send_redirects: 1 -> 0
  kernel side effect unless send_redirects was set explicitly on lo: /proc/sys/net/ipv4/conf/lo/send_redirects: 1 -> 0
write /proc/sys/net/ipv4/conf/eth0/send_redirects: 1 -> 0
ip address add 203.0.113.10/32 dev eth0
announce 203.0.113.10 on eth0
`,
		},
		{
			name:      "realserver tun predicts tunl0 from conf/default",
			overrides: map[sysctl.Key]string{sysctl.ConfKey(sysctl.All, sysctl.RPFilter): "1", sysctl.ConfKey(sysctl.Default, sysctl.RPFilter): "1"},
			args:      []string{"realserver", "up", "--mode", "tun", "--vip", "192.0.2.10", "--dry-run"},
			want: `# dry run: nothing is changed
ip link add tunl0 type ipip (loads the ipip module, which creates tunl0 itself)
write /proc/sys/net/ipv4/conf/all/arp_ignore: 0 -> 1
write /proc/sys/net/ipv4/conf/all/arp_announce: 0 -> 2
write /proc/sys/net/ipv4/conf/tunl0/rp_filter: 1 -> 2 (tunl0 does not exist yet; it will start from conf/default)
ip link set tunl0 up
ip address add 192.0.2.10/32 dev tunl0
`,
		},
		{
			name: "vip add",
			args: []string{"vip", "add", "2001:db8::10", "--iface", "eth0", "--dry-run"},
			want: `# dry run: nothing is changed
ip address add 2001:db8::10/128 dev eth0
announce 2001:db8::10 on eth0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, []string{"eth0"}, tt.overrides)
			before := r.k.files(t)
			out, errOut, err := r.run(tt.args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			if diff := cmp.Diff(tt.want, out); diff != "" {
				t.Errorf("dry-run output (-want +got):\n%s", diff)
			}
			if len(r.ev.log) != 0 {
				t.Errorf("dry run did something: %q", r.ev.log)
			}
			if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
				t.Errorf("dry run changed /proc/sys:\n%s", diff)
			}
			// Dry runs take no lock, so they work without the right to
			// create /run/lvsadm.
			if _, err := os.Stat(r.env.stateDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("dry run created the state directory")
			}
		})
	}
}

func TestDownDryRun(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	r.mustRun(t, "realserver", "up", "--mode", "dr", "--vip", "192.0.2.10")
	tree := r.k.files(t)
	state, _ := os.ReadFile(r.state)
	out := r.mustRun(t, "realserver", "down", "--dry-run")
	want := `# dry run: nothing is changed
ip address del 192.0.2.10/32 dev lo
write /proc/sys/net/ipv4/conf/all/arp_announce: 2 -> 0
write /proc/sys/net/ipv4/conf/all/arp_ignore: 1 -> 0
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("down --dry-run output (-want +got):\n%s", diff)
	}
	if len(r.ev.log) != 0 {
		t.Errorf("dry run did something: %q", r.ev.log)
	}
	if diff := cmp.Diff(tree, r.k.files(t)); diff != "" {
		t.Errorf("dry run changed /proc/sys:\n%s", diff)
	}
	if after, _ := os.ReadFile(r.state); !bytes.Equal(state, after) {
		t.Errorf("dry run changed the state file")
	}
}

// The seeds' real-server script sets the ARP knobs on lo and all, and many
// copies drop the all lines. status must show that eth0 still answers.
func TestStatusFlagsARPOnLoOnly(t *testing.T) {
	r := newRig(t, []string{"eth0"}, map[sysctl.Key]string{
		sysctl.ConfKey("lo", sysctl.ArpIgnore):   "1",
		sysctl.ConfKey("lo", sysctl.ArpAnnounce): "2",
	})
	r.n.addrs = append(r.n.addrs, Address{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Link: "lo", Label: "lo:0"})
	out, _, err := r.run("realserver", "status", "--mode", "dr", "--vip", "192.0.2.10", "--label", "lo:0")
	if exitCode(err) != ExitProblems {
		t.Fatalf("status: err = %v, want exit %d", err, ExitProblems)
	}
	want := `realserver: not recorded as up in this network namespace; checking --mode dr --vip 192.0.2.10/32 --label lo:0 --arp-scope all
+----------------+-----------+-----+-----+----------------------+-------------------------+---------+
| SETTING        | INTERFACE | ALL | OWN | EFFECTIVE            | NEEDED                  | STATE   |
+----------------+-----------+-----+-----+----------------------+-------------------------+---------+
| arp_ignore     | eth0      | 0   | 0   | 0                    | 1 or 2                  | PROBLEM |
| arp_announce   | eth0      | 0   | 0   | 0                    | 2                       | PROBLEM |
| vip 192.0.2.10 | lo        |     |     | /32 on lo label lo:0 | on lo as /32 label lo:0 | ok      |
+----------------+-----------+-----+-----+----------------------+-------------------------+---------+
problem: net/ipv4/conf/eth0/arp_ignore is 0 (the kernel uses the larger of all=0 and eth0=0), needs 1 or 2: the host answers ARP requests for the VIP, racing the director for the clients' traffic
problem: net/ipv4/conf/eth0/arp_announce is 0 (the kernel uses the larger of all=0 and eth0=0), needs 2: the host may use the VIP as the source of its ARP requests, pointing neighbours at itself
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("status output (-want +got):\n%s", diff)
	}

	r.mustRun(t, "realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--label", "lo:0")
	if out, _, err := r.run("realserver", "status"); err != nil || strings.Contains(out, "PROBLEM") {
		t.Errorf("status after up: err %v\n%s", err, out)
	}
}

func TestStatusFlagsSendRedirectsOR(t *testing.T) {
	// all=0 but eth1=1 explicitly: OR keeps redirects on for eth1.
	r := newRig(t, []string{"eth0", "eth1"}, map[sysctl.Key]string{
		sysctl.ConfKey(sysctl.All, sysctl.SendRedirects):     "0",
		sysctl.ConfKey(sysctl.Default, sysctl.SendRedirects): "0",
		sysctl.ConfKey("eth0", sysctl.SendRedirects):         "0",
	})
	out, _, err := r.run("redirects", "status")
	if exitCode(err) != ExitProblems {
		t.Fatalf("err = %v, want exit %d\n%s", err, ExitProblems, out)
	}
	if !strings.Contains(out, "problem: net/ipv4/conf/eth1/send_redirects is 1 (the kernel uses the OR of all=0 and eth1=1), needs 0") {
		t.Errorf("status does not explain the OR rule:\n%s", out)
	}
	if strings.Contains(out, "eth0/send_redirects is") {
		t.Errorf("status flags eth0, which is right:\n%s", out)
	}
}

func TestStatusNATDirectorOwnAddress(t *testing.T) {
	r := newRig(t, []string{"eth0", "eth1"}, nil)
	r.n.addrs = append(r.n.addrs, Address{Prefix: netip.MustParsePrefix("203.0.113.141/24"), Link: "eth0"})
	r.mustRun(t, "director", "up", "--mode", "nat", "--vip", "203.0.113.141", "--rs-iface", "eth1")
	out, _, err := r.run("director", "status")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	if !strings.Contains(out, "| vip 203.0.113.141   |           |     |     | /24 on eth0 | on this host | ok    |") {
		t.Errorf("the director's own /24 address does not count as the VIP:\n%s", out)
	}
	r.n.addrs = r.n.addrs[:1]
	if _, _, err := r.run("director", "status"); exitCode(err) != ExitProblems {
		t.Errorf("status without the address: err = %v, want exit %d", err, ExitProblems)
	}
}

func TestVipCommands(t *testing.T) {
	r := newRig(t, []string{"eth0"}, map[sysctl.Key]string{sysctl.Conf6Key("eth0", sysctl.Forwarding): "1"})
	steps := []struct {
		args    []string
		wantOut string
		wantEv  []string
	}{
		{
			args:    []string{"vip", "add", "192.0.2.10", "--iface", "lo:0"},
			wantOut: "ip address add 192.0.2.10/32 dev lo label lo:0\n",
			wantEv:  []string{"addr add 192.0.2.10/32 dev lo label lo:0"},
		},
		{
			args:    []string{"vip", "add", "192.0.2.10/32", "--iface", "lo", "--label", "lo:0"},
			wantOut: "keep address 192.0.2.10/32 dev lo label lo:0\n",
		},
		{
			args:    []string{"vip", "add", "198.51.100.7/24", "--iface", "eth0"},
			wantOut: "ip address add 198.51.100.7/24 dev eth0\nannounce 198.51.100.7 on eth0 (gratuitous ARP)\n",
			wantEv:  []string{"addr add 198.51.100.7/24 dev eth0", "announce 198.51.100.7 on eth0 router=false"},
		},
		{
			args:    []string{"vip", "add", "2001:db8::10", "--iface", "eth0"},
			wantOut: "ip address add 2001:db8::10/128 dev eth0\nannounce 2001:db8::10 on eth0 (unsolicited neighbour advertisement)\n",
			wantEv:  []string{"addr add 2001:db8::10/128 dev eth0", "announce 2001:db8::10 on eth0 router=true"},
		},
		{
			args:    []string{"vip", "add", "192.0.2.11", "--iface", "eth0", "--no-announce"},
			wantOut: "ip address add 192.0.2.11/32 dev eth0\n",
			wantEv:  []string{"addr add 192.0.2.11/32 dev eth0"},
		},
		{
			args: []string{"vip", "list"},
			wantOut: `+------------------+-----------+-------+-------------+
| ADDRESS          | INTERFACE | LABEL | LVSADM ROLE |
+------------------+-----------+-------+-------------+
| 192.0.2.10/32    | lo        | lo:0  | -           |
| 2001:db8::10/128 | eth0      | -     | -           |
| 192.0.2.11/32    | eth0      | -     | -           |
+------------------+-----------+-------+-------------+
`,
		},
		{
			args:    []string{"vip", "del", "192.0.2.10", "--iface", "lo:0"},
			wantOut: "ip address del 192.0.2.10/32 dev lo label lo:0\n",
			wantEv:  []string{"addr del 192.0.2.10/32 dev lo label lo:0"},
		},
		{
			args:    []string{"vip", "remove", "192.0.2.10", "--iface", "lo:0"},
			wantOut: "address 192.0.2.10/32 dev lo label lo:0 is not present; nothing to do\n",
		},
	}
	for _, s := range steps {
		out, errOut, err := r.run(s.args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", s.args, err, errOut)
		}
		if diff := cmp.Diff(s.wantOut, out); diff != "" {
			t.Errorf("%s: output (-want +got):\n%s", s.args, diff)
		}
		if diff := cmp.Diff(s.wantEv, r.ev.log); diff != "" {
			t.Errorf("%s: operations (-want +got):\n%s", s.args, diff)
		}
	}
	_, _, err := r.run("vip", "del", "198.51.100.7", "--iface", "eth0")
	if exitCode(err) != ExitFailure || !strings.Contains(err.Error(), "is on eth0 as 198.51.100.7/24 dev eth0, not 198.51.100.7/32 dev eth0") {
		t.Errorf("deleting with the wrong prefix: err = %v", err)
	}
}

func TestPersist(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	// systemd-networkd configures eth0 (ifindex 2) from 10-eth0.network.
	links := filepath.Join(r.env.root, "run", "systemd", "netif", "links")
	if err := os.MkdirAll(links, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(links, "2"), []byte("ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/10-eth0.network\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"director", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0:0", "--persist"}
	r.mustRun(t, args...)

	etc := filepath.Join(r.env.root, "etc")
	want := map[string]string{
		"sysctl.d/90-lvsadm-director.conf": `# Written by 'lvsadm director up --persist'; 'lvsadm director down --persist' removes this file.
# --mode dr --vip 192.0.2.10/32 --iface eth0 --label eth0:0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
-net.ipv4.conf.eth0.send_redirects = 0
`,
		"systemd/network/10-eth0.network.d/lvsadm-director.conf": `# Written by 'lvsadm director up --persist'; 'lvsadm director down --persist' removes this file.

[Address]
Address=192.0.2.10/32
Label=eth0:0
`,
	}
	got := map[string]string{}
	filepath.WalkDir(etc, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			got[strings.TrimPrefix(p, etc+"/")] = string(b)
		}
		return err
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("persisted files (-want +got):\n%s", diff)
	}

	out := r.mustRun(t, args...)
	if strings.Contains(out, "write "+etc) {
		t.Errorf("second up --persist rewrote files:\n%s", out)
	}

	r.mustRun(t, "director", "down", "--persist")
	for name := range want {
		if _, err := os.Stat(filepath.Join(etc, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after down --persist", name)
		}
	}
}

func TestPersistKeepsForeignFiles(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	p := filepath.Join(r.env.root, "etc", "sysctl.d", "90-lvsadm-forward.conf")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("net.ipv4.ip_forward = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := r.run("forward", "up", "--persist")
	if err == nil || !strings.Contains(err.Error(), "was not written by lvsadm") {
		t.Fatalf("err = %v, want a refusal to replace the file", err)
	}
	r.mustRun(t, "forward", "down", "--persist")
	if b, _ := os.ReadFile(p); string(b) != "net.ipv4.ip_forward = 0\n" {
		t.Errorf("foreign file touched: %q", b)
	}
}

// Commands must build new trees every time: flag values from one run must
// not leak into the next.
func TestCommandsAreFresh(t *testing.T) {
	var out bytes.Buffer
	a, b := Commands(&out, &out), Commands(&out, &out)
	var names []string
	for i := range a {
		if a[i] == b[i] {
			t.Errorf("command %s shared between calls", a[i].Name())
		}
		names = append(names, a[i].Name())
	}
	if diff := cmp.Diff([]string{"vip", "arp", "forward", "redirects", "rpfilter", "director", "realserver"}, names); diff != "" {
		t.Errorf("top-level commands (-want +got):\n%s", diff)
	}
	up, _, err := a[5].Find([]string{"up"})
	if err != nil {
		t.Fatal(err)
	}
	if err := up.ParseFlags([]string{"--mode", "nat"}); err != nil {
		t.Fatal(err)
	}
	up2, _, _ := b[5].Find([]string{"up"})
	if v, _ := up2.Flags().GetString("mode"); v != "" {
		t.Errorf("--mode leaked into a new tree: %q", v)
	}
	for _, c := range a {
		if !c.SilenceErrors || !c.SilenceUsage {
			t.Errorf("%s prints its own errors", c.Name())
		}
	}
}

func TestHelpGoesToInjectedWriter(t *testing.T) {
	r := newRig(t, nil, nil)
	out, errOut, err := r.run("realserver", "up", "--help")
	if err != nil || errOut != "" {
		t.Fatalf("help: %v, stderr %q", err, errOut)
	}
	for _, want := range []string{"--arp-scope", "--rp-filter", "--dry-run", "--persist", "lvsadm realserver up --mode dr"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestParseVIP(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "192.0.2.10", want: "192.0.2.10/32"},
		{in: "192.0.2.10/24", want: "192.0.2.10/24"},
		{in: "2001:db8::10", want: "2001:db8::10/128"},
		{in: "2001:db8::10/64", want: "2001:db8::10/64"},
		{in: "::ffff:192.0.2.10", want: "192.0.2.10/32"},
		{in: "::ffff:192.0.2.10/120", want: "192.0.2.10/24"},
		{in: "::ffff:192.0.2.10/64", wantErr: true},
		{in: "fe80::1%eth0", wantErr: true},
		{in: "192.0.2.300", wantErr: true},
		{in: "192.0.2.10/33", wantErr: true},
		{in: "vip.example", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseVIP(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseVIP(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("parseVIP(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestSplitLabel(t *testing.T) {
	tests := []struct {
		in, dev, label string
		wantErr        bool
	}{
		{in: "lo", dev: "lo"},
		{in: "lo:0", dev: "lo", label: "lo:0"},
		{in: "eth0.100:vip", dev: "eth0.100", label: "eth0.100:vip"},
		{in: "eth0:", wantErr: true},
		{in: "enp3s0f1:1234567", wantErr: true}, // 16 bytes
		{in: ":0", wantErr: true},
		{in: "eth0:a b", wantErr: true},
	}
	for _, tt := range tests {
		dev, label, err := splitLabel(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("splitLabel(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if dev != tt.dev || label != tt.label {
			t.Errorf("splitLabel(%q) = %q, %q; want %q, %q", tt.in, dev, label, tt.dev, tt.label)
		}
	}
}
