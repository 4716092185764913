//go:build linux

// Package testnet builds what the real-kernel tests (//go:build integration,
// run as root in the VM by scripts/vmtest.sh) need around IPVS: named network
// namespaces joined by bridges, busybox httpd real servers, a client that
// counts answers, and whole NAT and DR clusters set up by the lvsadm binary.
// Every namespace and process it makes is removed by the test's cleanup.
package testnet

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Reference is Debian's ipvsadm 1.31 in the VM.
const Reference = "/usr/sbin/ipvsadm"

var nsCounter atomic.Int32

// SkipOrFail skips a test whose environment is missing, except under the VM
// runner (LVSADM_VMTEST=1), where everything must be there and a skip would
// hide a broken rig.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("LVSADM_VMTEST") == "1" {
		t.Fatalf("LVSADM_VMTEST=1, but: "+format, args...)
	}
	t.Skipf(format, args...)
}

// NeedIPVS makes sure the test runs as root with ip_vs and the given
// modules (schedulers, ipip, ...) loaded.
func NeedIPVS(t testing.TB, modules ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "needs root")
	}
	args := append([]string{"-a", "ip_vs", "ip_vs_wrr"}, modules...)
	if out, err := exec.Command("modprobe", args...).CombinedOutput(); err != nil {
		SkipOrFail(t, "IPVS not available: %v %s", err, out)
	}
}

// Lvsadm is the lvsadm binary under test ($LVSADM_BIN, set by scripts/vmtest.sh).
func Lvsadm(t testing.TB) string {
	t.Helper()
	p := os.Getenv("LVSADM_BIN")
	if p == "" {
		SkipOrFail(t, "LVSADM_BIN is not set: these tests run the built binary (make build; scripts/vmtest.sh)")
	}
	return p
}

// NewNS creates a named network namespace with lo up and returns its name.
func NewNS(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "needs root")
	}
	name := fmt.Sprintf("lvsadm-it-%d-%d", os.Getpid(), nsCounter.Add(1))
	IP(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	IP(t, "-n", name, "link", "set", "lo", "up")
	return name
}

// IP runs ip(8) and fails the test on error.
func IP(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Run runs a program inside namespace ns and fails the test on error.
func Run(t testing.TB, ns string, args ...string) string {
	t.Helper()
	out, err := Exec(ns, args...)
	if err != nil {
		t.Fatalf("[%s] %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return out
}

// Exec runs a program inside namespace ns and returns its combined output.
func Exec(ns string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	return string(out), err
}

// Sh runs a shell command inside namespace ns.
func Sh(ns, command string) (string, error) {
	return Exec(ns, "sh", "-c", command)
}

// Segment is a bridge in a namespace of its own; Plug connects hosts to it.
type Segment struct {
	t  testing.TB
	ns string
	n  int
}

// NewSegment makes an empty segment.
func NewSegment(t testing.TB) *Segment {
	s := &Segment{t: t, ns: NewNS(t)}
	IP(t, "-n", s.ns, "link", "add", "br0", "type", "bridge")
	IP(t, "-n", s.ns, "link", "set", "br0", "up")
	return s
}

// Plug gives host an interface dev on the segment with address cidr.
func (s *Segment) Plug(host, dev, cidr string) {
	s.t.Helper()
	s.n++
	port := fmt.Sprintf("p%d", s.n)
	IP(s.t, "-n", s.ns, "link", "add", port, "type", "veth", "peer", "name", dev, "netns", host)
	IP(s.t, "-n", s.ns, "link", "set", port, "master", "br0")
	IP(s.t, "-n", s.ns, "link", "set", port, "up")
	IP(s.t, "-n", host, "address", "add", cidr, "dev", dev)
	IP(s.t, "-n", host, "link", "set", dev, "up")
}

// WebServer is busybox httpd on port 80 of a namespace, answering its name.
type WebServer struct {
	t   testing.TB
	ns  string
	dir string
	cmd *exec.Cmd
}

// StartWeb starts a web server in ns whose page is name and waits until it
// listens; the test's cleanup stops it.
func StartWeb(t testing.TB, ns, name string) *WebServer {
	t.Helper()
	w := &WebServer{t: t, ns: ns, dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(w.dir, "index.html"), []byte(name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	w.Start()
	return w
}

// Start starts the server again after Stop, and waits until it listens.
func (w *WebServer) Start() {
	w.t.Helper()
	if w.cmd != nil {
		return
	}
	// Foreground (-f), so the process to stop is the one started here; a
	// kill by namespace could hit the test, whose threads visit ns.
	w.cmd = exec.Command("ip", "netns", "exec", w.ns, "busybox", "httpd", "-f", "-p", "80", "-h", w.dir)
	if err := w.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(Run(w.t, w.ns, "ss", "-Hltn", "sport", "= :80"), ":80") {
		if time.Now().After(deadline) {
			w.t.Fatalf("httpd in %s does not listen", w.ns)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server; new connections to port 80 are refused from then on.
func (w *WebServer) Stop() {
	if w.cmd == nil {
		return
	}
	w.cmd.Process.Kill()
	w.cmd.Wait()
	w.cmd = nil
}

// Fetch asks for http://addr/ n times from namespace client, each on a new
// connection, and counts the answers; failures count under "error: ...".
func Fetch(client, addr string, n int) map[string]int {
	got := map[string]int{}
	for range n {
		// timeout(1), not wget -T: busybox 1.36's wget crashes with -T.
		out, err := Exec(client, "timeout", "5", "busybox", "wget", "-q", "-O", "-", "http://"+addr+"/")
		if err != nil {
			got["error: "+strings.TrimSpace(out)+" "+err.Error()]++
			continue
		}
		got[strings.TrimSpace(out)]++
	}
	return got
}

// Cluster is a client, a director and two real servers running web servers
// that answer "rs1" and "rs2", with the host setup of an LVS cluster made by
// the lvsadm binary's director and realserver roles. The IPVS table is
// empty: the test fills it.
type Cluster struct {
	Mode     string // "nat", "dr" or "tun"
	VIP      string
	Client   string
	Director string
	RS       [2]string // namespaces of the real servers
	RSAddr   [2]string // their addresses, 198.51.100.11 and .12
	Web      [2]*WebServer
	bin      string
}

// NewCluster builds a cluster. NAT: the client and the director's eth0 on
// 203.0.113.0/24 (VIP 203.0.113.10), the real servers behind the director's
// eth1 on 198.51.100.0/24. DR and TUN: everybody on 198.51.100.0/24, VIP
// 198.51.100.10 on the director and on the real servers' lo (DR) or tunl0
// (TUN).
func NewCluster(t testing.TB, mode string) *Cluster {
	t.Helper()
	if mode == "tun" {
		if out, err := exec.Command("modprobe", "ipip").CombinedOutput(); err != nil {
			SkipOrFail(t, "ipip not available: %v %s", err, out)
		}
	}
	c := &Cluster{Mode: mode, bin: Lvsadm(t), Client: NewNS(t), Director: NewNS(t), RS: [2]string{NewNS(t), NewNS(t)}}
	lan := NewSegment(t)
	switch mode {
	case "nat":
		c.VIP = "203.0.113.10"
		public := NewSegment(t)
		public.Plug(c.Client, "eth0", "203.0.113.100/24")
		public.Plug(c.Director, "eth0", "203.0.113.1/24")
		lan.Plug(c.Director, "eth1", "198.51.100.1/24")
	case "dr", "tun":
		c.VIP = "198.51.100.10"
		lan.Plug(c.Client, "eth0", "198.51.100.100/24")
		lan.Plug(c.Director, "eth0", "198.51.100.1/24")
	default:
		t.Fatalf("testnet: unknown cluster mode %q", mode)
	}
	for i, rs := range c.RS {
		c.RSAddr[i] = fmt.Sprintf("198.51.100.%d", 11+i)
		lan.Plug(rs, "eth0", c.RSAddr[i]+"/24")
		if mode == "nat" {
			IP(t, "-n", rs, "route", "add", "default", "via", "198.51.100.1")
		} else {
			c.RealServerUp(t, i)
			t.Cleanup(func() { Exec(rs, c.bin, "realserver", "down") })
		}
		c.Web[i] = StartWeb(t, rs, fmt.Sprintf("rs%d", i+1))
	}
	if mode == "nat" {
		Run(t, c.Director, c.bin, "director", "up", "--mode", "nat", "--vip", c.VIP, "--iface", "eth0", "--rs-iface", "eth1")
	} else {
		Run(t, c.Director, c.bin, "director", "up", "--mode", mode, "--vip", c.VIP, "--iface", "eth0")
	}
	t.Cleanup(func() { Exec(c.Director, c.bin, "director", "down") })
	return c
}

// RealServerUp gives DR or TUN real server i the VIP (lvsadm realserver
// up); RealServerDown takes it away.
func (c *Cluster) RealServerUp(t testing.TB, i int) {
	t.Helper()
	Run(t, c.RS[i], c.bin, "realserver", "up", "--mode", c.Mode, "--vip", c.VIP, "--iface", "eth0")
}

// RealServerDown undoes RealServerUp: real server i still answers on its
// own address, but drops what reaches it for the VIP.
func (c *Cluster) RealServerDown(t testing.TB, i int) {
	t.Helper()
	Run(t, c.RS[i], c.bin, "realserver", "down")
}

// Lvsadm runs the lvsadm binary in the director's namespace and fails the
// test on error.
func (c *Cluster) Lvsadm(t testing.TB, args ...string) string {
	t.Helper()
	return Run(t, c.Director, append([]string{c.bin}, args...)...)
}

// Fetch asks the VIP for its page n times from the client.
func (c *Cluster) Fetch(n int) map[string]int {
	return Fetch(c.Client, c.VIP, n)
}

// Buffer collects a background process's output while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
