package reconcile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// fake is a fake kernel and a client of it.
type fake struct {
	t *testing.T
	k *ipvstest.Kernel
	c *ipvs.Client
}

func newFake(t *testing.T) *fake {
	t.Helper()
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.NetlinkConn())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &fake{t, k, c}
}

func rules(t *testing.T, text string) *desired.Table {
	t.Helper()
	tbl, err := desired.ParseRules("t.rules", strings.NewReader(text), compat.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// plan plans with every real server read over netlink (the fake has no
// /proc/net/ip_vs).
func (f *fake) plan(want *desired.Table, o Options) *Plan {
	f.t.Helper()
	p, err := Make(f.c, nil, want, o)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fake) apply(want *desired.Table, o Options, ao ApplyOptions) error {
	f.t.Helper()
	return Apply(f.c, f.plan(want, o), ao)
}

// state is the fake kernel's whole state, to compare before and after.
func (f *fake) state() string {
	f.t.Helper()
	b, err := f.k.MarshalJSON()
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func planText(p *Plan) string {
	var b bytes.Buffer
	p.WriteText(&b, 0)
	return b.String()
}

const table = `-A -t 192.0.2.10:80 -s wlc
-a -t 192.0.2.10:80 -r 198.51.100.1:80 -m -w 1
-a -t 192.0.2.10:80 -r 198.51.100.2:80 -m -w 2
-A -u 192.0.2.11:53 -s rr -p 600
-a -u 192.0.2.11:53 -r 198.51.100.3:53 -g -w 1 -x 100 -y 10
-A -f 7 -6 -s sh -b sh-port
-a -f 7 -6 -r [2001:db8::1]:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
`

// TestApplyThenNothingDiffers: applying a table into an empty kernel and
// planning again finds nothing to do, and a second apply sends nothing.
func TestApplyThenNothingDiffers(t *testing.T) {
	f := newFake(t)
	want := rules(t, table)
	if err := f.apply(want, Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	changes := f.k.Changes()
	if p := f.plan(want, Options{}); !p.Empty() {
		t.Errorf("after apply the plan is not empty:\n%s", planText(p))
	}
	if err := f.apply(want, Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := f.k.Changes() - changes; n != 0 {
		t.Errorf("a second apply of the same table sent %d changes", n)
	}
}

func TestPlanText(t *testing.T) {
	f := newFake(t)
	if err := f.apply(rules(t, table), Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	changed := strings.NewReplacer(
		"-A -t 192.0.2.10:80 -s wlc", "-A -t 192.0.2.10:80 -s wrr",
		"-r 198.51.100.2:80 -m -w 2", "-r 198.51.100.4:80 -m -w 2",
		"-r 198.51.100.1:80 -m -w 1", "-r 198.51.100.1:80 -m -w 5",
		"-s rr -p 600", "-s rr -p 300",
	).Replace(table) + "-A -t 192.0.2.12:443 -s rr\n"
	want := `~ -E -t 192.0.2.10:80 -s wrr   # scheduler wlc -> wrr   (t.rules:1)
+ -a -t 192.0.2.10:80 -r 198.51.100.4:80 -m -w 2   (t.rules:3)
~ -e -t 192.0.2.10:80 -r 198.51.100.1:80 -m -w 5   # weight 1 -> 5   (t.rules:2)
- -d -t 192.0.2.10:80 -r 198.51.100.2:80
~ -E -u 192.0.2.11:53 -s rr -p 300   # persistence timeout 600 -> 300   (t.rules:4)
+ -A -t 192.0.2.12:443 -s rr   (t.rules:8)
Plan: 2 to add, 3 to change, 1 to remove.
`
	if diff := cmp.Diff(want, planText(f.plan(rules(t, changed), Options{}))); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

// TestEditsKeepCounters: a scheduler, persistence and weight change are
// edits, which keep the counters and connections the kernel has.
func TestEditsKeepCounters(t *testing.T) {
	f := newFake(t)
	if err := f.apply(rules(t, table), Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := ipvstest.ServiceID{AF: 2, Protocol: 6, Addr: netip.MustParseAddr("192.0.2.10"), Port: 80}
	dest := ipvstest.DestID{AF: 2, Addr: netip.MustParseAddr("198.51.100.1"), Port: 80}
	if err := f.k.SetServiceStats(svc, ipvstest.Stats{Conns: 1234}); err != nil {
		t.Fatal(err)
	}
	if err := f.k.SetConnCounts(svc, dest, 3, 4, 0); err != nil {
		t.Fatal(err)
	}
	changed := strings.NewReplacer("-s wlc", "-s wrr -p 60", "-r 198.51.100.1:80 -m -w 1", "-r 198.51.100.1:80 -m -w 9").Replace(table)
	p := f.plan(rules(t, changed), Options{})
	for _, c := range p.Changes {
		if c.Action != Edit {
			t.Errorf("%s %s: want only edits", c.Action, c.Command())
		}
	}
	if err := Apply(f.c, p, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := f.c.Service(ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: svc.Addr, Port: 80})
	if err != nil {
		t.Fatal(err)
	}
	dests, err := f.c.Destinations(s.ServiceKey)
	if err != nil {
		t.Fatal(err)
	}
	var d ipvs.DestinationEntry
	for _, x := range dests {
		if x.Addr == dest.Addr {
			d = x
		}
	}
	if s.Stats.Connections != 1234 || s.Scheduler != "wrr" || d.ActiveConns != 3 || d.InactiveConns != 4 || d.Weight != 9 {
		t.Errorf("after the edits: service %s with %d connections, server weight %d with %d/%d connections; want wrr, 1234, 9, 3/4",
			s.Scheduler, s.Stats.Connections, d.Weight, d.ActiveConns, d.InactiveConns)
	}
}

// TestOneWeightIsOneRequest: in a 10,000 x 10 table, changing one weight
// sends exactly one request.
func TestOneWeightIsOneRequest(t *testing.T) {
	var b strings.Builder
	for s := range 10000 {
		vip := fmt.Sprintf("198.18.%d.%d:80", s/250, s%250+1)
		fmt.Fprintf(&b, "-A -t %s -s rr\n", vip)
		for d := range 10 {
			n := s*10 + d
			fmt.Fprintf(&b, "-a -t %s -r 198.19.%d.%d:80 -m -w 1\n", vip, n/250%256, n%250+1)
		}
	}
	text := b.String()
	f := newFake(t)
	if err := f.apply(rules(t, text), Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(text, "-m -w 1\n", "-m -w 7\n", 1)
	changes, sends := f.k.Changes(), f.k.Sends()
	p := f.plan(rules(t, changed), Options{})
	readSends := f.k.Sends() - sends
	if err := Apply(f.c, p, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, m := f.k.Changes()-changes, f.k.Sends()-sends-readSends; n != 1 || m != 1 {
		t.Errorf("changing one weight sent %d change requests in %d sends; want 1 in 1\n%s", n, m, planText(p))
	}
}

// TestFailureRollsBack: a service the kernel refuses (unknown scheduler)
// makes apply undo everything it made; the error names the line.
func TestFailureRollsBack(t *testing.T) {
	f := newFake(t)
	if err := f.apply(rules(t, table), Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	before := f.state()
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(table, "-w 1", "-w 4")) // edits
	for s := range 50 {
		sched := "rr"
		if s == 40 {
			sched = "nosuch"
		}
		fmt.Fprintf(&b, "-A -t 203.0.113.%d:80 -s %s\n", s+1, sched)
		for d := range 10 {
			fmt.Fprintf(&b, "-a -t 203.0.113.%d:80 -r 198.51.100.%d:80 -m -w 1\n", s+1, d+1)
		}
	}
	err := f.apply(rules(t, b.String()), Options{Prune: true}, ApplyOptions{})
	var ae *ApplyError
	if !errors.As(err, &ae) || !ae.RolledBack {
		t.Fatalf("apply: %v, want a rolled-back ApplyError", err)
	}
	want := "t.rules:448: ipvs: add service 203.0.113.41:80/tcp: scheduler or persistence engine not found (and 10 more refused changes)"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if diff := cmp.Diff(before, f.state()); diff != "" {
		t.Errorf("the kernel changed (-before +after):\n%.2000s", diff)
	}
}

// TestFailureStopsLaterBatches: once the kernel refuses a request, the
// batches after its own are not sent: a refusal early in a large apply
// costs one batch and its undoing, not the whole file twice.
func TestFailureStopsLaterBatches(t *testing.T) {
	var b strings.Builder
	b.WriteString("-A -t 192.0.2.1:80 -s nosuch\n")
	for s := range 1000 {
		vip := fmt.Sprintf("198.18.%d.%d:80", s/250, s%250+1)
		fmt.Fprintf(&b, "-A -t %s -s rr\n", vip)
		for d := range 9 {
			fmt.Fprintf(&b, "-a -t %s -r 198.19.0.%d:80 -m -w 1\n", vip, d+1)
		}
	}
	f := newFake(t)
	if err := f.apply(rules(t, table), Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	before, changes := f.state(), f.k.Changes()
	err := f.apply(rules(t, b.String()), Options{}, ApplyOptions{})
	var ae *ApplyError
	if !errors.As(err, &ae) || !ae.RolledBack || len(ae.Failed) != 1 {
		t.Fatalf("apply: %v, want one refused change, rolled back", err)
	}
	// 10,001 requests: the first batch's 4,095 made and undone; nothing of
	// the two batches after it.
	if n := f.k.Changes() - changes; n > 2*sendChunk {
		t.Errorf("the kernel handled %d changes, want at most %d (one batch and its undoing)", n, 2*sendChunk)
	}
	if diff := cmp.Diff(before, f.state()); diff != "" {
		t.Errorf("the kernel changed (-before +after):\n%.2000s", diff)
	}
}

// TestPrune: services the file does not name stay unless pruning.
func TestPrune(t *testing.T) {
	f := newFake(t)
	if err := f.apply(rules(t, table), Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	only := rules(t, "-A -u 192.0.2.11:53 -s rr -p 600\n-a -u 192.0.2.11:53 -r 198.51.100.3:53 -g -w 1 -x 100 -y 10\n")
	if p := f.plan(only, Options{}); !p.Empty() {
		t.Errorf("without --prune:\n%s", planText(p))
	}
	p := f.plan(only, Options{Prune: true})
	want := "- -D -t 192.0.2.10:80\n- -D -f 7 -6\nPlan: 0 to add, 0 to change, 2 to remove.\n"
	if diff := cmp.Diff(want, planText(p)); diff != "" {
		t.Errorf("with --prune (-want +got):\n%s", diff)
	}
	if err := Apply(f.c, p, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if svcs, _ := f.c.Services(); len(svcs) != 1 {
		t.Errorf("%d services after pruning, want 1", len(svcs))
	}
}

// testClock advances only when slept; each sleep runs a hook first.
type testClock struct {
	now   time.Time
	sleep func(now time.Time)
}

func (c *testClock) Now() time.Time { return c.now }
func (c *testClock) Sleep(d time.Duration) {
	c.now = c.now.Add(d)
	c.sleep(c.now)
}

// TestDrain: a removed real server gets weight 0 at once and is deleted
// when its connections end; one whose connections outlast the timeout is
// deleted then.
func TestDrain(t *testing.T) {
	f := newFake(t)
	if err := f.apply(rules(t, table), Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := ipvstest.ServiceID{AF: 2, Protocol: 6, Addr: netip.MustParseAddr("192.0.2.10"), Port: 80}
	for _, addr := range []string{"198.51.100.1", "198.51.100.2"} {
		if err := f.k.SetConnCounts(svc, ipvstest.DestID{AF: 2, Addr: netip.MustParseAddr(addr), Port: 80}, 2, 1, 0); err != nil {
			t.Fatal(err)
		}
	}
	// The file drops both real servers of 192.0.2.10:80.
	without := "-A -t 192.0.2.10:80 -s wlc\n-A -u" + strings.SplitN(table, "-A -u", 2)[1]
	p := f.plan(rules(t, without), Options{})
	start := time.Unix(1000, 0)
	var lines []string
	var weightsAtFirstSleep string
	clock := &testClock{now: start, sleep: func(now time.Time) {
		if weightsAtFirstSleep == "" {
			dests, _ := f.c.Destinations(ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: svc.Addr, Port: 80})
			weightsAtFirstSleep = fmt.Sprint(len(dests), dests[0].Weight, dests[1].Weight)
		}
		if now.Sub(start) >= 5*time.Second {
			// 198.51.100.1's connections end after 5 seconds.
			f.k.SetConnCounts(svc, ipvstest.DestID{AF: 2, Addr: netip.MustParseAddr("198.51.100.1"), Port: 80}, 0, 0, 0)
		}
	}}
	err := Apply(f.c, p, ApplyOptions{DrainTimeout: 30 * time.Second, Clock: clock, Progress: func(l string) { lines = append(lines, fmt.Sprintf("%v %s", clock.now.Sub(start), l)) }})
	if err != nil {
		t.Fatal(err)
	}
	if weightsAtFirstSleep != "2 0 0" {
		t.Errorf("while draining: %s (destinations, weights), want 2 0 0", weightsAtFirstSleep)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"0s draining real server 198.51.100.1:80 of -t 192.0.2.10:80: 2 active, 1 inactive connections",
		"5s drained: removing real server 198.51.100.1:80 of -t 192.0.2.10:80",
		"30s drain timeout: removing real server 198.51.100.2:80 of -t 192.0.2.10:80 with 2 active, 1 inactive connections",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("progress lacks %q:\n%s", want, got)
		}
	}
	if dests, _ := f.c.Destinations(ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: svc.Addr, Port: 80}); len(dests) != 0 {
		t.Errorf("%d real servers left after draining", len(dests))
	}
}

// TestBetween plans from two desired tables alone: a weight change is one
// edit, a server gone one removal, and the same table nothing.
func TestBetween(t *testing.T) {
	before := rules(t, table)
	if p := Between(before, before); !p.Empty() {
		t.Errorf("same table:\n%s", planText(p))
	}
	after := rules(t, strings.NewReplacer("-r 198.51.100.1:80 -m -w 1\n", "-r 198.51.100.1:80 -m -w 0\n", "-a -t 192.0.2.10:80 -r 198.51.100.2:80 -m -w 2\n", "").Replace(table))
	want := "~ -e -t 192.0.2.10:80 -r 198.51.100.1:80 -m -w 0   # weight 1 -> 0   (t.rules:2)\n- -d -t 192.0.2.10:80 -r 198.51.100.2:80\nPlan: 0 to add, 1 to change, 1 to remove.\n"
	if diff := cmp.Diff(want, planText(Between(before, after))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// procText is the fake kernel's IPv4 TCP table as /proc/net/ip_vs shows
// it (no thresholds), for plans that read real servers from there.
func procText(t testing.TB, c *ipvs.Client) string {
	t.Helper()
	hex := func(a netip.Addr, port uint16) string {
		b := a.As4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", b[0], b[1], b[2], b[3], port)
	}
	var b strings.Builder
	b.WriteString("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n")
	svcs, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs {
		fmt.Fprintf(&b, "TCP  %s %s \n", hex(s.Addr, s.Port), s.Scheduler)
		dests, err := c.Destinations(s.ServiceKey)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dests {
			fmt.Fprintf(&b, "  -> %s      %-7s %-6d %-10d %-10d\n", hex(d.Addr, d.Port), d.ForwardMethod, d.Weight, 0, 0)
		}
	}
	return b.String()
}

// TestPlanFromProc: a plan that reads the real servers from /proc equals
// one that reads them over netlink, and reads over netlink again only the
// service whose real server it edits, so that the change holds the
// kernel's whole server (its threshold, which /proc does not show) for a
// rollback; a pruned service's servers are whole too.
func TestPlanFromProc(t *testing.T) {
	f := newFake(t)
	const kernel = `-A -t 192.0.2.10:80 -s wlc
-a -t 192.0.2.10:80 -r 198.51.100.1:80 -m -w 1 -x 50
-a -t 192.0.2.10:80 -r 198.51.100.2:80 -m -w 2
-A -t 192.0.2.11:80 -s rr
-a -t 192.0.2.11:80 -r 198.51.100.3:80 -m -w 1
-A -t 192.0.2.12:80 -s rr
-a -t 192.0.2.12:80 -r 198.51.100.4:80 -m -w 1 -x 20 -y 7
`
	if err := f.apply(rules(t, kernel), Options{}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	proc := procText(t, f.c)
	opener := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(proc)), nil }
	// The first server's weight changes; the third service is not named.
	want := rules(t, strings.Replace(strings.Split(kernel, "-A -t 192.0.2.12")[0], "-m -w 1 -x 50", "-m -w 5 -x 50", 1))

	sends := f.k.Sends()
	p, err := Make(f.c, opener, want, Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	// The service dump, the edited service's real servers and the pruned
	// one's.
	if n := f.k.Sends() - sends; n != 3 {
		t.Errorf("the plan made %d netlink requests, want 3", n)
	}
	full := f.plan(want, Options{Prune: true, FullRead: true})
	if diff := cmp.Diff(planText(full), planText(p)); diff != "" {
		t.Errorf("plan from /proc (-from netlink +from /proc):\n%s", diff)
	}
	var edit, prune *Change
	for i := range p.Changes {
		switch c := &p.Changes[i]; {
		case c.Action == Edit && c.IsServer():
			edit = c
		case c.Action == Remove && !c.IsServer():
			prune = c
		}
	}
	if edit == nil || edit.OldServer.UpperThreshold != 50 || edit.OldServer.Weight != 1 {
		t.Errorf("the edit's old server: %+v, want weight 1 and threshold 50 (whole, from netlink)", edit)
	}
	if prune == nil || len(prune.Servers) != 1 || prune.Servers[0].LowerThreshold != 7 {
		t.Errorf("the pruned service's servers: %+v, want one with lower threshold 7", prune)
	}
}
