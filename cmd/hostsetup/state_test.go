package hostsetup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/sysctl"
)

// stateJSON is a state file in namespace ns holding one realserver entry
// with the given changes (JSON objects, comma-separated).
func stateJSON(ns netnsID, vip, changes string) string {
	return fmt.Sprintf(`{"version": 1, "netns": {"inode": %d, "cookie": %d, "boot_id": %q}, "entries": [`+
		`{"role": "realserver", "settings": {"mode": "dr", "vips": [%q], "arp_scope": "all"}, `+
		`"since": "2026-01-01T00:00:00Z", "changes": [%s]}]}`+"\n", ns.Inode, ns.Cookie, ns.BootID, vip, changes)
}

func (r *rig) writeState(t *testing.T, content string) {
	t.Helper()
	if err := os.MkdirAll(r.env.stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.state, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// down restores only keys lvsadm's own key table produces, addresses and
// links it can have made, and integer values: a state file naming anything
// else is refused whole, before anything is written.
func TestStateRecordsOutsideTheKeyTableAreRefused(t *testing.T) {
	tests := []struct {
		name, changes, reason string
	}{
		{
			name:    "sysctl outside the table",
			changes: `{"kind": "sysctl", "key": "kernel/hostname", "before": "evil", "after": "lvs"}`,
			reason:  `role realserver: sysctl "kernel/hostname" is not a key lvsadm's host setup writes`,
		},
		{
			name:    "conf knob lvsadm never writes",
			changes: `{"kind": "sysctl", "key": "net/ipv4/conf/eth0/accept_local", "before": "1", "after": "0"}`,
			reason:  `role realserver: sysctl "net/ipv4/conf/eth0/accept_local": lvsadm's host setup does not write accept_local`,
		},
		{
			name: "side effect outside the table",
			changes: `{"kind": "sysctl", "key": "net/ipv4/conf/all/arp_ignore", "before": "0", "after": "1", ` +
				`"effects": [{"key": "kernel/hostname", "before": "evil", "after": "lvs"}]}`,
			reason: `role realserver: side effect of net/ipv4/conf/all/arp_ignore: sysctl "kernel/hostname" is not a key lvsadm's host setup writes`,
		},
		{
			name:    "value that is not a number",
			changes: `{"kind": "sysctl", "key": "net/ipv4/conf/all/arp_ignore", "before": "1 2", "after": "1"}`,
			reason:  `role realserver: sysctl net/ipv4/conf/all/arp_ignore: value "1 2" is not an integer`,
		},
		{
			name:    "link lvsadm never creates",
			changes: `{"kind": "link-create", "link": "eth0"}`,
			reason:  `role realserver: link-create change for "eth0": lvsadm creates and brings up only tunl0`,
		},
		{
			name:    "address label not of its link",
			changes: `{"kind": "address", "address": "192.0.2.10/32", "link": "lo", "label": "x"}`,
			reason:  `role realserver: address 192.0.2.10/32 on lo: label "x" must be lo:SOMETHING`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, []string{"eth0"}, map[sysctl.Key]string{sysctl.ConfKey(sysctl.All, sysctl.ArpIgnore): "1"})
			content := stateJSON(r.ns, "192.0.2.10/32", tt.changes)
			r.writeState(t, content)
			before := r.host(t)
			_, _, err := r.run("realserver", "down")
			var corrupt *CorruptStateError
			if !errors.As(err, &corrupt) || exitCode(err) != ExitFailure {
				t.Fatalf("down: err = %v (exit %d), want a CorruptStateError, exit 1", err, exitCode(err))
			}
			if corrupt.Reason != tt.reason {
				t.Errorf("reason\n%s\nwant\n%s", corrupt.Reason, tt.reason)
			}
			if diff := cmp.Diff(before, r.host(t)); diff != "" {
				t.Errorf("host changed (-before +after):\n%s", diff)
			}
			if b, _ := os.ReadFile(r.state); string(b) != content {
				t.Errorf("state file rewritten: %q", b)
			}
		})
	}
}

// The state directory must be a real directory owned by root (here: by the
// user running the test) that nobody else can write, and state and lock
// files are not followed through symbolic links.
func TestUnsafeStateFilesAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, r *rig) string // returns the message expected
	}{
		{
			name: "state directory is a symbolic link",
			setup: func(t *testing.T, r *rig) string {
				elsewhere := t.TempDir()
				mustDo(t, os.MkdirAll(filepath.Dir(r.env.stateDir), 0o755))
				mustDo(t, os.Symlink(elsewhere, r.env.stateDir))
				return fmt.Sprintf("state directory %s is a symbolic link: lvsadm keeps its records only in a real directory; "+
					"remove the link (rm %s) and run the command again", r.env.stateDir, r.env.stateDir)
			},
		},
		{
			name: "state directory writable by others",
			setup: func(t *testing.T, r *rig) string {
				mustDo(t, os.MkdirAll(r.env.stateDir, 0o755))
				mustDo(t, os.Chmod(r.env.stateDir, 0o777))
				return fmt.Sprintf("state directory %s is writable by group or others (mode 0777), so another user could "+
					"change what down restores; run 'chmod go-w %s' and run the command again", r.env.stateDir, r.env.stateDir)
			},
		},
		{
			name: "state directory owned by another user",
			setup: func(t *testing.T, r *rig) string {
				if os.Geteuid() != 0 {
					t.Skip("needs root to give the directory away")
				}
				mustDo(t, os.MkdirAll(r.env.stateDir, 0o755))
				mustDo(t, os.Chown(r.env.stateDir, 12345, 12345))
				return fmt.Sprintf("state directory %s belongs to uid 12345, not root, so that user could change what "+
					"down restores; run 'chown root %s' and run the command again", r.env.stateDir, r.env.stateDir)
			},
		},
		{
			name: "state file is a symbolic link",
			setup: func(t *testing.T, r *rig) string {
				mustDo(t, os.MkdirAll(r.env.stateDir, 0o755))
				target := filepath.Join(t.TempDir(), "elsewhere.json")
				mustDo(t, os.WriteFile(target, []byte(stateJSON(r.ns, "192.0.2.10/32", "")), 0o600))
				mustDo(t, os.Symlink(target, r.state))
				return fmt.Sprintf("state file %s is a symbolic link: lvsadm does not follow links there; "+
					"remove it (rm %s) and run the command again", r.state, r.state)
			},
		},
		{
			name: "lock file is a symbolic link",
			setup: func(t *testing.T, r *rig) string {
				mustDo(t, os.MkdirAll(r.env.stateDir, 0o755))
				lock := strings.TrimSuffix(r.state, ".json") + ".lock"
				mustDo(t, os.Symlink(filepath.Join(t.TempDir(), "victim"), lock))
				return fmt.Sprintf("lock file %s is a symbolic link: lvsadm does not follow links there; "+
					"remove it (rm %s) and run the command again", lock, lock)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, []string{"eth0"}, nil)
			want := tt.setup(t, r)
			before := r.host(t)
			_, _, err := r.run("realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0")
			want = "realserver up: " + want
			if exitCode(err) != ExitFailure || err.Error() != want {
				t.Fatalf("up: err = %v (exit %d)\nwant %s (exit 1)", err, exitCode(err), want)
			}
			if diff := cmp.Diff(before, r.host(t)); diff != "" {
				t.Errorf("host changed (-before +after):\n%s", diff)
			}
		})
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A state file from a namespace that no longer exists (its inode number
// reused, told by the namespace cookie or the boot id) is moved aside with
// one warning, and up goes on as in a fresh namespace.
func TestStaleStateFileIsMovedAside(t *testing.T) {
	tests := []struct {
		name   string
		fileNS func(now netnsID) netnsID
		reason string
	}{
		{
			name:   "other namespace cookie",
			fileNS: func(now netnsID) netnsID { now.Cookie = 99; return now },
			reason: "was written in another network namespace, which no longer exists: this one reuses its inode number 4026532000 (namespace cookie 99, now 7)",
		},
		{
			name:   "other boot",
			fileNS: func(now netnsID) netnsID { now.BootID = "00000000-0000-4000-8000-000000000009"; return now },
			reason: "was written before the system was last booted (boot id 00000000-0000-4000-8000-000000000009, now 00000000-0000-4000-8000-000000000001)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, []string{"eth0"}, nil)
			stale := stateJSON(tt.fileNS(r.ns), "192.0.2.99/32",
				`{"kind": "sysctl", "key": "net/ipv4/conf/all/arp_ignore", "before": "0", "after": "1"}`)
			r.writeState(t, stale)
			moved := r.state + ".stale-20260102T030405Z"

			// status does not move it (it takes no lock) and ignores it.
			out, errOut, err := r.run("realserver", "status", "--mode", "dr", "--vip", "192.0.2.10")
			wantWarn := "lvsadm: warning: state file " + r.state + " " + tt.reason +
				"; ignoring it (the next up or down moves it aside)\n"
			if errOut != wantWarn {
				t.Errorf("status stderr\n%s\nwant\n%s", errOut, wantWarn)
			}
			if exitCode(err) != ExitProblems || !strings.HasPrefix(out, "realserver: not recorded as up in this network namespace") {
				t.Errorf("status: %v\n%s", err, out)
			}

			before := r.host(t)
			out, errOut, err = r.run("realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0")
			if err != nil {
				t.Fatalf("up with a stale state file: %v\n%s%s", err, out, errOut)
			}
			wantWarn = "lvsadm: warning: state file " + r.state + " " + tt.reason +
				"; moved it to " + moved + ", and lvsadm starts afresh here\n"
			if errOut != wantWarn {
				t.Errorf("up stderr\n%s\nwant\n%s", errOut, wantWarn)
			}
			if b, err := os.ReadFile(moved); err != nil || string(b) != stale {
				t.Errorf("stale file not kept as %s: %v %q", moved, err, b)
			}
			if e := r.loadState(t).entry(roleRealServer); e == nil || e.Settings.VIPs[0] != "192.0.2.10/32" {
				t.Errorf("new state: %+v", e)
			}
			_, errOut, _ = r.run("realserver", "down")
			if errOut != "" {
				t.Errorf("down warned again: %q", errOut)
			}
			if diff := cmp.Diff(before, r.host(t)); diff != "" {
				t.Errorf("host after down (-before +after):\n%s", diff)
			}
		})
	}
}

// Without namespace cookies (Linux before 5.14) a reused inode number cannot
// be told from the same namespace: lvsadm uses the file, but says which file
// to check and what to do.
func TestStateFileWithoutCookiesIsUsedWithAWarning(t *testing.T) {
	r := newRig(t, []string{"eth0"}, map[sysctl.Key]string{sysctl.ConfKey(sysctl.All, sysctl.ArpIgnore): "1"})
	r.ns.Cookie = 0
	r.writeState(t, stateJSON(r.ns, "192.0.2.10/32",
		`{"kind": "sysctl", "key": "net/ipv4/conf/all/arp_ignore", "before": "0", "after": "1"}`))
	out, errOut, err := r.run("realserver", "down")
	if err != nil {
		t.Fatalf("down: %v\n%s%s", err, out, errOut)
	}
	want := "lvsadm: warning: cannot tell whether state file " + r.state + " belongs to this network namespace: " +
		"this kernel has no namespace cookies (Linux before 5.14), and inode number 4026532000 is reused once a namespace is gone. " +
		"It records: realserver up since 2026-01-01 00:00:00 UTC. If that was not done in this namespace, the file is left over " +
		"from one that no longer exists: move it away (mv " + r.state + " " + r.state + ".old) and run the command again\n"
	if errOut != want {
		t.Errorf("stderr\n%s\nwant\n%s", errOut, want)
	}
	if got := r.k.get(sysctl.ConfKey(sysctl.All, sysctl.ArpIgnore)); got != "0" {
		t.Errorf("all/arp_ignore = %s after down, want 0: the file was not used", got)
	}
}

// A save killed before its rename leaves its temporary file; the next
// lvsadm that takes the namespace's lock removes it.
func TestLeftoverTempFileIsRemoved(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	mustDo(t, os.MkdirAll(r.env.stateDir, 0o755))
	leftover := filepath.Join(r.env.stateDir, ".netns-4026532000.json.tmp-1234")
	other := filepath.Join(r.env.stateDir, ".netns-4026532999.json.tmp-1234") // another namespace's
	mustDo(t, os.WriteFile(leftover, []byte("{"), 0o600))
	mustDo(t, os.WriteFile(other, []byte("{"), 0o600))
	r.mustRun(t, "forward", "up")
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another namespace's temporary file was removed: %v", err)
	}
}
