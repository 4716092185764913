//go:build integration && linux

// Real-kernel tests. They need root, iproute2's ip and a kernel with network
// namespaces, veth, dummy and ipip; run them in the VM rig:
//
//	CGO_ENABLED=0 go test -c -tags integration -o /tmp/hostsetup.test ./cmd/hostsetup
//	scripts/vm.sh run --file /tmp/hostsetup.test:/root/hostsetup.test -- \
//	    /root/hostsetup.test -test.v -test.run TestIntegration
//
// Every test builds its own named network namespaces with ip(8) and runs
// lvsadm's code on an OS thread moved into one of them (setns); the thread
// is never handed back to the Go scheduler, so nothing else runs there.

package hostsetup

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
	"github.com/lvsadm/lvsadm/sysctl"
	"golang.org/x/sys/unix"
)

// inNS runs fn on a fresh OS thread that has joined namespace ns. /proc/sys,
// rtnetlink and packet sockets opened by fn all resolve to ns.
func inNS(t *testing.T, ns string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	var setupErr error
	go func() {
		defer close(done)
		// Never unlocked: the thread exits with this goroutine instead of
		// going back to the pool in a foreign namespace.
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			setupErr = err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			setupErr = fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		fn()
	}()
	<-done
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

// realEnv is the production environment with the state and /etc moved to
// temporary directories.
func realEnv(t *testing.T) env {
	e := defaultEnv()
	e.stateDir = filepath.Join(t.TempDir(), "run", "lvsadm")
	e.root = t.TempDir()
	return e
}

// lvsadm runs one command line with e on the calling thread.
func lvsadm(e env, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	cmds := newCommands(e, &out, &errb)
	for _, c := range cmds {
		if c.Name() == args[0] {
			c.SetArgs(args[1:])
			_, err := c.ExecuteC()
			return out.String(), errb.String(), err
		}
	}
	return "", "", fmt.Errorf("no command %s", args[0])
}

// confSnapshot reads every IPv4 conf value, ip_forward and every IPv6
// forwarding value of the calling thread's namespace, byte for byte.
func confSnapshot(t *testing.T) map[string]string {
	t.Helper()
	snap := map[string]string{}
	read := func(p string) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("read %s: %v", p, err)
		}
		snap[p] = string(b)
	}
	err := filepath.WalkDir("/proc/sys/net/ipv4/conf", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			read(p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	read("/proc/sys/net/ipv4/ip_forward")
	fwd, _ := filepath.Glob("/proc/sys/net/ipv6/conf/*/forwarding")
	for _, p := range fwd {
		read(p)
	}
	return snap
}

func hasAddress(t *testing.T, prefix, dev string) bool {
	t.Helper()
	n, err := dialNetwork()
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	addrs, err := n.Addresses()
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(addrs, func(a Address) bool { return a.Prefix.String() == prefix && a.Link == dev })
}

// twoHosts builds namespaces a and b joined by a veth pair a:eth0 <-> b:eth0,
// with 198.51.100.1/24 on a and 198.51.100.2/24 on b.
func twoHosts(t *testing.T) (a, b string) {
	a, b = testnet.NewNS(t), testnet.NewNS(t)
	testnet.IP(t, "-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b)
	testnet.IP(t, "-n", a, "address", "add", "198.51.100.1/24", "dev", "eth0")
	testnet.IP(t, "-n", b, "address", "add", "198.51.100.2/24", "dev", "eth0")
	testnet.IP(t, "-n", a, "link", "set", "eth0", "up")
	testnet.IP(t, "-n", b, "link", "set", "eth0", "up")
	return a, b
}

// The rules package sysctl encodes, checked against the kernel itself.
func TestIntegrationKernelSysctlRules(t *testing.T) {
	ns := testnet.NewNS(t)
	testnet.IP(t, "-n", ns, "link", "add", "d0", "type", "dummy")
	testnet.IP(t, "-n", ns, "link", "add", "d.1", "type", "dummy") // a dotted name, like a VLAN
	// Forwarding on one interface only, written explicitly.
	if out, err := testnet.Sh(ns, "echo 1 > /proc/sys/net/ipv4/conf/d0/forwarding"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	inNS(t, ns, func() {
		fs := sysctl.New("")
		// ip_forward: the prediction must equal what the kernel does.
		predicted, err := fs.Predict(sysctl.IPForward, "1")
		if err != nil {
			t.Fatal(err)
		}
		before := confSnapshot(t)
		if err := fs.Write(sysctl.IPForward, "1"); err != nil {
			t.Fatal(err)
		}
		after := confSnapshot(t)
		got := diffSnapshots(before, after)
		want := map[string]string{"/proc/sys/net/ipv4/ip_forward": "0\n -> 1\n"}
		for _, c := range predicted {
			p, _ := fs.Path(c.Key)
			want[p] = c.From + "\n -> " + c.To + "\n"
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ip_forward=1: kernel changes vs prediction (-predicted +kernel):\n%s", diff)
		}
		// Writing the same value again changes nothing.
		if err := fs.Write(sysctl.IPForward, "1"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(after, confSnapshot(t)); diff != "" {
			t.Errorf("rewriting ip_forward=1 changed:\n%s", diff)
		}
		// Back to 0: every forwarding follows, including d0's explicit 1.
		if err := fs.Write(sysctl.IPForward, "0"); err != nil {
			t.Fatal(err)
		}
		if v, _ := fs.Read(sysctl.ConfKey("d0", sysctl.Forwarding)); v != "0" {
			t.Errorf("d0/forwarding = %s after ip_forward=0, want 0 (inet_forward_change)", v)
		}

		// conf/default reaches existing interfaces unless written there.
		dotted := sysctl.ConfKey("d.1", sysctl.ArpIgnore)
		if err := fs.Write(dotted, "0"); err != nil { // explicit, same value
			t.Fatal(err)
		}
		if err := fs.Write(sysctl.ConfKey(sysctl.Default, sysctl.ArpIgnore), "1"); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[sysctl.Key]string{
			sysctl.ConfKey("d0", sysctl.ArpIgnore): "1",
			// lo is up, and bringing lo up marks all its knobs explicit.
			sysctl.ConfKey("lo", sysctl.ArpIgnore): "0",
			dotted:                                 "0",
		} {
			if v, _ := fs.Read(key); v != want {
				t.Errorf("%s = %s after default=1, want %s", key, v, want)
			}
		}
		// A new interface starts from conf/default.
		if out, err := exec.Command("ip", "link", "add", "d2", "type", "dummy").CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if v, _ := fs.Read(sysctl.ConfKey("d2", sysctl.ArpIgnore)); v != "1" {
			t.Errorf("new d2 arp_ignore = %s, want conf/default's 1", v)
		}
		// An interface that had an IPv4 address added no longer follows
		// conf/default, even once the address is gone; d2 still does.
		for _, args := range [][]string{
			{"link", "add", "d4", "type", "dummy"},
			{"address", "add", "198.51.100.4/24", "dev", "d4"},
			{"address", "del", "198.51.100.4/24", "dev", "d4"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %s: %v: %s", args, err, out)
			}
		}
		if err := fs.Write(sysctl.ConfKey(sysctl.Default, sysctl.SendRedirects), "0"); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[sysctl.Key]string{
			sysctl.ConfKey("d4", sysctl.SendRedirects): "1",
			sysctl.ConfKey("d2", sysctl.SendRedirects): "0",
		} {
			if v, _ := fs.Read(key); v != want {
				t.Errorf("%s = %s after default/send_redirects=0, want %s", key, v, want)
			}
		}
		// sysctl(8) notation for the dotted interface resolves to the same file.
		k, err := sysctl.ParseKey("net.ipv4.conf.d/1.arp_ignore")
		if err != nil || k != dotted {
			t.Errorf("ParseKey = %q, %v; want %q", k, err, dotted)
		}
	})
	// procps sysctl agrees on the notation (busybox sysctl in the VM may not:
	// only checked where the command understands the dotted form).
	if out, err := testnet.Sh(ns, "sysctl -n net.ipv4.conf.d/1.arp_ignore"); err == nil && strings.TrimSpace(out) != "0" {
		t.Errorf("sysctl net.ipv4.conf.d/1.arp_ignore = %q, want 0", out)
	}
}

func diffSnapshots(before, after map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range after {
		if before[k] != v {
			out[k] = before[k] + " -> " + v
		}
	}
	return out
}

// An LVS-DR real server: before up it answers ARP for the VIP (on lo) like
// any Linux host; after up it does not; after down everything is as before.
func TestIntegrationRealServerDR(t *testing.T) {
	rs, client := twoHosts(t)
	e := realEnv(t)
	const vip = "198.51.100.10"
	testnet.IP(t, "-n", rs, "address", "add", vip+"/32", "dev", "lo")
	if out, err := testnet.Sh(client, "arping -c 1 -w 2 -I eth0 "+vip); err != nil {
		t.Fatalf("precondition: the host should answer ARP for an address on lo by default: %v\n%s", err, out)
	}
	testnet.IP(t, "-n", rs, "address", "del", vip+"/32", "dev", "lo")

	var before, afterUp map[string]string
	inNS(t, rs, func() {
		before = confSnapshot(t)
		out, errOut, err := lvsadm(e, "realserver", "up", "--mode", "dr", "--vip", vip, "--iface", "eth0", "--label", "lo:0")
		if err != nil {
			t.Fatalf("up: %v\n%s%s", err, out, errOut)
		}
		t.Logf("up:\n%s", out)
		if !hasAddress(t, vip+"/32", "lo") {
			t.Errorf("VIP not on lo after up")
		}
		afterUp = confSnapshot(t)
		out, _, err = lvsadm(e, "realserver", "up", "--mode", "dr", "--vip", vip, "--iface", "eth0", "--label", "lo:0")
		if err != nil || !strings.Contains(out, "nothing needed changing") {
			t.Errorf("second up: %v\n%s", err, out)
		}
		if diff := cmp.Diff(afterUp, confSnapshot(t)); diff != "" {
			t.Errorf("second up changed /proc/sys:\n%s", diff)
		}
		out, _, err = lvsadm(e, "realserver", "status")
		if err != nil {
			t.Errorf("status after up: %v\n%s", err, out)
		}
	})
	if out, err := testnet.Sh(client, "ip neigh flush dev eth0; arping -c 2 -w 3 -I eth0 "+vip); err == nil {
		t.Errorf("after up the real server still answers ARP for the VIP:\n%s", out)
	}
	inNS(t, rs, func() {
		out, errOut, err := lvsadm(e, "realserver", "down")
		if err != nil || errOut != "" {
			t.Fatalf("down: %v\n%s%s", err, out, errOut)
		}
		if hasAddress(t, vip+"/32", "lo") {
			t.Errorf("VIP still on lo after down")
		}
		if diff := cmp.Diff(before, confSnapshot(t)); diff != "" {
			t.Errorf("/proc/sys after down differs from before up (-before +after):\n%s", diff)
		}
	})
}

// A NAT director on a host that forwarded on eth1 alone: ip_forward's reset
// of every interface must be undone exactly.
func TestIntegrationDirectorNAT(t *testing.T) {
	dir, _ := twoHosts(t)
	testnet.IP(t, "-n", dir, "link", "add", "eth1", "type", "dummy")
	testnet.IP(t, "-n", dir, "link", "set", "eth1", "up")
	if out, err := testnet.Sh(dir, "echo 1 > /proc/sys/net/ipv4/conf/eth1/forwarding; echo 1 > /proc/sys/net/ipv4/conf/eth1/send_redirects"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	e := realEnv(t)
	inNS(t, dir, func() {
		before := confSnapshot(t)
		args := []string{"director", "up", "--mode", "nat", "--vip", "203.0.113.10", "--iface", "eth0", "--rs-iface", "eth1"}
		out, errOut, err := lvsadm(e, args...)
		if err != nil {
			t.Fatalf("up: %v\n%s%s", err, out, errOut)
		}
		t.Logf("up:\n%s", out)
		fs := sysctl.New("")
		for key, want := range map[sysctl.Key]int{
			sysctl.IPForward: 1,
			sysctl.ConfKey("eth0", sysctl.SendRedirects): 0,
			sysctl.ConfKey("eth1", sysctl.SendRedirects): 0,
		} {
			if got, err := effectiveOrValue(fs, key); err != nil || got != want {
				t.Errorf("%s = %d, %v; want %d", key, got, err, want)
			}
		}
		afterUp := confSnapshot(t)
		if _, _, err := lvsadm(e, args...); err != nil {
			t.Errorf("second up: %v", err)
		}
		if diff := cmp.Diff(afterUp, confSnapshot(t)); diff != "" {
			t.Errorf("second up changed /proc/sys:\n%s", diff)
		}
		out, errOut, err = lvsadm(e, "director", "down")
		if err != nil || errOut != "" {
			t.Fatalf("down: %v\n%s%s", err, out, errOut)
		}
		t.Logf("down:\n%s", out)
		if diff := cmp.Diff(before, confSnapshot(t)); diff != "" {
			t.Errorf("/proc/sys after down differs from before up (-before +after):\n%s", diff)
		}
		if hasAddress(t, "203.0.113.10/32", "eth0") {
			t.Errorf("VIP still on eth0 after down")
		}
	})
}

func effectiveOrValue(fs sysctl.FS, k sysctl.Key) (int, error) {
	if _, _, _, ok := k.Conf(); ok {
		return fs.Effective(k)
	}
	return fs.ReadInt(k)
}

// A value changed by someone else between up and down stays; the rest is
// restored.
func TestIntegrationDownAfterForeignChange(t *testing.T) {
	ns := testnet.NewNS(t)
	testnet.IP(t, "-n", ns, "link", "add", "eth0", "type", "dummy")
	e := realEnv(t)
	inNS(t, ns, func() {
		before := confSnapshot(t)
		if _, _, err := lvsadm(e, "arp", "up", "--iface", "eth0"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("/proc/sys/net/ipv4/conf/eth0/arp_ignore", []byte("2\n"), 0); err != nil {
			t.Fatal(err)
		}
		_, errOut, err := lvsadm(e, "arp", "down")
		if err != nil || !strings.Contains(errOut, "someone else changed it") {
			t.Errorf("down: %v, stderr %q", err, errOut)
		}
		want := maps.Clone(before)
		want["/proc/sys/net/ipv4/conf/eth0/arp_ignore"] = "2\n"
		if diff := cmp.Diff(want, confSnapshot(t)); diff != "" {
			t.Errorf("after down (-want +got):\n%s", diff)
		}
	})
}

// LVS-TUN real server: tunl0 comes from the ipip module.
func TestIntegrationRealServerTUN(t *testing.T) {
	ns := testnet.NewNS(t)
	testnet.IP(t, "-n", ns, "link", "add", "eth0", "type", "dummy")
	// A strict distribution default, which tunl0 inherits when it appears.
	if out, err := testnet.Sh(ns, "echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter; echo 1 > /proc/sys/net/ipv4/conf/default/rp_filter"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	e := realEnv(t)
	inNS(t, ns, func() {
		before := confSnapshot(t)
		_, tunnelBefore := before["/proc/sys/net/ipv4/conf/tunl0/rp_filter"]
		out, errOut, err := lvsadm(e, "realserver", "up", "--mode", "tun", "--vip", "192.0.2.10", "--iface", "eth0")
		if err != nil {
			t.Fatalf("up: %v\n%s%s", err, out, errOut)
		}
		t.Logf("up:\n%s", out)
		fs := sysctl.New("")
		if eff, err := fs.Effective(sysctl.ConfKey("tunl0", sysctl.RPFilter)); err != nil || eff == 1 {
			t.Errorf("tunl0 effective rp_filter = %d, %v; want not strict", eff, err)
		}
		if !hasAddress(t, "192.0.2.10/32", "tunl0") {
			t.Errorf("VIP not on tunl0")
		}
		if out, _, err := lvsadm(e, "realserver", "status"); err != nil {
			t.Errorf("status: %v\n%s", err, out)
		}
		out, errOut, err = lvsadm(e, "realserver", "down")
		if err != nil || errOut != "" {
			t.Fatalf("down: %v\n%s%s", err, out, errOut)
		}
		after := confSnapshot(t)
		// Keys that appeared with tunl0 stay: the ipip module stays loaded
		// and keeps its tunl0 (IPv4 conf, if the module was loaded here),
		// and the kernel adds tunl0's IPv6 conf the first time it comes up.
		for k, v := range after {
			if _, existed := before[k]; existed || !strings.Contains(k, "/conf/tunl0/") {
				continue
			}
			delete(after, k)
			if !tunnelBefore && strings.HasSuffix(k, "ipv4/conf/tunl0/rp_filter") && v != "1\n" {
				t.Errorf("tunl0 rp_filter after down = %q, want the 1 it started with", v)
			}
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("/proc/sys after down differs from before up (-before +after):\n%s", diff)
		}
		if hasAddress(t, "192.0.2.10/32", "tunl0") {
			t.Errorf("VIP still on tunl0 after down")
		}
	})
}

// The director announces its VIP: a neighbour holding a stale entry for it
// learns the director's MAC from the gratuitous ARP / unsolicited NA.
func TestIntegrationDirectorAnnouncesVIP(t *testing.T) {
	dir, router := twoHosts(t)
	testnet.IP(t, "-n", router, "address", "add", "2001:db8::2/64", "dev", "eth0", "nodad")
	bogus := "00:00:5e:00:53:ff"
	testnet.IP(t, "-n", router, "neigh", "add", "198.51.100.10", "lladdr", bogus, "nud", "stale", "dev", "eth0")
	testnet.IP(t, "-n", router, "neigh", "add", "2001:db8::10", "lladdr", bogus, "nud", "stale", "dev", "eth0")
	var mac net.HardwareAddr
	e := realEnv(t)
	inNS(t, dir, func() {
		i, err := net.InterfaceByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		mac = i.HardwareAddr
		out, errOut, err := lvsadm(e, "director", "up", "--mode", "dr", "--vip", "198.51.100.10", "--vip", "2001:db8::10", "--iface", "eth0")
		if err != nil || errOut != "" {
			t.Fatalf("up: %v\n%s%s", err, out, errOut)
		}
		t.Logf("up:\n%s", out)
	})
	deadline := time.Now().Add(3 * time.Second)
	for {
		neigh := testnet.IP(t, "-n", router, "neigh", "show", "dev", "eth0")
		v4 := strings.Contains(neigh, "198.51.100.10 lladdr "+mac.String())
		v6 := strings.Contains(neigh, "2001:db8::10 lladdr "+mac.String())
		if v4 && v6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("neighbour did not learn the VIPs' new MAC %s (IPv4 %v, IPv6 %v):\n%s", mac, v4, v6, neigh)
		}
		time.Sleep(100 * time.Millisecond)
	}
	inNS(t, dir, func() {
		if _, _, err := lvsadm(e, "director", "down"); err != nil {
			t.Fatal(err)
		}
	})
}

// The state file is keyed by the namespace the thread is in.
func TestIntegrationStateKeyedByNamespace(t *testing.T) {
	a, b := testnet.NewNS(t), testnet.NewNS(t)
	var ida, idb netnsID
	inNS(t, a, func() { ida, _ = currentNetNS() })
	inNS(t, b, func() { idb, _ = currentNetNS() })
	self, err := currentNetNS()
	if err != nil {
		t.Fatal(err)
	}
	if ida.Inode == idb.Inode || ida.Inode == self.Inode || ida.Inode == 0 {
		t.Errorf("namespace inodes not distinct: %d %d %d", ida.Inode, idb.Inode, self.Inode)
	}
	if ida.Cookie == 0 || ida.Cookie == idb.Cookie {
		t.Errorf("namespace cookies: %d %d (Linux ≥ 5.14 has them)", ida.Cookie, idb.Cookie)
	}
}
