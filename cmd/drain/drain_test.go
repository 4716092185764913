package drain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

type fixture struct {
	t      *testing.T
	k      *ipvstest.Kernel
	c      *ipvs.Client
	dir    string
	stderr bytes.Buffer
	clock  *testClock
	ns     NetNS
}

// testClock advances only when slept; each sleep runs a hook first.
type testClock struct {
	now   time.Time
	slept []time.Duration
	hook  func(elapsed time.Duration)
	start time.Time
}

func (c *testClock) Now() time.Time { return c.now }
func (c *testClock) Sleep(d time.Duration) {
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	if c.hook != nil {
		c.hook(c.now.Sub(c.start))
	}
}

var (
	vip   = netip.MustParseAddr("192.0.2.10")
	rs1   = netip.MustParseAddr("198.51.100.1")
	rs2   = netip.MustParseAddr("198.51.100.2")
	vip6  = netip.MustParseAddr("2001:db8::10")
	rs6   = netip.MustParseAddr("2001:db8::1")
	tcp   = ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: vip, Port: 80}
	udp6  = ipvs.ServiceKey{Protocol: ipvs.UDP, Addr: vip6, Port: 53}
	mark  = ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: 7}
	mark6 = ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: 8}
)

// names resolves like /etc/hosts and /etc/services would.
type names struct{}

func (names) LookupHost(name string) (netip.Addr, bool) {
	if name == "web2" {
		return rs2, true
	}
	return netip.Addr{}, false
}

func (names) LookupPort(name string, proto ipvs.Protocol) (uint16, bool) {
	switch {
	case name == "http" && proto == ipvs.TCP:
		return 80, true
	case name == "http-alt" && proto == ipvs.TCP:
		return 8080, true
	}
	return 0, false
}

// newFixture has -t 192.0.2.10:80 with 198.51.100.1:80 (weight 3) and
// 198.51.100.2:8080 (weight 5), -u [2001:db8::10]:53 with [2001:db8::1]:53
// (weight 2) and -f 7 with 198.51.100.1 (weight 4).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.NetlinkConn())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	dir := filepath.Join(t.TempDir(), "lvsadm")
	f := &fixture{t: t, k: k, c: c, dir: dir, ns: NetNS{Inode: 4026531840, Cookie: 1},
		clock: &testClock{now: time.Unix(1000, 0), start: time.Unix(1000, 0)}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []ipvs.Service{
		{ServiceKey: tcp, Scheduler: "wlc", Netmask: 0xffffffff},
		{ServiceKey: udp6, Scheduler: "rr", Netmask: 128},
		{ServiceKey: mark, Scheduler: "rr", Netmask: 0xffffffff},
		{ServiceKey: mark6, Scheduler: "rr", Netmask: 128},
	} {
		must(c.AddService(s))
	}
	must(c.AddDestination(tcp, ipvs.Destination{Addr: rs1, Port: 80, Weight: 3, ForwardMethod: ipvs.Masquerade}))
	must(c.AddDestination(tcp, ipvs.Destination{Addr: rs2, Port: 8080, Weight: 5, ForwardMethod: ipvs.Masquerade, UpperThreshold: 100}))
	must(c.AddDestination(udp6, ipvs.Destination{Addr: rs6, Port: 53, Weight: 2, ForwardMethod: ipvs.Masquerade}))
	must(c.AddDestination(mark, ipvs.Destination{Addr: rs1, Weight: 4, ForwardMethod: ipvs.Route}))
	must(c.AddDestination(mark6, ipvs.Destination{Addr: rs6, Weight: 6, ForwardMethod: ipvs.Route}))
	return f
}

func (f *fixture) env() Env {
	return Env{
		Stdout:       &bytes.Buffer{},
		Stderr:       &f.stderr,
		Dial:         func() (*ipvs.Client, error) { return ipvs.NewFromConn(f.k.NetlinkConn()) },
		Parser:       compat.Parser{Resolver: names{}},
		Dir:          f.dir,
		Owner:        os.Geteuid(),
		NetNS:        func() (NetNS, error) { return f.ns, nil },
		Clock:        f.clock,
		PollInterval: 2 * time.Second,
	}
}

// run runs one command (drain or enable) and returns its error and exit
// status (0 without error).
func (f *fixture) run(args ...string) (int, error) {
	f.t.Helper()
	for _, cmd := range Commands(f.env()) {
		if cmd.Name() != args[0] {
			continue
		}
		cmd.SetArgs(args[1:])
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		var ee *ExitError
		switch {
		case err == nil:
			return 0, nil
		case errors.As(err, &ee):
			return ee.Code, err
		}
		return -1, err
	}
	f.t.Fatalf("no command %s", args[0])
	return 0, nil
}

func (f *fixture) weight(k ipvs.ServiceKey, addr netip.Addr, port uint16) uint32 {
	f.t.Helper()
	dests, err := f.c.Destinations(k)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, d := range dests {
		if d.Addr == addr && d.Port == port {
			return d.Weight
		}
	}
	f.t.Fatalf("no destination %s:%d", addr, port)
	return 0
}

func (f *fixture) records() []string {
	f.t.Helper()
	entries, err := os.ReadDir(f.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		f.t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestDrainAndEnable(t *testing.T) {
	f := newFixture(t)
	if _, err := f.run("drain", "192.0.2.10:80", "198.51.100.2:8080"); err != nil {
		t.Fatal(err)
	}
	if w := f.weight(tcp, rs2, 8080); w != 0 {
		t.Errorf("weight after drain = %d, want 0", w)
	}
	if w := f.weight(tcp, rs1, 80); w != 3 {
		t.Errorf("other real server's weight = %d, want 3 (untouched)", w)
	}
	// Only the weight changes: the threshold and method stay.
	dests, _ := f.c.Destinations(tcp)
	for _, d := range dests {
		if d.Addr == rs2 && (d.UpperThreshold != 100 || d.ForwardMethod != ipvs.Masquerade) {
			t.Errorf("drained server changed beyond its weight: %+v", d.Destination)
		}
	}
	recs := f.records()
	if want := []string{"drain-4026531840-tcp-192.0.2.10-80-198.51.100.2-8080.json"}; fmt.Sprint(recs) != fmt.Sprint(want) {
		t.Fatalf("records %v, want %v", recs, want)
	}
	var rec Record
	data, _ := os.ReadFile(filepath.Join(f.dir, recs[0]))
	if err := json.Unmarshal(data, &rec); err != nil || rec.Weight != 5 || rec.Service != "-t 192.0.2.10:80" || rec.Server != "198.51.100.2:8080" || rec.Cookie != 1 {
		t.Errorf("record %s: %+v (%v)", data, rec, err)
	}
	if info, _ := os.Stat(f.dir); info.Mode().Perm() != 0o755 {
		t.Errorf("state directory mode %04o, want 0755", info.Mode().Perm())
	}

	// Draining again keeps the first weight, even though the kernel's is 0 now.
	if _, err := f.run("drain", "192.0.2.10:80", "198.51.100.2:8080"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.stderr.String(), "drained already; enable will restore weight 5") {
		t.Errorf("second drain said %q", f.stderr.String())
	}
	if _, err := f.run("enable", "192.0.2.10:80", "198.51.100.2:8080"); err != nil {
		t.Fatal(err)
	}
	if w := f.weight(tcp, rs2, 8080); w != 5 {
		t.Errorf("weight after enable = %d, want 5", w)
	}
	if recs := f.records(); len(recs) != 0 {
		t.Errorf("records left after enable: %v", recs)
	}
	// The record is gone: another enable refuses.
	code, err := f.run("enable", "192.0.2.10:80", "198.51.100.2:8080")
	if code != 1 || err == nil || !strings.Contains(err.Error(), "no weight recorded for real server 198.51.100.2:8080 of -t 192.0.2.10:80") ||
		!strings.Contains(err.Error(), "--weight") {
		t.Errorf("enable without record: %v (status %d)", err, code)
	}
}

// The real server's port defaults to the service's, as with ipvsadm -r;
// IPv6 in brackets with -u; a fwmark service with -f.
func TestDrainAddressForms(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		args   []string
		key    ipvs.ServiceKey
		addr   netip.Addr
		port   uint16
		before uint32
		record string
	}{
		{[]string{"-t", "192.0.2.10:80", "198.51.100.1"}, tcp, rs1, 80, 3, "drain-4026531840-tcp-192.0.2.10-80-198.51.100.1-80.json"},
		{[]string{"-u", "[2001:db8::10]:53", "2001:db8::1"}, udp6, rs6, 53, 2, "drain-4026531840-udp-2001:db8::10-53-2001:db8::1-53.json"},
		{[]string{"-f", "7", "198.51.100.1"}, mark, rs1, 0, 4, "drain-4026531840-fwmark-inet-7-198.51.100.1-0.json"},
		{[]string{"-f", "8", "-6", "2001:db8::1"}, mark6, rs6, 0, 6, "drain-4026531840-fwmark-inet6-8-2001:db8::1-0.json"},
		// Host and service names, as ipvsadm looks them up.
		{[]string{"192.0.2.10:http", "web2:http-alt"}, tcp, rs2, 8080, 5, "drain-4026531840-tcp-192.0.2.10-80-198.51.100.2-8080.json"},
	}
	for _, s := range steps {
		if _, err := f.run(append([]string{"drain"}, s.args...)...); err != nil {
			t.Fatalf("drain %v: %v", s.args, err)
		}
		if w := f.weight(s.key, s.addr, s.port); w != 0 {
			t.Errorf("drain %v: weight %d", s.args, w)
		}
		if _, err := os.Stat(filepath.Join(f.dir, s.record)); err != nil {
			t.Errorf("drain %v: %v", s.args, err)
		}
	}
	for _, s := range steps {
		if _, err := f.run(append([]string{"enable"}, s.args...)...); err != nil {
			t.Fatalf("enable %v: %v", s.args, err)
		}
		if w := f.weight(s.key, s.addr, s.port); w != s.before {
			t.Errorf("enable %v: weight %d, want %d", s.args, w, s.before)
		}
	}
}

func TestEnableWithWeight(t *testing.T) {
	f := newFixture(t)
	// No record: --weight is needed and used.
	if _, err := f.run("enable", "192.0.2.10:80", "198.51.100.1:80", "--weight", "9"); err != nil {
		t.Fatal(err)
	}
	if w := f.weight(tcp, rs1, 80); w != 9 {
		t.Errorf("weight %d, want 9", w)
	}
	// With a record, --weight wins and the record goes.
	f.run("drain", "192.0.2.10:80", "198.51.100.1:80")
	if _, err := f.run("enable", "192.0.2.10:80", "198.51.100.1:80", "--weight", "1"); err != nil {
		t.Fatal(err)
	}
	if w := f.weight(tcp, rs1, 80); w != 1 || len(f.records()) != 0 {
		t.Errorf("weight %d, records %v; want 1 and none", w, f.records())
	}
}

// A record from a dead namespace that had the same inode (other cookie)
// is not taken for this one's.
func TestStaleRecordIgnored(t *testing.T) {
	f := newFixture(t)
	f.ns.Cookie = 99
	f.run("drain", "192.0.2.10:80", "198.51.100.1:80")
	f.ns.Cookie = 1
	if code, err := f.run("enable", "192.0.2.10:80", "198.51.100.1:80"); code != 1 || !strings.Contains(fmt.Sprint(err), "no weight recorded") {
		t.Errorf("enable with another namespace's record: %v (status %d)", err, code)
	}
	// Its drain replaces the stale record.
	f.run("enable", "192.0.2.10:80", "198.51.100.1:80", "--weight", "6")
	f.run("drain", "192.0.2.10:80", "198.51.100.1:80")
	f.run("enable", "192.0.2.10:80", "198.51.100.1:80")
	if w := f.weight(tcp, rs1, 80); w != 6 {
		t.Errorf("weight %d, want 6", w)
	}
}

func TestDrainErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"drain", "192.0.2.99:80", "198.51.100.1:80"}, 1, "no service -t 192.0.2.99:80"},
		{[]string{"drain", "-u", "192.0.2.10:80", "198.51.100.1:80"}, 1, "no service -u 192.0.2.10:80"},
		{[]string{"drain", "192.0.2.10:80", "198.51.100.9:80"}, 1, "service -t 192.0.2.10:80 has no real server 198.51.100.9:80"},
		{[]string{"enable", "192.0.2.10:80", "198.51.100.9:80", "--weight", "1"}, 1, "has no real server 198.51.100.9:80"},
		{[]string{"drain", "192.0.2.10:80"}, 2, "expected a service and a real server"},
		{[]string{"drain", "192.0.2.10:http-nope", "198.51.100.1"}, 2, "illegal virtual server address[:port] specified"},
		{[]string{"drain", "192.0.2.10:80", "198.51.100.300"}, 2, "illegal real server address[:port] specified"},
		{[]string{"drain", "-t", "-u", "192.0.2.10:80", "198.51.100.1"}, 2, "only one of"},
		{[]string{"drain", "-6", "192.0.2.10:80", "198.51.100.1"}, 2, "-6 goes with -f only"},
		{[]string{"drain", "-f", "x", "198.51.100.1"}, 2, "invalid fwmark value"},
		{[]string{"drain", "-u", "[2001:db8::10]:53", "[2001:db8::1]"}, 2, "illegal real server address[:port] specified"}, // ipvsadm wants a port after brackets
		{[]string{"drain", "192.0.2.10:80", "198.51.100.1", "--timeout", "-1s"}, 2, "--timeout must not be negative"},
		{[]string{"enable", "192.0.2.10:80", "198.51.100.1", "--weight", "-1"}, 2, "--weight must be between"},
	}
	for _, tt := range tests {
		f := newFixture(t)
		code, err := f.run(tt.args...)
		if code != tt.code || !strings.Contains(fmt.Sprint(err), tt.msg) {
			t.Errorf("%v: %v (status %d), want status %d and %q", tt.args, err, code, tt.code, tt.msg)
		}
		// Nothing changed, nothing recorded.
		if w1, w2 := f.weight(tcp, rs1, 80), f.weight(tcp, rs2, 8080); w1 != 3 || w2 != 5 || len(f.records()) != 0 {
			t.Errorf("%v changed something: weights %d %d, records %v", tt.args, w1, w2, f.records())
		}
	}
}

// The state directory must be a real directory nobody else can write.
func TestUntrustedDirectory(t *testing.T) {
	f := newFixture(t)
	if err := os.Mkdir(f.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(f.dir, 0o777) // umask
	code, err := f.run("drain", "192.0.2.10:80", "198.51.100.1:80")
	if code != 1 || !strings.Contains(fmt.Sprint(err), "writable by group or others") {
		t.Errorf("group-writable directory: %v (status %d)", err, code)
	}
	if w := f.weight(tcp, rs1, 80); w != 3 {
		t.Errorf("weight changed to %d despite the refused directory", w)
	}
	os.Remove(f.dir)
	target := t.TempDir()
	os.Symlink(target, f.dir)
	if code, err := f.run("drain", "192.0.2.10:80", "198.51.100.1:80"); code != 1 || !strings.Contains(fmt.Sprint(err), "symbolic link") {
		t.Errorf("symlinked directory: %v (status %d)", err, code)
	}
}

// --wait polls until the server's connections are gone, printing each new
// count, and --timeout gives up with the server left drained.
func TestDrainWait(t *testing.T) {
	f := newFixture(t)
	svc := ipvstest.ServiceID{AF: 2, Protocol: 6, Addr: vip, Port: 80}
	dest := ipvstest.DestID{AF: 2, Addr: rs1, Port: 80}
	f.k.SetConnCounts(svc, dest, 2, 1, 0)
	var weightWhileWaiting uint32 = 99
	f.clock.hook = func(elapsed time.Duration) {
		weightWhileWaiting = f.weight(tcp, rs1, 80)
		switch elapsed {
		case 4 * time.Second:
			f.k.SetConnCounts(svc, dest, 0, 1, 0)
		case 10 * time.Second:
			f.k.SetConnCounts(svc, dest, 0, 0, 0)
		}
	}
	if _, err := f.run("drain", "192.0.2.10:80", "198.51.100.1:80", "--wait"); err != nil {
		t.Fatal(err)
	}
	if weightWhileWaiting != 0 {
		t.Errorf("weight while waiting = %d, want 0", weightWhileWaiting)
	}
	if got := fmt.Sprint(f.clock.slept); got != "[2s 2s 2s 2s 2s]" {
		t.Errorf("slept %s, want five polls of 2s (connections end at 10s)", got)
	}
	want := "lvsadm: draining real server 198.51.100.1:80 of -t 192.0.2.10:80: 2 active, 1 inactive connections\n" +
		"lvsadm: draining real server 198.51.100.1:80 of -t 192.0.2.10:80: 0 active, 1 inactive connections\n" +
		"lvsadm: real server 198.51.100.1:80 of -t 192.0.2.10:80 drained after 10s\n"
	if f.stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", f.stderr.String(), want)
	}

	// The timeout: the connections never end.
	f2 := newFixture(t)
	f2.k.SetConnCounts(svc, ipvstest.DestID{AF: 2, Addr: rs2, Port: 8080}, 1, 0, 0)
	code, err := f2.run("drain", "192.0.2.10:80", "198.51.100.2:8080", "--timeout", "5s")
	if code != 1 || !strings.Contains(fmt.Sprint(err), "still has 1 active, 0 inactive connections after 5s; it stays drained") {
		t.Errorf("timeout: %v (status %d)", err, code)
	}
	if got := fmt.Sprint(f2.clock.slept); got != "[2s 2s 1s]" {
		t.Errorf("slept %s, want 2s 2s 1s (the last poll cut to the timeout)", got)
	}
	if w := f2.weight(tcp, rs2, 8080); w != 0 || len(f2.records()) != 1 {
		t.Errorf("after timeout: weight %d, records %v; want 0 and one", w, f2.records())
	}
}

// A server deleted while it drains ends the wait.
func TestDrainWaitServerDeleted(t *testing.T) {
	f := newFixture(t)
	f.k.SetConnCounts(ipvstest.ServiceID{AF: 2, Protocol: 6, Addr: vip, Port: 80}, ipvstest.DestID{AF: 2, Addr: rs1, Port: 80}, 1, 0, 0)
	f.clock.hook = func(time.Duration) { f.c.DeleteDestination(tcp, ipvs.Destination{Addr: rs1, Port: 80}) }
	if _, err := f.run("drain", "192.0.2.10:80", "198.51.100.1:80", "--wait"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.stderr.String(), "the real server was deleted") {
		t.Errorf("stderr %q", f.stderr.String())
	}
}
