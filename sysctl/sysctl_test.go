package sysctl_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/sysctl"
)

// tree writes a fake /proc/sys under a temporary directory, each value with
// the newline the kernel prints, and returns an FS on it.
func tree(t *testing.T, values map[sysctl.Key]string) sysctl.FS {
	t.Helper()
	root := t.TempDir()
	for k, v := range values {
		p := filepath.Join(root, filepath.FromSlash(string(k)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return sysctl.New(root)
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		name    string
		want    sysctl.Key
		wantErr bool
	}{
		{name: "net.ipv4.ip_forward", want: "net/ipv4/ip_forward"},
		{name: "net/ipv4/ip_forward", want: "net/ipv4/ip_forward"},
		{name: "net.ipv4.conf.eth0/100.arp_ignore", want: "net/ipv4/conf/eth0.100/arp_ignore"},
		{name: "net/ipv4/conf/eth0.100/arp_ignore", want: "net/ipv4/conf/eth0.100/arp_ignore"},
		// The first separator decides, as in sysctl(8): a dotted name with a
		// later '/' is still dotted notation.
		{name: "net.ipv4.conf.br0/10/20.rp_filter", want: "net/ipv4/conf/br0.10.20/rp_filter"},
		{name: "net.ipv4.vs.conntrack", want: "net/ipv4/vs/conntrack"},
		{name: "", wantErr: true},
		{name: "/proc/sys/net/ipv4/ip_forward", wantErr: true},
		{name: "net..ipv4", wantErr: true},
		{name: "net/ipv4/conf/../../kernel", wantErr: true},
		{name: "net.ipv4.conf.../x", wantErr: true},
		{name: "net/ipv4/", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sysctl.ParseKey(tt.name)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseKey(%q) error = %v, wantErr %v", tt.name, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseKey(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestDottedRoundTrip(t *testing.T) {
	tests := []struct {
		key    sysctl.Key
		dotted string
	}{
		{sysctl.IPForward, "net.ipv4.ip_forward"},
		{sysctl.ConfKey("eth0.100", sysctl.ArpIgnore), "net.ipv4.conf.eth0/100.arp_ignore"},
		{sysctl.ConfKey("all", sysctl.SendRedirects), "net.ipv4.conf.all.send_redirects"},
		{sysctl.Conf6Key("vlan.7", sysctl.Forwarding), "net.ipv6.conf.vlan/7.forwarding"},
	}
	for _, tt := range tests {
		t.Run(string(tt.key), func(t *testing.T) {
			if got := tt.key.Dotted(); got != tt.dotted {
				t.Errorf("Dotted() = %q, want %q", got, tt.dotted)
			}
			back, err := sysctl.ParseKey(tt.dotted)
			if err != nil {
				t.Fatal(err)
			}
			if back != tt.key {
				t.Errorf("ParseKey(%q) = %q, want %q", tt.dotted, back, tt.key)
			}
		})
	}
}

func TestKeyConf(t *testing.T) {
	type split struct {
		Family int
		Iface  string
		Knob   sysctl.Knob
		OK     bool
	}
	tests := []struct {
		key  sysctl.Key
		want split
	}{
		{"net/ipv4/conf/eth0.100/arp_ignore", split{4, "eth0.100", sysctl.ArpIgnore, true}},
		{"net/ipv6/conf/all/forwarding", split{6, "all", sysctl.Forwarding, true}},
		{"net/ipv4/ip_forward", split{}},
		{"net/ipv4/conf/eth0", split{}},
		{"net/ipv4/neigh/eth0/gc_stale_time", split{}},
	}
	for _, tt := range tests {
		var got split
		got.Family, got.Iface, got.Knob, got.OK = tt.key.Conf()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s.Conf() mismatch (-want +got):\n%s", tt.key, diff)
		}
	}
}

func TestValidInterfaceName(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"eth0", true},
		{"eth0.100", true},
		{"a23456789012345", true},
		{"a234567890123456", false},
		{"", false},
		{".", false},
		{"..", false},
		{"all", false},
		{"default", false},
		{"eth0:0", false},
		{"a/b", false},
		{"a b", false},
	}
	for _, tt := range tests {
		if err := sysctl.ValidInterfaceName(tt.name); (err == nil) != tt.valid {
			t.Errorf("ValidInterfaceName(%q) = %v, want valid=%v", tt.name, err, tt.valid)
		}
	}
}

func TestReadWriteKeepKernelFormat(t *testing.T) {
	fs := tree(t, map[sysctl.Key]string{
		sysctl.IPForward:                             "0",
		"net/ipv4/ip_local_port_range":               "32768\t60999",
		sysctl.ConfKey("eth0.100", sysctl.ArpIgnore): "0",
	})
	got, err := fs.Read("net/ipv4/ip_local_port_range")
	if err != nil {
		t.Fatal(err)
	}
	if got != "32768\t60999" {
		t.Errorf("Read = %q, want the value without the newline", got)
	}

	// A longer value over a shorter one, then back: the file must hold
	// exactly what the kernel would print.
	k := sysctl.ConfKey("eth0.100", sysctl.ArpIgnore)
	for _, v := range []string{"10", "1"} {
		if err := fs.Write(k, v); err != nil {
			t.Fatal(err)
		}
		p, _ := fs.Path(k)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != v+"\n" {
			t.Errorf("after Write(%q) file holds %q, want %q", v, b, v+"\n")
		}
	}
	if n, err := fs.ReadInt(k); err != nil || n != 1 {
		t.Errorf("ReadInt = %d, %v; want 1", n, err)
	}
}

func TestWriteNeverCreatesKeys(t *testing.T) {
	fs := tree(t, map[sysctl.Key]string{sysctl.IPForward: "0"})
	err := fs.Write(sysctl.ConfKey("eth9", sysctl.ArpIgnore), "1")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Write to a missing key: err = %v, want ErrNotExist", err)
	}
	if fs.Exists(sysctl.ConfKey("eth9", sysctl.ArpIgnore)) {
		t.Error("Write created a missing key")
	}
}

func TestRefusedInput(t *testing.T) {
	fs := tree(t, map[sysctl.Key]string{sysctl.IPForward: "0"})
	if err := fs.Write(sysctl.IPForward, "1\n0"); err == nil {
		t.Error("Write accepted a value with a newline")
	}
	if _, err := fs.Read("net/../../etc/passwd"); err == nil {
		t.Error("Read accepted a key leaving the root")
	}
	if _, err := fs.ReadInt(sysctl.ConfKey("eth0", sysctl.ArpIgnore)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadInt of a missing key: err = %v, want ErrNotExist", err)
	}
}

func TestDefaultRoot(t *testing.T) {
	if got := sysctl.New("").Root(); got != "/proc/sys" {
		t.Errorf("New(\"\").Root() = %q", got)
	}
	var zero sysctl.FS
	if got := zero.Root(); got != "/proc/sys" {
		t.Errorf("zero FS Root() = %q", got)
	}
}

func TestInterfaces(t *testing.T) {
	fs := tree(t, map[sysctl.Key]string{
		sysctl.ConfKey("all", sysctl.ArpIgnore):      "0",
		sysctl.ConfKey("default", sysctl.ArpIgnore):  "0",
		sysctl.ConfKey("lo", sysctl.ArpIgnore):       "0",
		sysctl.ConfKey("eth0.100", sysctl.ArpIgnore): "0",
		sysctl.ConfKey("eth0", sysctl.ArpIgnore):     "0",
	})
	got, err := fs.Interfaces(4)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"eth0", "eth0.100", "lo"}, got); diff != "" {
		t.Errorf("Interfaces(4) mismatch (-want +got):\n%s", diff)
	}
	// No IPv6 tree (ipv6.disable=1): no interfaces, no error.
	got, err = fs.Interfaces(6)
	if err != nil || got != nil {
		t.Errorf("Interfaces(6) = %v, %v; want nil, nil", got, err)
	}
}

func TestCombine(t *testing.T) {
	tests := []struct {
		rule       sysctl.Rule
		all, iface int
		want       int
	}{
		{sysctl.RuleMax, 1, 0, 1},
		{sysctl.RuleMax, 0, 2, 2},
		{sysctl.RuleMax, 2, 1, 2},
		{sysctl.RuleOr, 0, 0, 0},
		{sysctl.RuleOr, 1, 0, 1},
		{sysctl.RuleOr, 0, 1, 1},
		{sysctl.RuleOr, 0, 5, 1},
		{sysctl.RuleAnd, 1, 0, 0},
		{sysctl.RuleAnd, 1, 1, 1},
		{sysctl.RuleInterface, 1, 0, 0},
	}
	for _, tt := range tests {
		got, err := sysctl.Combine(tt.rule, tt.all, tt.iface)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("Combine(%s, %d, %d) = %d, want %d", tt.rule, tt.all, tt.iface, got, tt.want)
		}
	}
	if _, err := sysctl.Combine(sysctl.RuleRedirects, 1, 1); err == nil {
		t.Error("Combine(RuleRedirects) did not refuse: it needs the forwarding value")
	}
}

func TestRuleFor(t *testing.T) {
	tests := []struct {
		family int
		knob   sysctl.Knob
		want   sysctl.Rule
	}{
		{4, sysctl.ArpIgnore, sysctl.RuleMax},
		{4, sysctl.ArpAnnounce, sysctl.RuleMax},
		{4, sysctl.RPFilter, sysctl.RuleMax},
		{4, sysctl.SendRedirects, sysctl.RuleOr},
		{4, sysctl.Forwarding, sysctl.RuleInterface},
		{4, sysctl.AcceptRedirects, sysctl.RuleRedirects},
		{4, "tag", sysctl.RuleUnknown},
		{6, sysctl.Forwarding, sysctl.RuleInterface},
		{6, sysctl.ArpIgnore, sysctl.RuleUnknown},
	}
	for _, tt := range tests {
		if got := sysctl.RuleFor(tt.family, tt.knob); got != tt.want {
			t.Errorf("RuleFor(%d, %s) = %s, want %s", tt.family, tt.knob, got, tt.want)
		}
	}
}

func TestEffective(t *testing.T) {
	c := sysctl.ConfKey
	tests := []struct {
		name   string
		values map[sysctl.Key]string
		key    sysctl.Key
		want   int
	}{
		{
			name:   "arp_ignore on lo alone does not help eth0",
			values: map[sysctl.Key]string{c("all", sysctl.ArpIgnore): "0", c("lo", sysctl.ArpIgnore): "1", c("eth0", sysctl.ArpIgnore): "0"},
			key:    c("eth0", sysctl.ArpIgnore),
			want:   0,
		},
		{
			name:   "arp_ignore all wins when larger",
			values: map[sysctl.Key]string{c("all", sysctl.ArpIgnore): "1", c("eth0", sysctl.ArpIgnore): "0"},
			key:    c("eth0", sysctl.ArpIgnore),
			want:   1,
		},
		{
			name:   "arp_announce interface wins when larger",
			values: map[sysctl.Key]string{c("all", sysctl.ArpAnnounce): "1", c("eth0", sysctl.ArpAnnounce): "2"},
			key:    c("eth0", sysctl.ArpAnnounce),
			want:   2,
		},
		{
			name:   "rp_filter 0 on tunl0 loses to all=1",
			values: map[sysctl.Key]string{c("all", sysctl.RPFilter): "1", c("tunl0", sysctl.RPFilter): "0"},
			key:    c("tunl0", sysctl.RPFilter),
			want:   1,
		},
		{
			name:   "rp_filter loose on tunl0 beats strict all",
			values: map[sysctl.Key]string{c("all", sysctl.RPFilter): "1", c("tunl0", sysctl.RPFilter): "2"},
			key:    c("tunl0", sysctl.RPFilter),
			want:   2,
		},
		{
			name:   "send_redirects all=0 does not silence eth0=1",
			values: map[sysctl.Key]string{c("all", sysctl.SendRedirects): "0", c("eth0", sysctl.SendRedirects): "1"},
			key:    c("eth0", sysctl.SendRedirects),
			want:   1,
		},
		{
			name:   "send_redirects eth0=0 does not silence all=1",
			values: map[sysctl.Key]string{c("all", sysctl.SendRedirects): "1", c("eth0", sysctl.SendRedirects): "0"},
			key:    c("eth0", sysctl.SendRedirects),
			want:   1,
		},
		{
			name:   "send_redirects off needs both",
			values: map[sysctl.Key]string{c("all", sysctl.SendRedirects): "0", c("eth0", sysctl.SendRedirects): "0"},
			key:    c("eth0", sysctl.SendRedirects),
			want:   0,
		},
		{
			name: "accept_redirects is AND while forwarding",
			values: map[sysctl.Key]string{c("all", sysctl.AcceptRedirects): "0", c("eth0", sysctl.AcceptRedirects): "1",
				c("eth0", sysctl.Forwarding): "1"},
			key:  c("eth0", sysctl.AcceptRedirects),
			want: 0,
		},
		{
			name: "accept_redirects is OR while not forwarding",
			values: map[sysctl.Key]string{c("all", sysctl.AcceptRedirects): "0", c("eth0", sysctl.AcceptRedirects): "1",
				c("eth0", sysctl.Forwarding): "0"},
			key:  c("eth0", sysctl.AcceptRedirects),
			want: 1,
		},
		{
			name:   "forwarding is per interface",
			values: map[sysctl.Key]string{c("all", sysctl.Forwarding): "1", c("eth0", sysctl.Forwarding): "0"},
			key:    c("eth0", sysctl.Forwarding),
			want:   0,
		},
		{
			name:   "all is its own value",
			values: map[sysctl.Key]string{c("all", sysctl.ArpIgnore): "2"},
			key:    c("all", sysctl.ArpIgnore),
			want:   2,
		},
		{
			name:   "dotted interface name",
			values: map[sysctl.Key]string{c("all", sysctl.ArpIgnore): "0", c("eth0.100", sysctl.ArpIgnore): "1"},
			key:    c("eth0.100", sysctl.ArpIgnore),
			want:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := tree(t, tt.values)
			got, err := fs.Effective(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Effective(%s) = %d, want %d", tt.key, got, tt.want)
			}
		})
	}
}

func TestEffectiveRefusesUnknownRule(t *testing.T) {
	fs := tree(t, map[sysctl.Key]string{
		sysctl.ConfKey("all", "tag"):  "0",
		sysctl.ConfKey("eth0", "tag"): "0",
	})
	if _, err := fs.Effective(sysctl.ConfKey("eth0", "tag")); err == nil {
		t.Error("Effective guessed a rule for a knob it does not know")
	}
	if _, err := fs.Effective(sysctl.IPForward); err == nil {
		t.Error("Effective accepted a key outside the conf tree")
	}
}

// hostTree is a small host: lo and eth0 in both families, and a VLAN.
func hostTree(t *testing.T) sysctl.FS {
	t.Helper()
	values := map[sysctl.Key]string{sysctl.IPForward: "0"}
	for _, iface := range []string{"all", "default", "lo", "eth0", "eth0.100"} {
		values[sysctl.ConfKey(iface, sysctl.Forwarding)] = "0"
		values[sysctl.ConfKey(iface, sysctl.AcceptRedirects)] = "1"
		values[sysctl.ConfKey(iface, sysctl.SendRedirects)] = "1"
		values[sysctl.ConfKey(iface, sysctl.ArpIgnore)] = "0"
		values[sysctl.Conf6Key(iface, sysctl.Forwarding)] = "0"
	}
	values[sysctl.ConfKey("eth0", sysctl.ArpIgnore)] = "1"
	return tree(t, values)
}

func TestMayAffect(t *testing.T) {
	c, c6 := sysctl.ConfKey, sysctl.Conf6Key
	tests := []struct {
		key  sysctl.Key
		want []sysctl.Key
	}{
		{sysctl.IPForward, []sysctl.Key{
			c("all", sysctl.Forwarding), c("all", sysctl.AcceptRedirects), c("default", sysctl.Forwarding),
			c("eth0", sysctl.Forwarding), c("eth0.100", sysctl.Forwarding), c("lo", sysctl.Forwarding),
		}},
		{c("all", sysctl.Forwarding), []sysctl.Key{
			sysctl.IPForward, c("all", sysctl.AcceptRedirects), c("default", sysctl.Forwarding),
			c("eth0", sysctl.Forwarding), c("eth0.100", sysctl.Forwarding), c("lo", sysctl.Forwarding),
		}},
		{sysctl.IPv6Forward, []sysctl.Key{
			c6("default", sysctl.Forwarding), c6("eth0", sysctl.Forwarding), c6("eth0.100", sysctl.Forwarding), c6("lo", sysctl.Forwarding),
		}},
		{c("default", sysctl.SendRedirects), []sysctl.Key{
			c("eth0", sysctl.SendRedirects), c("eth0.100", sysctl.SendRedirects), c("lo", sysctl.SendRedirects),
		}},
		// conf/default/forwarding has its own handler, which copies nothing.
		{c("default", sysctl.Forwarding), nil},
		{c("all", sysctl.SendRedirects), nil},
		{c("eth0", sysctl.ArpIgnore), nil},
		{c6("default", sysctl.Forwarding), nil},
		{c("default", "promote_secondaries"), nil},
	}
	fs := hostTree(t)
	for _, tt := range tests {
		got, err := fs.MayAffect(tt.key)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("MayAffect(%s) mismatch (-want +got):\n%s", tt.key, diff)
		}
	}
}

func TestPredict(t *testing.T) {
	c, c6 := sysctl.ConfKey, sysctl.Conf6Key
	tests := []struct {
		name  string
		key   sysctl.Key
		value string
		want  []sysctl.Change
	}{
		{
			name: "ip_forward on resets every forwarding and all/accept_redirects",
			key:  sysctl.IPForward, value: "1",
			want: []sysctl.Change{
				{Key: c("all", sysctl.Forwarding), From: "0", To: "1"},
				{Key: c("all", sysctl.AcceptRedirects), From: "1", To: "0"},
				{Key: c("default", sysctl.Forwarding), From: "0", To: "1"},
				{Key: c("eth0", sysctl.Forwarding), From: "0", To: "1"},
				{Key: c("eth0.100", sysctl.Forwarding), From: "0", To: "1"},
				{Key: c("lo", sysctl.Forwarding), From: "0", To: "1"},
			},
		},
		{
			name: "writing the value ip_forward already has changes nothing",
			key:  sysctl.IPForward, value: "0",
		},
		{
			name: "default propagates only where the value differs, conditionally",
			key:  c("default", sysctl.ArpIgnore), value: "1",
			want: []sysctl.Change{
				{Key: c("eth0.100", sysctl.ArpIgnore), From: "0", To: "1", Conditional: true},
				{Key: c("lo", sysctl.ArpIgnore), From: "0", To: "1", Conditional: true},
			},
		},
		{
			name: "ipv6 forwarding",
			key:  sysctl.IPv6Forward, value: "1",
			want: []sysctl.Change{
				{Key: c6("default", sysctl.Forwarding), From: "0", To: "1"},
				{Key: c6("eth0", sysctl.Forwarding), From: "0", To: "1"},
				{Key: c6("eth0.100", sysctl.Forwarding), From: "0", To: "1"},
				{Key: c6("lo", sysctl.Forwarding), From: "0", To: "1"},
			},
		},
		{
			name: "an interface key has no side effects",
			key:  c("eth0", sysctl.SendRedirects), value: "0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := hostTree(t)
			got, err := fs.Predict(tt.key, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Predict(%s, %s) mismatch (-want +got):\n%s", tt.key, tt.value, diff)
			}
		})
	}
}

func TestCheckHostSetupKey(t *testing.T) {
	allowed := []sysctl.Key{
		sysctl.IPForward,
		sysctl.IPv6Forward,
		"net/ipv4/conf/all/forwarding",
		"net/ipv4/conf/all/accept_redirects",
		"net/ipv4/conf/default/forwarding",
		"net/ipv4/conf/eth0.100/forwarding",
		"net/ipv4/conf/all/arp_ignore",
		"net/ipv4/conf/eth0/arp_announce",
		"net/ipv4/conf/tunl0/rp_filter",
		"net/ipv4/conf/default/send_redirects",
		"net/ipv4/conf/eth1/send_redirects",
		"net/ipv6/conf/default/forwarding",
		"net/ipv6/conf/eth0/forwarding",
	}
	for _, k := range allowed {
		if err := sysctl.CheckHostSetupKey(k); err != nil {
			t.Errorf("CheckHostSetupKey(%q) = %v, want nil", k, err)
		}
	}
	refused := []sysctl.Key{
		"kernel/hostname",
		"kernel/core_pattern",
		"net/core/somaxconn",
		"net/ipv4/vs/conntrack",
		"net/ipv4/conf/eth0/accept_local",
		"net/ipv4/conf/eth0/accept_redirects", // only all's is a side effect
		"net/ipv4/conf/default/arp_ignore",    // up writes all and interfaces
		"net/ipv6/conf/eth0/disable_ipv6",
		"net/ipv4/conf/../../../kernel/hostname",
		"net/ipv4/conf/eth0/../../../../kernel/core_pattern",
		"net/ipv4/conf/averyveryverylongname/arp_ignore",
		"net/ipv4/conf/eth0:1/arp_ignore",
		"net/ipv4/conf/eth0/arp_ignore/x",
		"net/ipv4/ip_forward/x",
		"/proc/sys/net/ipv4/ip_forward",
		"",
	}
	for _, k := range refused {
		if err := sysctl.CheckHostSetupKey(k); err == nil {
			t.Errorf("CheckHostSetupKey(%q) = nil, want a refusal", k)
		}
	}
}
