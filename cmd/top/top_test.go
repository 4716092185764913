package top

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/cmd/daemon"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

var update = flag.Bool("update", false, "rewrite the golden files (then check the rates they hold)")

// fake is a fake kernel with three services and five real servers, and
// counters the test advances between two reads.
type fake struct {
	k     *ipvstest.Kernel
	clock time.Time
}

type fakeDest struct {
	svc    ipvstest.ServiceID
	dest   ipvstest.DestID
	name   string // as the first column shows it
	weight uint32
	active uint32
	inact  uint32
	first  ipvstest.Stats
	delta  ipvstest.Stats // added between the two reads
}

var (
	web = ipvstest.ServiceID{Protocol: uint16(ipvs.TCP), Addr: netip.MustParseAddr("192.0.2.10"), Port: 80}
	dns = ipvstest.ServiceID{Protocol: uint16(ipvs.UDP), Addr: netip.MustParseAddr("192.0.2.20"), Port: 53}
	fwm = ipvstest.ServiceID{FWMark: 7}
)

// elapsed is the injected clock's time between the two reads; it differs
// from --interval so that a rate divided by the nominal interval shows.
const elapsed = 2500 * time.Millisecond

// fakeDests: the first real server's counters start above 2^32 so that a
// 32-bit counter would show; the third has weight 0 and no traffic.
var fakeDests = []fakeDest{
	{web, dest("198.51.100.1", 80), "  -> 198.51.100.1:80 Masq", 3, 12, 40,
		ipvstest.Stats{Conns: 5_000_000_000, InPkts: 7_000_000_000, OutPkts: 6_000_000_000, InBytes: 900_000_000_000, OutBytes: 800_000_000_000},
		ipvstest.Stats{Conns: 250, InPkts: 1000, OutPkts: 800, InBytes: 64000, OutBytes: 1_200_000}},
	{web, dest("198.51.100.2", 80), "  -> 198.51.100.2:80 Masq", 1, 3, 7,
		ipvstest.Stats{Conns: 10, InPkts: 100, OutPkts: 90, InBytes: 6000, OutBytes: 90000},
		ipvstest.Stats{Conns: 3, InPkts: 17, OutPkts: 13, InBytes: 999, OutBytes: 12345}},
	{web, dest("198.51.100.3", 80), "  -> 198.51.100.3:80 Masq", 0, 0, 2,
		ipvstest.Stats{Conns: 4, InPkts: 40, OutPkts: 30, InBytes: 2000, OutBytes: 3000},
		ipvstest.Stats{}},
	{dns, dest("198.51.100.4", 53), "  -> 198.51.100.4:53 Route", 1, 0, 9,
		ipvstest.Stats{Conns: 100, InPkts: 100, InBytes: 6400},
		ipvstest.Stats{Conns: 1, InPkts: 1, InBytes: 61}},
	{fwm, dest("198.51.100.5", 0), "  -> 198.51.100.5:0 Route", 2, 1, 0,
		ipvstest.Stats{},
		ipvstest.Stats{Conns: 5, InPkts: 50, OutPkts: 0, InBytes: 5000}},
}

func dest(a string, port uint16) ipvstest.DestID {
	return ipvstest.DestID{Addr: netip.MustParseAddr(a), Port: port}
}

func newFake(t testing.TB) *fake {
	t.Helper()
	f := &fake{k: ipvstest.New(), clock: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c, err := ipvs.NewFromConn(f.k.NetlinkConn())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, s := range []ipvs.Service{
		{ServiceKey: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: web.Addr, Port: 80}, Scheduler: "wlc", Netmask: 0xffffffff},
		{ServiceKey: ipvs.ServiceKey{Protocol: ipvs.UDP, Addr: dns.Addr, Port: 53}, Scheduler: "rr", Netmask: 0xffffffff},
		{ServiceKey: ipvs.ServiceKey{FWMark: 7}, Scheduler: "rr", Netmask: 0xffffffff},
	} {
		if err := c.AddService(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range fakeDests {
		k := ipvs.ServiceKey{Protocol: ipvs.Protocol(d.svc.Protocol), Addr: d.svc.Addr, Port: d.svc.Port, FWMark: d.svc.FWMark}
		fwd := ipvs.Masquerade
		if strings.HasSuffix(d.name, "Route") {
			fwd = ipvs.Route
		}
		if err := c.AddDestination(k, ipvs.Destination{Addr: d.dest.Addr, Port: d.dest.Port, ForwardMethod: fwd, Weight: d.weight}); err != nil {
			t.Fatal(err)
		}
		if err := f.k.SetConnCounts(d.svc, d.dest, d.active, d.inact, 0); err != nil {
			t.Fatal(err)
		}
	}
	f.set(t, false)
	return f
}

// set gives every destination its first counters, or those plus its delta,
// and each service the sum of its destinations'.
func (f *fake) set(t testing.TB, advanced bool) {
	sums := map[ipvstest.ServiceID]ipvstest.Stats{}
	for _, d := range fakeDests {
		s := d.first
		if advanced {
			s = add(s, d.delta)
		}
		if err := f.k.SetDestStats(d.svc, d.dest, s); err != nil {
			t.Fatal(err)
		}
		sums[d.svc] = add(sums[d.svc], s)
	}
	for id, s := range sums {
		if err := f.k.SetServiceStats(id, s); err != nil {
			t.Fatal(err)
		}
	}
}

func add(a, b ipvstest.Stats) ipvstest.Stats {
	return ipvstest.Stats{Conns: a.Conns + b.Conns, InPkts: a.InPkts + b.InPkts, OutPkts: a.OutPkts + b.OutPkts,
		InBytes: a.InBytes + b.InBytes, OutBytes: a.OutBytes + b.OutBytes}
}

// env runs top against the fake: Sleep advances the counters and the clock
// by elapsed.
func (f *fake) env(t testing.TB, stdout *bytes.Buffer, slept *[]time.Duration) Env {
	return Env{
		Stdout: stdout, Stderr: stdout,
		Dial:  func() (*ipvs.Client, error) { return ipvs.NewFromConn(f.k.NetlinkConn()) },
		Now:   func() time.Time { return f.clock },
		Sleep: func(d time.Duration) { *slept = append(*slept, d); f.set(t, true); f.clock = f.clock.Add(elapsed) },
	}
}

// expected is the rates the test set, by first column: connections,
// packets and bytes per second over elapsed.
func expected() map[string][3]float64 {
	secs := elapsed.Seconds()
	rate := func(s ipvstest.Stats) [3]float64 {
		return [3]float64{float64(s.Conns) / secs, float64(s.InPkts+s.OutPkts) / secs, float64(s.InBytes+s.OutBytes) / secs}
	}
	want := map[string][3]float64{}
	sums := map[ipvstest.ServiceID]ipvstest.Stats{}
	for _, d := range fakeDests {
		want[d.name] = rate(d.delta)
		sums[d.svc] = add(sums[d.svc], d.delta)
	}
	want["TCP  192.0.2.10:80 wlc"] = rate(sums[web])
	want["UDP  192.0.2.20:53 rr"] = rate(sums[dns])
	want["FWM  7 rr"] = rate(sums[fwm])
	return want
}

// checkTable checks a plain table's rows against what the test set: rates,
// weights and connection counts, one row per service and real server, in
// ipvsadm's order.
func checkTable(t *testing.T, out string, health bool) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	cols := 7
	if health {
		cols = 8
	}
	want := expected()
	order := []string{"TCP  192.0.2.10:80 wlc", fakeDests[0].name, fakeDests[1].name, fakeDests[2].name,
		"UDP  192.0.2.20:53 rr", fakeDests[3].name, "FWM  7 rr", fakeDests[4].name}
	if len(lines) != len(order)+1 {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(order)+1, out)
	}
	wantHeader := "SERVICE / REAL SERVER WEIGHT ACTIVE INACT CONN/S PKT/S BYTES/S"
	if health {
		wantHeader += " HEALTH"
	}
	if got := strings.Join(strings.Fields(lines[0]), " "); got != wantHeader {
		t.Errorf("header %q, want %q", got, wantHeader)
	}
	for i, name := range order {
		l := lines[i+1]
		if !strings.HasPrefix(l, name+" ") {
			t.Errorf("line %d is %q, want %q first", i+1, l, name)
			continue
		}
		f := strings.Fields(strings.TrimPrefix(l, name))
		if health && len(f) > cols-1 { // "2/3 up"
			f = append(f[:cols-2], strings.Join(f[cols-2:], " "))
		}
		if len(f) != cols-1 {
			t.Errorf("line %q: %d columns, want %d", l, len(f)+1, cols)
			continue
		}
		for j, w := range want[name] {
			got, err := strconv.ParseFloat(f[3+j], 64)
			if err != nil || math.Abs(got-w) > 0.05+1e-9 {
				t.Errorf("%s: %s %s, want %.4f", name, colTitles[4+j], f[3+j], w)
			}
		}
		for _, d := range fakeDests {
			if d.name == name {
				if f[0] != u64(uint64(d.weight)) || f[1] != u64(uint64(d.active)) || f[2] != u64(uint64(d.inact)) {
					t.Errorf("%s: weight, active, inactive %v, want %d %d %d", name, f[:3], d.weight, d.active, d.inact)
				}
			}
		}
	}
}

// golden compares out with testdata/name, or writes it with -update.
func golden(t *testing.T, name, out string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s:\n%s\nwant:\n%s", path, out, want)
	}
}

// TestOnce: --once, and top with stdout not a terminal, read the table
// twice --interval apart and print the rates between the reads, divided
// by the time the clock says passed, not the interval asked for.
func TestOnce(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"once", []string{"--once", "--interval", "2s", "--status-url", ""}},
		{"not a terminal", []string{"--interval", "2s", "--status-url", ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			var out bytes.Buffer
			var slept []time.Duration
			c := Command(f.env(t, &out, &slept))
			c.SetArgs(tt.args)
			if err := c.Execute(); err != nil {
				t.Fatal(err)
			}
			if len(slept) != 1 || slept[0] != 2*time.Second {
				t.Errorf("slept %v, want [2s]", slept)
			}
			checkTable(t, out.String(), false)
			golden(t, "once.golden", out.String())
			// The golden file itself holds the rates the test set.
			want, _ := os.ReadFile("testdata/once.golden")
			checkTable(t, string(want), false)
		})
	}
}

// TestOnceNoInterval: --interval 0 reads once: counters only, no rates.
func TestOnceNoInterval(t *testing.T) {
	f := newFake(t)
	var out bytes.Buffer
	var slept []time.Duration
	c := Command(f.env(t, &out, &slept))
	c.SetArgs([]string{"--once", "--interval", "0", "--status-url", ""})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 0 {
		t.Errorf("slept %v", slept)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 9 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if rates := strings.Join(f[len(f)-3:], " "); rates != "- - -" {
			t.Errorf("line %q: rates %q, want - - -", l, rates)
		}
	}
}

// TestOnceHealth: with lvsadm run's /status, HEALTH shows each real
// server's state and each service how many of its checked servers are up.
func TestOnceHealth(t *testing.T) {
	doc := daemon.StatusDoc{SchemaVersion: 1, Services: []daemon.ServiceStatus{
		{Service: "-t 192.0.2.10:80", RealServers: []daemon.ServerStatus{
			{Address: "198.51.100.1:80", State: "up"}, {Address: "198.51.100.2:80", State: "up"},
			{Address: "198.51.100.3:80", State: "down"},
		}},
		{Service: "-f 7", SorryServer: true, RealServers: []daemon.ServerStatus{{Address: "198.51.100.5:0", State: "unchecked"}}},
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { json.NewEncoder(w).Encode(doc) }))
	defer srv.Close()
	f := newFake(t)
	var out bytes.Buffer
	var slept []time.Duration
	c := Command(f.env(t, &out, &slept))
	c.SetArgs([]string{"--once", "--status-url", srv.URL + "/status"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	checkTable(t, out.String(), true)
	for name, want := range map[string]string{"TCP  192.0.2.10:80 wlc": "2/3 up", fakeDests[0].name: "up", fakeDests[2].name: "down",
		fakeDests[4].name: "unchecked", "FWM  7 rr": "sorry", fakeDests[3].name: "-"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("no %q", name)
		}
		var got string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, name+" ") {
				got = strings.TrimSpace(l[strings.LastIndex(strings.TrimRight(l, " "), "  ")+2:])
			}
		}
		if got != want {
			t.Errorf("%s: health %q, want %q", name, got, want)
		}
	}
	golden(t, "once-health.golden", out.String())
}

// TestRates: a rate is the counters' difference over the time between the
// two reads; counters that went back (ipvsadm -Z) give no rate, not a
// huge one, and the next read rates from them.
func TestRates(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := &sampler{}
	read := func(c counters, at time.Time) rates {
		next := map[string]sample{}
		r := s.rate(next, "x", c, at)
		s.prev = next
		return r
	}
	if r := read(counters{100, 200, 300}, t0); r.ok {
		t.Errorf("first read: %+v, want no rate", r)
	}
	if r := read(counters{104, 210, 330}, t0.Add(2*time.Second)); r != (rates{2, 5, 15, true}) {
		t.Errorf("after 2s: %+v, want 2, 5, 15 per second", r)
	}
	if r := read(counters{1, 2, 3}, t0.Add(3*time.Second)); r.ok {
		t.Errorf("after zeroing: %+v, want no rate", r)
	}
	if r := read(counters{2, 6, 3}, t0.Add(3500*time.Millisecond)); r != (rates{2, 8, 0, true}) {
		t.Errorf("after 0.5s: %+v, want 2, 8, 0 per second", r)
	}
}

// describe names services as lvsadm run's status does (desired.Describe).
func TestDescribe(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	for _, k := range []ipvs.ServiceKey{
		{Protocol: ipvs.TCP, Addr: v4, Port: 80}, {Protocol: ipvs.UDP, Addr: v6, Port: 53},
		{Protocol: ipvs.SCTP, Addr: v4, Port: 5000}, {FWMark: 7}, {Family: ipvs.IPv6, FWMark: 7},
	} {
		if got, want := describe(k), desired.Describe(k); got != want {
			t.Errorf("%+v: %q, want %q", k, got, want)
		}
	}
}
