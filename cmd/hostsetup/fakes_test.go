package hostsetup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/sysctl"
	"github.com/spf13/cobra"
)

// events is the order in which the fakes saw sysctl writes and netlink
// operations.
type events struct{ log []string }

func (e *events) add(format string, args ...any) { e.log = append(e.log, fmt.Sprintf(format, args...)) }

// kernel is a fake /proc/sys on a temporary directory whose writes behave
// like the kernel's, written from net/ipv4/devinet.c and net/ipv6/addrconf.c
// independently of package sysctl's predictions:
//   - net/ipv4/ip_forward and conf/all/forwarding are one variable; when it
//     changes, all/accept_redirects becomes its negation and default and
//     every interface's forwarding follow it (inet_forward_change);
//   - net/ipv6/conf/all/forwarding, when it changes, sets default and every
//     interface's forwarding;
//   - a conf/default/KNOB write (devinet_conf_proc knobs) is copied to every
//     interface whose KNOB was never written explicitly;
//   - any per-interface write marks the knob explicit on that interface;
//   - lo is up, and bringing lo up marks all its knobs explicit
//     (inetdev_event → ipv4_devconf_setall), so it never follows default;
//   - so does adding an IPv4 address to an interface.
type kernel struct {
	sysctl.FS
	root     string
	explicit map[sysctl.Key]bool
	dirs     map[string]bool // made by put
	ev       *events
	failOn   sysctl.Key // Write of this key fails
	failWith string     // if set, only a write of this value to failOn fails
}

var ipv4Knobs = []sysctl.Knob{sysctl.Forwarding, sysctl.AcceptRedirects, sysctl.SendRedirects,
	sysctl.ArpIgnore, sysctl.ArpAnnounce, sysctl.RPFilter}

// newKernel builds a host with lo and the given interfaces. defaults holds
// the compiled-in values of conf/all and conf/default (and thus of every
// interface); overrides are applied afterwards and marked explicit.
func newKernel(t *testing.T, ev *events, ifaces []string, overrides map[sysctl.Key]string) *kernel {
	t.Helper()
	root := t.TempDir()
	k := &kernel{FS: sysctl.New(root), root: root, explicit: map[sysctl.Key]bool{}, dirs: map[string]bool{}, ev: ev}
	k.put(sysctl.IPForward, "0")
	k.put("kernel/hostname", "lvs")
	for _, name := range append([]string{sysctl.All, sysctl.Default}, ifaces...) {
		k.addConf(name, map[sysctl.Knob]string{
			sysctl.Forwarding: "0", sysctl.AcceptRedirects: "1", sysctl.SendRedirects: "1",
			sysctl.ArpIgnore: "0", sysctl.ArpAnnounce: "0", sysctl.RPFilter: "0",
		})
	}
	for _, knob := range ipv4Knobs {
		k.explicit[sysctl.ConfKey("lo", knob)] = true
	}
	for key, v := range overrides {
		k.put(key, v)
		k.explicit[key] = true
	}
	return k
}

func (k *kernel) put(key sysctl.Key, v string) {
	p := filepath.Join(k.root, filepath.FromSlash(string(key)))
	if dir := filepath.Dir(p); !k.dirs[dir] {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(err)
		}
		k.dirs[dir] = true
	}
	if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
		panic(err)
	}
}

func (k *kernel) get(key sysctl.Key) string {
	v, err := k.FS.Read(key)
	if err != nil {
		panic(err)
	}
	return v
}

func (k *kernel) addConf(name string, values map[sysctl.Knob]string) {
	for _, knob := range ipv4Knobs {
		k.put(sysctl.ConfKey(name, knob), values[knob])
	}
	k.put(sysctl.Conf6Key(name, sysctl.Forwarding), values[sysctl.Forwarding])
}

// addInterface is what register_netdevice does for the conf tree: a new
// interface starts from conf/default.
func (k *kernel) addInterface(name string) {
	values := map[sysctl.Knob]string{}
	for _, knob := range ipv4Knobs {
		values[knob] = k.get(sysctl.ConfKey(sysctl.Default, knob))
	}
	k.addConf(name, values)
	k.put(sysctl.Conf6Key(name, sysctl.Forwarding), k.get(sysctl.Conf6Key(sysctl.Default, sysctl.Forwarding)))
}

func (k *kernel) removeInterface(name string) {
	for _, tree := range []string{"net/ipv4/conf/", "net/ipv6/conf/"} {
		dir := filepath.Join(k.root, tree, name)
		os.RemoveAll(dir)
		delete(k.dirs, dir)
	}
	for key := range k.explicit {
		if _, iface, _, ok := key.Conf(); ok && iface == name {
			delete(k.explicit, key)
		}
	}
}

func (k *kernel) ifaces(tree string) []string {
	entries, _ := os.ReadDir(filepath.Join(k.root, tree))
	var out []string
	for _, e := range entries {
		if n := e.Name(); n != sysctl.All && n != sysctl.Default {
			out = append(out, n)
		}
	}
	return out
}

func (k *kernel) Write(key sysctl.Key, v string) error {
	if key == k.failOn && (k.failWith == "" || k.failWith == v) {
		return fmt.Errorf("write %s: injected failure", key)
	}
	old, err := k.FS.Read(key)
	if err != nil {
		return err
	}
	if err := k.FS.Write(key, v); err != nil {
		return err
	}
	k.ev.add("write %s=%s", key, v)
	switch key {
	case sysctl.IPForward, sysctl.ConfKey(sysctl.All, sysctl.Forwarding):
		k.put(sysctl.IPForward, v)
		k.put(sysctl.ConfKey(sysctl.All, sysctl.Forwarding), v)
		if old != v {
			on, _ := strconv.Atoi(v)
			notOn := "0"
			if on == 0 {
				notOn = "1"
			}
			k.put(sysctl.ConfKey(sysctl.All, sysctl.AcceptRedirects), notOn)
			k.put(sysctl.ConfKey(sysctl.Default, sysctl.Forwarding), v)
			for _, name := range k.ifaces("net/ipv4/conf") {
				k.put(sysctl.ConfKey(name, sysctl.Forwarding), v)
			}
		}
		return nil
	case sysctl.IPv6Forward:
		if old != v {
			k.put(sysctl.Conf6Key(sysctl.Default, sysctl.Forwarding), v)
			for _, name := range k.ifaces("net/ipv6/conf") {
				k.put(sysctl.Conf6Key(name, sysctl.Forwarding), v)
			}
		}
		return nil
	}
	family, iface, knob, ok := key.Conf()
	if !ok || family != 4 {
		return nil
	}
	switch iface {
	case sysctl.All:
	case sysctl.Default:
		if knob == sysctl.Forwarding {
			return nil
		}
		for _, name := range k.ifaces("net/ipv4/conf") {
			if ik := sysctl.ConfKey(name, knob); !k.explicit[ik] {
				k.put(ik, v)
			}
		}
	default:
		k.explicit[key] = true
	}
	return nil
}

// files returns every file of the tree and its bytes.
func (k *kernel) files(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(k.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[strings.TrimPrefix(p, k.root)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeNet is an in-memory rtnetlink.
type fakeNet struct {
	k      *kernel
	ev     *events
	links  []Link
	addrs  []Address
	failOn string // operation that fails, e.g. "add 192.0.2.10/32"
	// tunnelCreates makes AddIPIPTunnel create the link itself, as with
	// fb_tunnels_only_for_init_net; otherwise the fallback appears.
	tunnelCreates bool
	fallback      string // the module's fallback tunnel, which cannot be deleted
}

func newFakeNet(k *kernel, ev *events, ifaces ...string) *fakeNet {
	n := &fakeNet{k: k, ev: ev}
	n.links = append(n.links, Link{Index: 1, Name: "lo", Up: true, Loopback: true})
	for i, name := range ifaces {
		n.links = append(n.links, Link{Index: i + 2, Name: name, Up: true,
			MAC: net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x53, byte(i + 1)}})
	}
	n.addrs = append(n.addrs, Address{Prefix: netip.MustParsePrefix("127.0.0.1/8"), Link: "lo"})
	return n
}

func (n *fakeNet) Links() ([]Link, error)        { return slices.Clone(n.links), nil }
func (n *fakeNet) Addresses() ([]Address, error) { return slices.Clone(n.addrs), nil }
func (n *fakeNet) Close() error                  { return nil }

func (n *fakeNet) AddAddress(a Address, l Link) error {
	if n.failOn == "add "+a.Prefix.String() {
		return errors.New("injected failure")
	}
	if l.Name != a.Link || l.Index == 0 {
		return fmt.Errorf("add %s: link %+v does not match", a, l)
	}
	for _, have := range n.addrs {
		if have.Link == a.Link && have.Prefix == a.Prefix {
			return errors.New("file exists")
		}
	}
	n.ev.add("addr add %s", a)
	n.addrs = append(n.addrs, a)
	if a.Prefix.Addr().Is4() {
		// ipv4_devconf_setall: the interface stops following conf/default.
		for _, knob := range ipv4Knobs {
			n.k.explicit[sysctl.ConfKey(a.Link, knob)] = true
		}
	}
	return nil
}

func (n *fakeNet) DeleteAddress(a Address, l Link) error {
	for i, have := range n.addrs {
		if have == a && l.Name == a.Link {
			n.ev.add("addr del %s", a)
			n.addrs = slices.Delete(n.addrs, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("delete %s: cannot assign requested address", a)
}

func (n *fakeNet) SetLinkUp(l Link, up bool) error {
	for i := range n.links {
		if n.links[i].Index == l.Index {
			n.ev.add("link %s up=%v", l.Name, up)
			n.links[i].Up = up
			return nil
		}
	}
	return errors.New("no such device")
}

func (n *fakeNet) AddIPIPTunnel(name string) (bool, error) {
	for _, l := range n.links {
		if l.Name == name {
			return false, nil
		}
	}
	n.ev.add("link add %s ipip", name)
	n.links = append(n.links, Link{Index: 100, Name: name, NoARP: true})
	n.k.addInterface(name)
	if !n.tunnelCreates {
		n.fallback = name
	}
	return n.tunnelCreates, nil
}

func (n *fakeNet) DeleteLink(l Link) error {
	if l.Name == n.fallback {
		// ip_tunnel_dellink leaves the fallback device alone and reports
		// success.
		n.ev.add("link del %s (fallback, stays)", l.Name)
		return nil
	}
	for i, have := range n.links {
		if have.Index == l.Index {
			n.ev.add("link del %s", l.Name)
			n.links = slices.Delete(n.links, i, i+1)
			n.k.removeInterface(l.Name)
			return nil
		}
	}
	return errors.New("no such device")
}

type fakeAnnouncer struct{ ev *events }

func (a fakeAnnouncer) Announce(l Link, ip netip.Addr, router bool) error {
	a.ev.add("announce %s on %s router=%v", ip, l.Name, router)
	return nil
}

// rig is a host made of the fakes, with its own state and /etc.
type rig struct {
	ev    *events
	k     *kernel
	n     *fakeNet
	env   env
	ns    netnsID
	state string
}

func newRig(t *testing.T, ifaces []string, overrides map[sysctl.Key]string) *rig {
	t.Helper()
	ev := &events{}
	k := newKernel(t, ev, append([]string{"lo"}, ifaces...), overrides)
	n := newFakeNet(k, ev, ifaces...)
	ns := netnsID{Inode: 4026532000, Cookie: 7, BootID: "00000000-0000-4000-8000-000000000001"}
	stateDir := filepath.Join(t.TempDir(), "run", "lvsadm")
	r := &rig{ev: ev, k: k, n: n, ns: ns, state: filepath.Join(stateDir, "netns-4026532000.json")}
	r.env = env{
		sys:         k,
		dialNet:     func() (network, error) { return n, nil },
		announcer:   fakeAnnouncer{ev: ev},
		stateDir:    stateDir,
		netns:       func() (netnsID, error) { return r.ns, nil },
		now:         func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		euid:        os.Geteuid,
		lockTimeout: 50 * time.Millisecond,
		root:        t.TempDir(),
	}
	return r
}

// run executes an lvsadm command line on the rig, as the lead's root does.
func (r *rig) run(args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	root := &cobra.Command{Use: "lvsadm", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(newCommands(r.env, &out, &errb)...)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	r.ev.log = nil
	_, err = root.ExecuteC()
	return strings.ReplaceAll(out.String(), r.k.root, "/proc/sys"), strings.ReplaceAll(errb.String(), r.k.root, "/proc/sys"), err
}

func (r *rig) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := r.run(args...)
	if err != nil {
		t.Fatalf("lvsadm %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func exitCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if err != nil {
		return -1
	}
	return 0
}
