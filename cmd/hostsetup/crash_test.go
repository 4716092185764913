package hostsetup

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/sysctl"
)

// crashScenario is one role brought up on a fresh fake host.
type crashScenario struct {
	name          string
	ifaces        []string
	overrides     map[sysctl.Key]string
	tunnelCreates bool
	up            []string
}

func crashScenarios() []crashScenario {
	eth := []string{"eth0", "eth1"}
	strictRP := map[sysctl.Key]string{
		sysctl.ConfKey(sysctl.All, sysctl.RPFilter):     "1",
		sysctl.ConfKey(sysctl.Default, sysctl.RPFilter): "1",
	}
	return []crashScenario{
		{name: "director dr", ifaces: eth,
			up: []string{"director", "up", "--mode", "dr", "--vip", "192.0.2.10", "--vip", "2001:db8::10", "--iface", "eth0", "--rs-iface", "eth1"}},
		{name: "director nat", ifaces: eth,
			// eth0 forwards on its own: ip_forward's reset of it must be
			// repaired on the way down.
			overrides: map[sysctl.Key]string{sysctl.ConfKey("eth0", sysctl.Forwarding): "1"},
			up:        []string{"director", "up", "--mode", "nat", "--vip", "203.0.113.10", "--vip", "2001:db8::10", "--iface", "eth0", "--rs-iface", "eth1"}},
		{name: "director tun", ifaces: eth,
			up: []string{"director", "up", "--mode", "tun", "--vip", "192.0.2.10", "--iface", "eth0:vip"}},
		{name: "realserver dr", ifaces: eth,
			up: []string{"realserver", "up", "--mode", "dr", "--vip", "192.0.2.10", "--vip", "192.0.2.11", "--iface", "eth0", "--label", "lo:0"}},
		{name: "realserver tun, tunnel created", ifaces: eth, overrides: strictRP, tunnelCreates: true,
			up: []string{"realserver", "up", "--mode", "tun", "--vip", "192.0.2.10", "--iface", "eth0"}},
		{name: "realserver tun, fallback tunnel", ifaces: eth, overrides: strictRP,
			up: []string{"realserver", "up", "--mode", "tun", "--vip", "192.0.2.10", "--iface", "eth0"}},
		{name: "arp", ifaces: eth, up: []string{"arp", "up", "--iface", "eth0", "--iface", "eth1"}},
		{name: "forward", ifaces: eth,
			overrides: map[sysctl.Key]string{sysctl.ConfKey("eth1", sysctl.Forwarding): "1"},
			up:        []string{"forward", "up", "--ipv6"}},
		{name: "redirects", ifaces: eth,
			overrides: map[sysctl.Key]string{sysctl.ConfKey("eth1", sysctl.SendRedirects): "1"},
			up:        []string{"redirects", "up", "--iface", "eth1"}},
		{name: "rpfilter off", ifaces: eth, overrides: strictRP, tunnelCreates: true,
			up: []string{"rpfilter", "up", "--rp-filter", "off"}},
	}
}

func (sc crashScenario) rig(t *testing.T) *rig {
	r := newRig(t, sc.ifaces, sc.overrides)
	r.n.tunnelCreates = sc.tunnelCreates
	return r
}

func (sc crashScenario) downArgs() []string {
	return []string{sc.up[0], "down"}
}

// hostState is everything of the fake host that up changes.
type hostState struct {
	Sysctl map[string]string
	Addrs  []string
	Links  []string
}

func (r *rig) host(t *testing.T) hostState {
	t.Helper()
	h := hostState{Sysctl: r.k.files(t)}
	for _, a := range r.n.addrs {
		h.Addrs = append(h.Addrs, a.String())
	}
	for _, l := range r.n.links {
		h.Links = append(h.Links, fmt.Sprintf("%s up=%v", l.Name, l.Up))
	}
	return h
}

// killed is the panic that stands for lvsadm being killed: nothing after it
// runs, so only what is on disk counts.
type killed struct{ point string }

// runKilled runs args with the fault hook killing lvsadm at the n-th point
// (counting from 0). It reports the point, or "" if the run ended first.
func (r *rig) runKilled(t *testing.T, n int, args ...string) (point string) {
	t.Helper()
	seen := 0
	r.env.step = func(p string) {
		if seen == n {
			panic(killed{p})
		}
		seen++
	}
	defer func() {
		r.env.step = nil
		if v := recover(); v != nil {
			k, ok := v.(killed)
			if !ok {
				panic(v)
			}
			point = k.point
		}
	}()
	if _, errOut, err := r.run(args...); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return ""
}

// points lists the fault points a clean run of args passes.
func (r *rig) points(t *testing.T, args ...string) []string {
	t.Helper()
	var ps []string
	r.env.step = func(p string) { ps = append(ps, p) }
	defer func() { r.env.step = nil }()
	r.mustRun(t, args...)
	return ps
}

// expectedAfterDown runs a clean up and down, which must restore the host,
// except what cannot be undone: once the ipip module has made its fallback
// tunnel, that stays (after holds the host with it).
func (sc crashScenario) expectedAfterDown(t *testing.T) (before, after hostState, upPoints, downPoints []string) {
	r := sc.rig(t)
	before = r.host(t)
	upPoints = r.points(t, sc.up...)
	downPoints = r.points(t, sc.downArgs()...)
	after = r.host(t)
	if sc.tunnelCreates || !slices.Contains(sc.up, "tun") {
		if diff := cmp.Diff(before, after); diff != "" {
			t.Fatalf("a clean up and down does not restore the host (-before +after):\n%s", diff)
		}
	}
	if len(upPoints) == 0 || len(downPoints) == 0 {
		t.Fatalf("no fault points: up %q, down %q", upPoints, downPoints)
	}
	return before, after, upPoints, downPoints
}

// checkRestored requires a down by a fresh lvsadm, without warnings, to leave
// the host as before up and no state behind; want holds the host with the
// fallback tunnel, for a run that loaded ipip.
func (r *rig) checkRestored(t *testing.T, sc crashScenario, before, withFallback hostState, what string) {
	t.Helper()
	want := before
	if r.n.fallback != "" {
		want = withFallback
	}
	out, errOut, err := r.run(sc.downArgs()...)
	if err != nil || errOut != "" {
		t.Errorf("%s: down: %v\nstdout:\n%s\nstderr:\n%s", what, err, out, errOut)
	}
	if diff := cmp.Diff(want, r.host(t)); diff != "" {
		t.Errorf("%s: host after down (-want +got):\n%s\ndown said:\n%s", what, diff, out)
	}
	entries, _ := os.ReadDir(r.env.stateDir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("%s: %s left in the state directory", what, e.Name())
		}
	}
}

// Killing up at any point between recording an intent, acting on it and
// recording the outcome leaves a state file from which down, run afresh,
// restores the host exactly.
func TestUpKilledAtEveryPointIsUndoneByDown(t *testing.T) {
	for _, sc := range crashScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			before, after, points, _ := sc.expectedAfterDown(t)
			for i, p := range points {
				r := sc.rig(t)
				if got := r.runKilled(t, i, sc.up...); got != p {
					t.Fatalf("kill %d: stopped at %q, want %q", i, got, p)
				}
				r.checkRestored(t, sc, before, after, fmt.Sprintf("killed at %q", p))
			}
		})
	}
}

// The same for a down killed part way: a second down finishes the job.
func TestDownKilledAtEveryPointIsFinishedByDown(t *testing.T) {
	for _, sc := range crashScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			before, after, _, points := sc.expectedAfterDown(t)
			for i, p := range points {
				r := sc.rig(t)
				r.mustRun(t, sc.up...)
				if got := r.runKilled(t, i, sc.downArgs()...); got != p {
					t.Fatalf("kill %d: stopped at %q, want %q", i, got, p)
				}
				r.checkRestored(t, sc, before, after, fmt.Sprintf("down killed at %q", p))
			}
		})
	}
}

// A VIP whose announcement is cut short is on the interface and recorded.
func TestVIPRecordedBeforeItsAnnouncement(t *testing.T) {
	r := newRig(t, []string{"eth0"}, nil)
	r.env.announcer = killingAnnouncer{}
	args := []string{"director", "up", "--mode", "dr", "--vip", "192.0.2.10", "--iface", "eth0"}
	func() {
		defer func() {
			if _, ok := recover().(killed); !ok {
				t.Fatal("the announcement was not made")
			}
		}()
		r.run(args...)
	}()
	e := r.loadState(t).entry(roleDirector)
	if e == nil || !slices.ContainsFunc(e.Changes, func(c change) bool {
		return c.Kind == changeAddress && c.Address == "192.0.2.10/32" && c.Status == ""
	}) {
		t.Fatalf("the VIP is not recorded as added: %+v", e)
	}
}

type killingAnnouncer struct{}

func (killingAnnouncer) Announce(Link, netip.Addr, bool) error { panic(killed{"announce"}) }

// signalAt returns a signal source that delivers sig when the fault hook
// reaches the n-th point.
func (r *rig) signalAt(n int, sig os.Signal) {
	ch := make(chan os.Signal, 1)
	seen := 0
	r.env.signals = func() (<-chan os.Signal, func()) { return ch, func() {} }
	r.env.step = func(string) {
		if seen == n {
			ch <- sig
		}
		seen++
	}
}

// SIGINT or SIGTERM during up finishes the step under way, records it, and
// stops with a message saying what is recorded and that down undoes it.
func TestUpStopsCleanlyOnSignal(t *testing.T) {
	sc := crashScenarios()[1] // director nat: side effects and addresses
	before, _, points, _ := sc.expectedAfterDown(t)
	for i := range points {
		r := sc.rig(t)
		r.signalAt(i, syscall.SIGTERM)
		out, errOut, err := r.run(sc.up...)
		r.env.step, r.env.signals = nil, nil
		if exitCode(err) != 128+15 {
			t.Fatalf("signal at %q: err %v (exit %d), want exit 143\n%s", points[i], err, exitCode(err), out)
		}
		st := r.loadState(t)
		e := st.entry(roleDirector)
		n := 0
		if e != nil {
			n = len(e.Changes)
			for _, c := range e.Changes {
				if c.Status != "" {
					t.Errorf("signal at %q: change left %s: %+v", points[i], c.Status, c)
				}
			}
		}
		want := fmt.Sprintf("director up: stopped by SIGTERM; the %d change(s) made so far are recorded in %s: "+
			"'lvsadm director down' undoes them, 'lvsadm director up' completes the setup", n, r.state)
		if n == 0 {
			want = "director up: stopped by SIGTERM before changing anything"
		}
		if err.Error() != want {
			t.Errorf("signal at %q: message\n%s\nwant\n%s\nstderr: %s", points[i], err, want, errOut)
		}
		r.checkRestored(t, sc, before, before, fmt.Sprintf("signal at %q", points[i]))
	}
}

func TestDownStopsCleanlyOnSignal(t *testing.T) {
	sc := crashScenarios()[1]
	before, _, _, points := sc.expectedAfterDown(t)
	for i := range points {
		r := sc.rig(t)
		r.mustRun(t, sc.up...)
		r.signalAt(i, os.Interrupt)
		_, _, err := r.run(sc.downArgs()...)
		r.env.step, r.env.signals = nil, nil
		if err == nil {
			// Only a signal during the last change (at most three points:
			// intent, restore, outcome) lets down finish.
			if i < len(points)-3 {
				t.Fatalf("signal at %q (%d of %d): down did not stop", points[i], i+1, len(points))
			}
			if _, serr := os.Stat(r.state); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("signal at %q: down succeeded but left %s", points[i], r.state)
			}
			continue
		}
		if exitCode(err) != 128+2 {
			t.Fatalf("signal at %q: err %v (exit %d), want exit 130", points[i], err, exitCode(err))
		}
		e := r.loadState(t).entry(roleDirector)
		if e == nil {
			t.Fatalf("signal at %q: nothing left recorded", points[i])
		}
		want := fmt.Sprintf("director down: stopped by SIGINT; %d change(s) not yet undone stay recorded in %s: "+
			"run 'lvsadm director down' again to finish", len(e.Changes), r.state)
		if err.Error() != want {
			t.Errorf("signal at %q: message\n%s\nwant\n%s", points[i], err, want)
		}
		r.checkRestored(t, sc, before, before, fmt.Sprintf("down signal at %q", points[i]))
	}
}

// status tells about changes a killed up left unconfirmed.
func TestStatusShowsUnconfirmedChanges(t *testing.T) {
	sc := crashScenarios()[6] // arp
	r := sc.rig(t)
	if p := r.runKilled(t, 1, sc.up...); p != "made: sysctl net/ipv4/conf/all/arp_ignore" {
		t.Fatalf("killed at %q", p)
	}
	out, _, _ := r.run("arp", "status")
	want := "arp: up since 2026-01-02 03:04:05 UTC (--iface eth0 --iface eth1 --arp-scope all), 1 change(s) recorded\n" +
		"1 of them unconfirmed: lvsadm was stopped while making or undoing them; 'lvsadm arp down' checks each and undoes what was made\n"
	if !strings.HasPrefix(out, want) {
		t.Errorf("status begins\n%s\nwant\n%s", out, want)
	}
}
