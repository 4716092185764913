package hostsetup

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/sysctl"
)

func TestRealServerDRUpDownIsExact(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	before := r.k.files(t)
	addrsBefore := slices.Clone(r.n.addrs)

	out := r.mustRun(t, "realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0", "--label", "lo:0")
	wantUp := []string{
		"write net/ipv4/conf/all/arp_ignore=1",
		"write net/ipv4/conf/all/arp_announce=2",
		"write net/ipv4/conf/eth0/arp_ignore=1",
		"write net/ipv4/conf/eth0/arp_announce=2",
		"addr add 192.0.2.10/32 dev lo label lo:0",
	}
	if diff := cmp.Diff(wantUp, r.ev.log); diff != "" {
		t.Errorf("up: operations (-want +got):\n%s\noutput:\n%s", diff, out)
	}
	for key, want := range map[sysctl.Key]int{
		sysctl.ConfKey("eth0", sysctl.ArpIgnore): 1, sysctl.ConfKey("eth0", sysctl.ArpAnnounce): 2,
		sysctl.ConfKey("lo", sysctl.ArpIgnore): 1, // through conf/all
	} {
		if got, err := r.k.Effective(key); err != nil || got != want {
			t.Errorf("effective %s = %d, %v; want %d", key, got, err, want)
		}
	}

	r.mustRun(t, "realserver", "down")
	wantDown := []string{
		"addr del 192.0.2.10/32 dev lo label lo:0",
		"write net/ipv4/conf/eth0/arp_announce=0",
		"write net/ipv4/conf/eth0/arp_ignore=0",
		"write net/ipv4/conf/all/arp_announce=0",
		"write net/ipv4/conf/all/arp_ignore=0",
	}
	if diff := cmp.Diff(wantDown, r.ev.log); diff != "" {
		t.Errorf("down: operations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys after down differs from before up (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(addrsBefore, r.n.addrs, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("addresses after down (-before +after):\n%s", diff)
	}
	if _, err := os.Stat(r.state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file left after the last role went down: %v", err)
	}
}

func TestUpTwiceChangesNothingTheSecondTime(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"realserver dr", []string{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0"}},
		{"realserver tun", []string{"realserver", "up", "--mode", "tun", "--vip", "192.0.2.10", "--iface", "eth0"}},
		{"director nat", []string{"director", "up", "--mode", "nat", "--vip", "192.0.2.10", "--iface", "eth0", "--rs-iface", "eth1"}},
		{"director dr", []string{"director", "up", "--mode", "dr", "--vip", "192.0.2.10/24", "--iface", "eth0:0"}},
		{"forward", []string{"forward", "up", "--ipv6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, []string{"eth0", "eth1"}, map[sysctl.Key]string{sysctl.ConfKey(sysctl.All, sysctl.RPFilter): "1"})
			r.mustRun(t, tt.args...)
			tree := r.k.files(t)
			state, err := os.ReadFile(r.state)
			if err != nil {
				t.Fatal(err)
			}
			out := r.mustRun(t, tt.args...)
			if len(r.ev.log) != 0 {
				t.Errorf("second up did something: %q", r.ev.log)
			}
			if !strings.Contains(out, "nothing needed changing") {
				t.Errorf("second up output does not say nothing changed:\n%s", out)
			}
			if diff := cmp.Diff(tree, r.k.files(t)); diff != "" {
				t.Errorf("second up changed /proc/sys:\n%s", diff)
			}
			state2, _ := os.ReadFile(r.state)
			if diff := cmp.Diff(string(state), string(state2)); diff != "" {
				t.Errorf("second up changed the state file:\n%s", diff)
			}
		})
	}
}

// A host that forwards on eth0 only (ip_forward=0, eth0/forwarding=1 set
// explicitly). Turning ip_forward on and back off makes the kernel reset
// eth0/forwarding to 0; down must notice and put 1 back.
func TestDirectorNATRecordsAndUndoesForwardingSideEffects(t *testing.T) {
	r := newRig(t, []string{"eth0", "eth1"}, map[sysctl.Key]string{
		sysctl.ConfKey("eth0", sysctl.Forwarding): "1",
	})
	before := r.k.files(t)
	r.mustRun(t, "director", "up", "--mode", "nat", "--vip", "203.0.113.10", "--iface", "eth0", "--rs-iface", "eth1")

	st := r.loadState(t)
	e := st.entry(roleDirector)
	if e == nil {
		t.Fatal("no director entry recorded")
	}
	var changed []effect
	for _, ef := range e.Changes[0].Effects {
		if ef.Before != ef.After {
			changed = append(changed, ef)
		}
	}
	wantEffects := []effect{
		{Key: sysctl.ConfKey("all", sysctl.Forwarding), Before: "0", After: "1"},
		{Key: sysctl.ConfKey("all", sysctl.AcceptRedirects), Before: "1", After: "0"},
		{Key: sysctl.ConfKey("default", sysctl.Forwarding), Before: "0", After: "1"},
		{Key: sysctl.ConfKey("eth1", sysctl.Forwarding), Before: "0", After: "1"},
		{Key: sysctl.ConfKey("lo", sysctl.Forwarding), Before: "0", After: "1"},
	}
	if diff := cmp.Diff(wantEffects, changed); diff != "" {
		t.Errorf("recorded side effects of ip_forward (-want +got):\n%s", diff)
	}
	if e.Changes[0].Key != sysctl.IPForward {
		t.Errorf("first change is %s, want ip_forward before the per-interface keys", e.Changes[0].Key)
	}

	out, _, err := r.run("director", "down")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "write /proc/sys/net/ipv4/conf/eth0/forwarding: 0 -> 1 (the kernel changed it while restoring net/ipv4/ip_forward)") {
		t.Errorf("down did not report repairing eth0/forwarding:\n%s", out)
	}
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys after down differs from before up (-before +after):\n%s", diff)
	}
}

// conf/default/send_redirects=0 reaches every interface that never had the
// knob written (eth0); eth1 had it written (1) and keeps it, so lvsadm writes
// eth1 itself. down restores default, which the kernel copies back.
func TestRedirectsDefaultPropagation(t *testing.T) {
	r := newRig(t, []string{"eth0", "eth1"}, map[sysctl.Key]string{
		sysctl.ConfKey("eth1", sysctl.SendRedirects): "1",
	})
	before := r.k.files(t)
	r.mustRun(t, "redirects", "up", "--iface", "eth1")

	e := r.loadState(t).entry(roleRedirects)
	var dflt change
	for _, c := range e.Changes {
		if c.Key == sysctl.ConfKey(sysctl.Default, sysctl.SendRedirects) {
			dflt = c
		}
	}
	var changed []effect
	for _, ef := range dflt.Effects {
		if ef.Before != ef.After {
			changed = append(changed, ef)
		}
	}
	// lo is up and so counts as explicitly set: it keeps its value.
	wantEffects := []effect{
		{Key: sysctl.ConfKey("eth0", sysctl.SendRedirects), Before: "1", After: "0"},
	}
	if diff := cmp.Diff(wantEffects, changed); diff != "" {
		t.Errorf("recorded propagation of conf/default (-want +got):\n%s", diff)
	}
	for _, name := range []string{"eth0", "eth1"} {
		if got, _ := r.k.Effective(sysctl.ConfKey(name, sysctl.SendRedirects)); got != 0 {
			t.Errorf("effective send_redirects on %s = %d after up, want 0", name, got)
		}
	}
	r.mustRun(t, "redirects", "down")
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys after down differs from before up (-before +after):\n%s", diff)
	}
}

func TestDownLeavesValuesSomeoneElseChanged(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	r.mustRun(t, "realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0")
	// Someone tightens all/arp_ignore after lvsadm.
	r.k.put(sysctl.ConfKey(sysctl.All, sysctl.ArpIgnore), "2")

	out, errOut, err := r.run("realserver", "down")
	if err != nil {
		t.Fatalf("down: %v\n%s%s", err, out, errOut)
	}
	want := "lvsadm: warning: /proc/sys/net/ipv4/conf/all/arp_ignore is 2, not the 1 lvsadm wrote: someone else changed it, so it stays 2\n"
	if errOut != want {
		t.Errorf("stderr = %q, want %q", errOut, want)
	}
	for key, want := range map[sysctl.Key]string{
		sysctl.ConfKey(sysctl.All, sysctl.ArpIgnore):   "2",
		sysctl.ConfKey(sysctl.All, sysctl.ArpAnnounce): "0",
		sysctl.ConfKey("eth0", sysctl.ArpIgnore):       "0",
	} {
		if got := r.k.get(key); got != want {
			t.Errorf("%s = %s after down, want %s", key, got, want)
		}
	}
}

func TestDownWithoutUp(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	before := r.k.files(t)
	out, errOut, err := r.run("realserver", "down")
	if err != nil {
		t.Fatalf("down without up failed: %v", err)
	}
	want := "realserver: nothing to undo: no 'lvsadm realserver up' is recorded in this network namespace (" + r.state + ")\n"
	if out != want || errOut != "" {
		t.Errorf("output = %q, stderr %q; want %q", out, errOut, want)
	}
	if len(r.ev.log) != 0 {
		t.Errorf("down without up did something: %q", r.ev.log)
	}
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys changed:\n%s", diff)
	}
}

func TestCorruptStateChangesNothing(t *testing.T) {
	tests := []struct {
		name    string
		content string
		reason  string
	}{
		{"truncated", `{"version": 1, "netns": {"inode": 40265`, "unexpected EOF"},
		{"not json", "garbage\n", "invalid character"},
		{"unknown version", `{"version": 9, "netns": {"inode": 4026532000}, "entries": []}`, "version 9"},
		{"bad key", `{"version": 1, "netns": {"inode": 4026532000}, "entries": [{"role": "arp", "settings": {}, "since": "2026-01-01T00:00:00Z", "changes": [{"kind": "sysctl", "key": "net/../../etc/passwd", "before": "0", "after": "1"}]}]}`, "is not a key lvsadm's host setup writes"},
		{"named for another namespace", `{"version": 1, "netns": {"inode": 4026532001}, "entries": []}`, "records network namespace inode 4026532001, but is named for 4026532000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, []string{"eth0"}, nil)
			if err := os.MkdirAll(filepath.Dir(r.state), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(r.state, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			before := r.k.files(t)
			for _, args := range [][]string{
				{"realserver", "down"},
				{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10"},
			} {
				_, _, err := r.run(args...)
				var corrupt *CorruptStateError
				if !errors.As(err, &corrupt) || exitCode(err) != ExitFailure {
					t.Fatalf("%s: err = %v, want CorruptStateError with exit %d", args, err, ExitFailure)
				}
				if !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), r.state) {
					t.Errorf("message %q does not name the file and %q", err, tt.reason)
				}
			}
			if len(r.ev.log) != 0 {
				t.Errorf("something was done: %q", r.ev.log)
			}
			if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
				t.Errorf("/proc/sys changed:\n%s", diff)
			}
			if b, _ := os.ReadFile(r.state); string(b) != tt.content {
				t.Errorf("state file was rewritten: %q", b)
			}
		})
	}
}

func TestLockHeldByAnotherLvsadm(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	st := store{dir: r.env.stateDir, ns: r.ns, lockTimeout: time.Second, owner: os.Geteuid()}
	release, err := st.lock()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	before := r.k.files(t)
	_, _, err = r.run("realserver", "up", "--mode", "dr", "--vip", "192.0.2.10")
	if !errors.Is(err, errLocked) || exitCode(err) != ExitFailure {
		t.Fatalf("up with the lock held: err = %v, want errLocked", err)
	}
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys changed while locked out:\n%s", diff)
	}
	release()
	r.mustRun(t, "realserver", "up", "--mode", "dr", "--vip", "192.0.2.10")
}

func TestStateSaveIsAtomic(t *testing.T) {
	dir := t.TempDir()
	st := store{dir: dir, ns: netnsID{Inode: 1, Cookie: 2}, lockTimeout: time.Second, owner: os.Geteuid()}
	first := &state{Entries: []*entry{{Role: roleForward, Changes: []change{{Kind: changeSysctl, Key: sysctl.IPForward, Before: "0", After: "1"}}}}}
	if err := st.save(first); err != nil {
		t.Fatal(err)
	}
	// A reader that opened the file before the save keeps reading the old
	// complete content: the save replaced the file, it did not rewrite it.
	old, err := os.Open(st.path())
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldBytes, _ := os.ReadFile(st.path())
	second := &state{Entries: []*entry{{Role: roleARP}, {Role: roleForward}}}
	if err := st.save(second); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(oldBytes)+10)
	n, _ := old.Read(got)
	if string(got[:n]) != string(oldBytes) {
		t.Errorf("the open file changed under its reader: save did not replace it by rename")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"netns-1.json"}, names); diff != "" {
		t.Errorf("files in the state directory (-want +got):\n%s", diff)
	}
	info, _ := os.Stat(st.path())
	if info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", info.Mode().Perm())
	}
	loaded, err := st.load(false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{roleARP, roleForward}, []string{loaded.Entries[0].Role, loaded.Entries[1].Role}); diff != "" {
		t.Errorf("reloaded roles (-want +got):\n%s", diff)
	}
	// No role left: the file goes away.
	if err := st.save(&state{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty state still on disk: %v", err)
	}
}

func TestStaleReason(t *testing.T) {
	rec := netnsID{Inode: 5, Cookie: 9, BootID: "a"}
	tests := []struct {
		now   netnsID
		stale bool
	}{
		{netnsID{Inode: 5, Cookie: 9, BootID: "a"}, false},
		{netnsID{Inode: 5, Cookie: 0, BootID: "a"}, false}, // kernel without cookies: cannot tell
		{netnsID{Inode: 5, Cookie: 9, BootID: ""}, false},
		{netnsID{Inode: 5, Cookie: 10, BootID: "a"}, true}, // inode reused by a new namespace
		{netnsID{Inode: 5, Cookie: 9, BootID: "b"}, true},  // another boot
	}
	for _, tt := range tests {
		if got := rec.StaleReason(tt.now); (got != "") != tt.stale {
			t.Errorf("StaleReason(%+v) = %q, want stale %v", tt.now, got, tt.stale)
		}
	}
}

func TestRefusalsChangeNothing(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[sysctl.Key]string
		addrs     []Address
		args      []string
		code      int
		message   string
	}{
		{
			name: "wide prefix on lo",
			args: []string{"vip", "add", "192.0.2.10/24", "--iface", "lo"},
			code: ExitUsage, message: "on a loopback interface the kernel treats the whole 192.0.2.0/24 as local",
		},
		{
			name: "real server VIP with a prefix",
			args: []string{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10/24"},
			code: ExitUsage, message: "drop the /24",
		},
		{
			name:  "VIP already on another interface",
			addrs: []Address{{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Link: "eth0"}},
			args:  []string{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0"},
			code:  ExitFailure, message: "192.0.2.10 is already configured on eth0",
		},
		{
			name:  "VIP present with another prefix",
			addrs: []Address{{Prefix: netip.MustParsePrefix("192.0.2.10/24"), Link: "eth0"}},
			args:  []string{"director", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0"},
			code:  ExitFailure, message: "192.0.2.10 is already on eth0 as 192.0.2.10/24 dev eth0, which differs from the requested 192.0.2.10/32 dev eth0",
		},
		{
			name:  "VIP present with another label",
			addrs: []Address{{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Link: "lo", Label: "lo:1"}},
			args:  []string{"vip", "add", "192.0.2.10", "--iface", "lo:0"},
			code:  ExitFailure, message: "differs from the requested 192.0.2.10/32 dev lo label lo:0",
		},
		{
			name:      "interface scope cannot beat all",
			overrides: map[sysctl.Key]string{sysctl.ConfKey(sysctl.All, sysctl.ArpIgnore): "3"},
			args:      []string{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0", "--arp-scope", "iface"},
			code:      ExitFailure, message: "conf/all/arp_ignore is 3",
		},
		{
			name: "missing interface",
			args: []string{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth7"},
			code: ExitFailure, message: "interface eth7 does not exist",
		},
		{
			name: "label for IPv6",
			args: []string{"vip", "add", "2001:db8::10", "--iface", "lo:0"},
			code: ExitUsage, message: "address labels exist for IPv4 only",
		},
		{
			name: "label not of the interface",
			args: []string{"director", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0", "--label", "vip0"},
			code: ExitUsage, message: `label "vip0" must be eth0:SOMETHING`,
		},
		{
			name: "unknown mode",
			args: []string{"director", "up", "--mode", "fullnat", "--vip", "192.0.2.10", "--iface", "eth0"},
			code: ExitUsage, message: `not "fullnat"`,
		},
		{
			name: "TUN with IPv6",
			args: []string{"realserver", "up", "--mode", "tun", "--vip", "2001:db8::10"},
			code: ExitUsage, message: "carries IPv4 only",
		},
		{
			name: "NAT VIP nowhere",
			args: []string{"director", "up", "--mode", "nat", "--vip", "203.0.113.10"},
			code: ExitUsage, message: "VIP 203.0.113.10 is not configured on any interface",
		},
		{
			name: "unknown flag",
			args: []string{"director", "up", "--bogus"},
			code: ExitUsage, message: "unknown flag: --bogus",
		},
		{
			name: "stray argument",
			args: []string{"realserver", "down", "now"},
			code: ExitUsage, message: `unexpected argument "now"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, []string{"eth0"}, tt.overrides)
			r.n.addrs = append(r.n.addrs, tt.addrs...)
			before := r.k.files(t)
			_, _, err := r.run(tt.args...)
			if exitCode(err) != tt.code || err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v (exit %d), want exit %d containing %q", err, exitCode(err), tt.code, tt.message)
			}
			if len(r.ev.log) != 0 {
				t.Errorf("refused command did something: %q", r.ev.log)
			}
			if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
				t.Errorf("/proc/sys changed:\n%s", diff)
			}
			if _, err := os.Stat(r.state); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("refused command left a state file")
			}
		})
	}
}

// A failure half way undoes what the same up did and records nothing.
func TestUpFailureRollsBack(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	r.n.failOn = "add 192.0.2.10/32"
	before := r.k.files(t)
	_, _, err := r.run("realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0")
	if err == nil || !strings.Contains(err.Error(), "changes undone") {
		t.Fatalf("err = %v, want a failure that says the changes were undone", err)
	}
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys after a failed up (-before +after):\n%s", diff)
	}
	if _, err := os.Stat(r.state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed up left a state file")
	}
}

// A change that cannot be undone stays recorded, so down can be repeated
// once the cause is fixed; the rest is undone meanwhile.
func TestDownKeepsWhatFailed(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	before := r.k.files(t)
	r.mustRun(t, "realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0")
	r.k.failOn = sysctl.ConfKey(sysctl.All, sysctl.ArpAnnounce)
	_, errOut, err := r.run("realserver", "down")
	if exitCode(err) != ExitFailure || !strings.Contains(err.Error(), "1 change(s) could not be undone") {
		t.Fatalf("down: err = %v\n%s", err, errOut)
	}
	e := r.loadState(t).entry(roleRealServer)
	if e == nil || len(e.Changes) != 1 || e.Changes[0].Key != sysctl.ConfKey(sysctl.All, sysctl.ArpAnnounce) {
		t.Fatalf("recorded after a partial down: %+v", e)
	}
	r.k.failOn = ""
	r.mustRun(t, "realserver", "down")
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys after the second down (-before +after):\n%s", diff)
	}
}

// arp up and realserver up both rely on the ARP values. Taking arp down
// first must not break the real server: the values stay and realserver down
// restores them later.
func TestDownHandsOverValuesAnotherRoleNeeds(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	before := r.k.files(t)
	r.mustRun(t, "arp", "up", "--iface", "eth0")
	r.mustRun(t, "realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0")

	out := r.mustRun(t, "arp", "down")
	if !strings.Contains(out, "keep /proc/sys/net/ipv4/conf/all/arp_ignore = 1: realserver relies on it") {
		t.Errorf("arp down did not explain the hand-over:\n%s", out)
	}
	for _, ev := range r.ev.log {
		if strings.HasPrefix(ev, "write") {
			t.Errorf("arp down wrote while realserver needs the values: %s", ev)
		}
	}
	if got, _ := r.k.Effective(sysctl.ConfKey("eth0", sysctl.ArpIgnore)); got != 1 {
		t.Errorf("eth0 arp_ignore = %d after arp down, want 1 kept for the real server", got)
	}
	r.mustRun(t, "realserver", "down")
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys after both roles went down (-before +after):\n%s", diff)
	}
}

func TestRealServerTUN(t *testing.T) {
	tests := []struct {
		name          string
		tunnelCreates bool
		allRPFilter   string
		wantTunl0RP   string
	}{
		{"fallback tunnel, strict all", false, "1", "2"},
		{"tunnel created by lvsadm, strict all", true, "1", "2"},
		{"loose all already fine", false, "2", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, []string{"eth0"}, map[sysctl.Key]string{
				sysctl.ConfKey(sysctl.All, sysctl.RPFilter): tt.allRPFilter,
			})
			r.n.tunnelCreates = tt.tunnelCreates
			r.mustRun(t, "realserver", "up", "--mode", "tun", "--vip", "192.0.2.10", "--iface", "eth0")
			// tunl0 exists now either way; what the kernel gave it at
			// creation is the baseline down must return to.
			if got := r.k.get(sysctl.ConfKey("tunl0", sysctl.RPFilter)); got != tt.wantTunl0RP {
				t.Errorf("tunl0 rp_filter = %s, want %s", got, tt.wantTunl0RP)
			}
			if eff, _ := r.k.Effective(sysctl.ConfKey("tunl0", sysctl.RPFilter)); eff == 1 {
				t.Errorf("effective rp_filter on tunl0 is strict")
			}
			wantOrder := []string{"link add tunl0 ipip"}
			wantOrder = append(wantOrder,
				"write net/ipv4/conf/all/arp_ignore=1", "write net/ipv4/conf/all/arp_announce=2",
				"write net/ipv4/conf/eth0/arp_ignore=1", "write net/ipv4/conf/eth0/arp_announce=2")
			if tt.wantTunl0RP == "2" {
				wantOrder = append(wantOrder, "write net/ipv4/conf/tunl0/rp_filter=2")
			}
			wantOrder = append(wantOrder, "link tunl0 up=true", "addr add 192.0.2.10/32 dev tunl0")
			if diff := cmp.Diff(wantOrder, r.ev.log); diff != "" {
				t.Errorf("up operations (-want +got):\n%s", diff)
			}

			r.mustRun(t, "realserver", "down")
			wantDown := []string{"addr del 192.0.2.10/32 dev tunl0", "link tunl0 up=false"}
			if tt.wantTunl0RP == "2" {
				wantDown = append(wantDown, "write net/ipv4/conf/tunl0/rp_filter=0")
			}
			wantDown = append(wantDown,
				"write net/ipv4/conf/eth0/arp_announce=0", "write net/ipv4/conf/eth0/arp_ignore=0",
				"write net/ipv4/conf/all/arp_announce=0", "write net/ipv4/conf/all/arp_ignore=0")
			if tt.tunnelCreates {
				wantDown = append(wantDown, "link del tunl0")
			}
			if diff := cmp.Diff(wantDown, r.ev.log); diff != "" {
				t.Errorf("down operations (-want +got):\n%s", diff)
			}
		})
	}
}

func (r *rig) loadState(t *testing.T) *state {
	t.Helper()
	s, err := store{dir: r.env.stateDir, ns: r.ns, owner: os.Geteuid()}.load(false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// When up fails and undoing one of its changes fails too, that change stays
// recorded, the error names it, and the exit status is 1; a later down
// finishes the job.
func TestUpFailureWithFailedRollback(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	before := r.k.files(t)
	r.n.failOn = "add 192.0.2.10/32"
	r.k.failOn, r.k.failWith = sysctl.ConfKey(sysctl.All, sysctl.ArpAnnounce), "0" // the restoring write
	out, errOut, err := r.run("realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0")
	want := "realserver up failed: injected failure; undoing failed for 1 change(s), which stay in place and recorded in " +
		r.state + ": net/ipv4/conf/all/arp_announce (2, was 0); fix the cause, then run 'lvsadm realserver down'"
	if exitCode(err) != ExitFailure || err.Error() != want {
		t.Fatalf("err = %v (exit %d)\nwant %s (exit 1)\nstdout:\n%s", err, exitCode(err), want, out)
	}
	if strings.Contains(out+errOut, "changes undone") {
		t.Errorf("output claims the changes were undone:\n%s%s", out, errOut)
	}
	wantWarn := "lvsadm: warning: write net/ipv4/conf/all/arp_announce: injected failure\n"
	if errOut != wantWarn {
		t.Errorf("stderr = %q, want %q", errOut, wantWarn)
	}
	e := r.loadState(t).entry(roleRealServer)
	if e == nil || len(e.Changes) != 1 || e.Changes[0].Key != sysctl.ConfKey(sysctl.All, sysctl.ArpAnnounce) {
		t.Fatalf("recorded after the failed rollback: %+v", e)
	}
	if got := r.k.get(sysctl.ConfKey(sysctl.All, sysctl.ArpAnnounce)); got != "2" {
		t.Errorf("all/arp_announce = %s, want the 2 that could not be undone", got)
	}
	r.k.failOn = ""
	r.mustRun(t, "realserver", "down")
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys after down (-before +after):\n%s", diff)
	}
}

// The director's VIP is the first IPv4 address on eth0, which makes the
// kernel stop copying conf/default to eth0: restoring conf/default no longer
// restores eth0, and down says why it writes eth0 itself.
func TestDirectorVIPStopsDefaultPropagation(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	before := r.k.files(t)
	r.mustRun(t, "director", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0")
	out := r.mustRun(t, "director", "down")
	want := `ip address del 192.0.2.10/32 dev eth0
write /proc/sys/net/ipv4/conf/default/send_redirects: 0 -> 1
  write /proc/sys/net/ipv4/conf/eth0/send_redirects: 0 -> 1 (changed when lvsadm wrote net/ipv4/conf/default/send_redirects, and not changed back by restoring it)
write /proc/sys/net/ipv4/conf/all/send_redirects: 0 -> 1
director: down
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("down (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, r.k.files(t)); diff != "" {
		t.Errorf("/proc/sys after down (-before +after):\n%s", diff)
	}
}
