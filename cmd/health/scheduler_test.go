package health

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
)

// cmpNetip compares netip values by ==.
var cmpNetip = cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})

// fakeClock is a Clock whose time moves only when a test says.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clock  *fakeClock
	ch     chan time.Time
	when   time.Time
	active bool
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: epoch} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	t.Reset(d)
	return t
}

// set moves the time to now and fires the timers that are due.
func (c *fakeClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	for _, t := range c.timers {
		t.fire()
	}
}

func (t *fakeTimer) fire() {
	if t.active && !t.when.After(t.clock.now) {
		t.active = false
		select {
		case t.ch <- t.clock.now:
		default:
		}
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Reset(d time.Duration) {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	select {
	case <-t.ch:
	default:
	}
	t.when, t.active = t.clock.now.Add(d), true
	t.fire()
}

func (t *fakeTimer) Stop() {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	t.active = false
	select {
	case <-t.ch:
	default:
	}
}

// settle returns once every check due by the fake time has run and its
// events have been delivered.
func settle(s *Scheduler) {
	s.mu.Lock()
	for {
		if started := s.startDue(s.clock.Now(), nil); len(started) > 0 {
			// Only the loop may use the connector.
			panic("settle: a check on the connector; fake-clock tests use fake checkers")
		}
		if s.running == 0 {
			break
		}
		s.idle.Wait()
	}
	s.mu.Unlock()
	if s.events != nil {
		s.events.flush()
	}
}

// runUntil moves the fake time from one due check to the next until end,
// letting each run, and then to end.
func runUntil(s *Scheduler, clock *fakeClock, end time.Time) {
	settle(s)
	for {
		s.mu.Lock()
		var next time.Time
		if len(s.queue) > 0 {
			next = s.queue[0].next
		}
		s.mu.Unlock()
		if next.IsZero() || next.After(end) {
			break
		}
		clock.set(next)
		settle(s)
	}
	clock.set(end)
	settle(s)
}

// script is a fake check: each key's results in turn (the last one
// repeats), recording when each ran.
type script struct {
	clock   Clock
	mu      sync.Mutex
	results map[string][]Result
	runs    map[string][]time.Duration // since epoch
	block   chan struct{}              // if set, checks wait for it (or their context)
	delays  []time.Duration            // each run in turn moves the fake clock on by one
}

func newScript(clock Clock) *script {
	return &script{clock: clock, results: map[string][]Result{}, runs: map[string][]time.Duration{}}
}

func (sc *script) set(key, spec string) {
	sc.mu.Lock()
	sc.results[key] = results(spec)
	sc.mu.Unlock()
}

func (sc *script) ran(key string) []time.Duration {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return append([]time.Duration(nil), sc.runs[key]...)
}

type scriptChecker struct {
	sc  *script
	key string
}

func (c scriptChecker) Check(ctx context.Context) Result {
	sc := c.sc
	sc.mu.Lock()
	sc.runs[c.key] = append(sc.runs[c.key], sc.clock.Now().Sub(epoch))
	block := sc.block
	var delay time.Duration
	if len(sc.delays) > 0 {
		delay, sc.delays = sc.delays[0], sc.delays[1:]
	}
	rs := sc.results[c.key]
	r := Result{Up: true, Reason: "tcp connect ok"}
	if len(rs) > 0 {
		r = rs[0]
		if len(rs) > 1 {
			sc.results[c.key] = rs[1:]
		}
	}
	sc.mu.Unlock()
	if delay > 0 {
		fc := sc.clock.(*fakeClock)
		fc.set(fc.Now().Add(delay))
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return Result{Reason: "canceled"}
		}
	}
	return r
}

// fakeScheduler is a Scheduler on a fake clock whose checks are scripted
// by key (the key is the target's port) and whose events are recorded.
type fakeScheduler struct {
	*Scheduler
	clock  *fakeClock
	script *script
	mu     sync.Mutex
	events []Event
}

func newFakeScheduler(t *testing.T) *fakeScheduler {
	f := &fakeScheduler{clock: newFakeClock()}
	f.script = newScript(f.clock)
	f.Scheduler = New(Config{
		Clock: f.clock,
		OnEvent: func(ev Event) {
			f.mu.Lock()
			f.events = append(f.events, ev)
			f.mu.Unlock()
		},
		NewChecker: func(c *desired.Check, tg Target) (Checker, error) {
			return scriptChecker{f.script, fmt.Sprint(tg.Port)}, nil
		},
	})
	t.Cleanup(f.Close)
	return f
}

func (f *fakeScheduler) takeEvents() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev := f.events
	f.events = nil
	return ev
}

func (f *fakeScheduler) runUntil(d time.Duration) { runUntil(f.Scheduler, f.clock, epoch.Add(d)) }

func (f *fakeScheduler) set(t *testing.T, key string, c *desired.Check, port uint16) Status {
	t.Helper()
	st, err := f.Set(key, c, Target{Addr: netip.MustParseAddr("198.51.100.1"), Port: port})
	if err != nil {
		t.Fatalf("Set(%s): %v", key, err)
	}
	return st
}

func seconds(s ...float64) []time.Duration {
	d := make([]time.Duration, len(s))
	for i, v := range s {
		d[i] = time.Duration(v * float64(time.Second))
	}
	return d
}

func timed(interval, retry time.Duration, rise, fall int) *desired.Check {
	c := check(desired.CheckTCP)
	c.Interval, c.RetryInterval, c.Warmup, c.Rise, c.Fall = interval, retry, 0, rise, fall
	return c
}

func TestSchedulerWarmup(t *testing.T) {
	f := newFakeScheduler(t)
	c := check(desired.CheckTCP)
	c.Interval, c.Warmup = 10*time.Second, 10*time.Second
	const n = 1000
	for i := range n {
		f.set(t, fmt.Sprint("rs", i), c, uint16(i+1))
	}
	settle(f.Scheduler)
	if st := f.Stats(); st.Runs != 0 {
		t.Fatalf("%d checks ran before any time passed", st.Runs)
	}
	f.runUntil(10*time.Second - 1)
	var buckets [10]int
	for i := range n {
		runs := f.script.ran(fmt.Sprint(i + 1))
		if len(runs) != 1 {
			t.Fatalf("check %d ran %d times in its warmup: %v", i, len(runs), runs)
		}
		buckets[runs[0]/time.Second]++
	}
	// Spread over the warmup: each second has about a tenth.
	for i, b := range buckets {
		if b < n/20 || b > n/5 {
			t.Errorf("%d of %d checks started in second %d of the warmup: %v", b, n, i, buckets)
		}
	}
	// And each runs at its interval from its first run.
	f.runUntil(30 * time.Second)
	for i := range n {
		runs := f.script.ran(fmt.Sprint(i + 1))
		want := []time.Duration{runs[0], runs[0] + 10*time.Second, runs[0] + 20*time.Second}
		if d := cmp.Diff(want, runs); d != "" {
			t.Fatalf("check %d ran at (-want +got):\n%s", i, d)
		}
	}
}

func TestSchedulerIntervals(t *testing.T) {
	f := newFakeScheduler(t)
	f.script.set("1", "UUUUDDDDDUUUUU")
	f.set(t, "rs", timed(5*time.Second, time.Second, 2, 3), 1)
	f.runUntil(60 * time.Second)
	// Up: every 5s. Failures 1 and 2 are retried after 1s; the third takes
	// the server down and the interval is 5s again, also while it comes up.
	want := seconds(0, 5, 10, 15, 20, 21, 22, 27, 32, 37, 42, 47, 52, 57)
	if d := cmp.Diff(want, f.script.ran("1")); d != "" {
		t.Errorf("runs (-want +got):\n%s", d)
	}
	want2 := []Event{
		{Status: Status{Key: "rs", Type: "tcp", Up: false, Reason: "tcp connect refused after 3 tries",
			Since: epoch.Add(22 * time.Second), Failures: 3, Checks: 7, Failed: 3,
			Last: Result{Reason: "tcp connect refused", Time: epoch.Add(22 * time.Second)}}, WasUp: true},
		{Status: Status{Key: "rs", Type: "tcp", Up: true, Reason: "up after 2 successes (tcp connect ok)",
			Since: epoch.Add(42 * time.Second), Successes: 2, Checks: 11, Failed: 5,
			Last: Result{Up: true, Reason: "tcp connect ok", Time: epoch.Add(42 * time.Second)}}, WasUp: false},
	}
	if d := cmp.Diff(want2, f.takeEvents(), cmpopts.IgnoreFields(Status{}, "Target"), cmpNetip); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	// A retry that succeeds goes back to the interval.
	f.script.set("2", "UDUUDDUU")
	f.set(t, "rs2", timed(5*time.Second, time.Second, 2, 3), 2)
	f.runUntil(100 * time.Second)
	want = seconds(60, 65, 66, 71, 76, 77, 78, 83)
	if got := f.script.ran("2"); len(got) < len(want) || cmp.Diff(want, got[:len(want)]) != "" {
		t.Errorf("runs of rs2 at %v, want %v first", got, want)
	}
	if ev := f.takeEvents(); len(ev) != 0 {
		t.Errorf("unexpected events: %v", ev)
	}
}

func TestSchedulerInitialDown(t *testing.T) {
	f := newFakeScheduler(t)
	c := timed(time.Second, time.Second, 3, 3)
	c.InitialUp = false
	f.script.set("1", "UUDUUUU")
	st := f.set(t, "rs", c, 1)
	want := Status{Key: "rs", Target: Target{Addr: netip.MustParseAddr("198.51.100.1"), Port: 1}, Type: "tcp",
		Reason: "initial state down", Since: epoch}
	if d := cmp.Diff(want, st, cmpNetip); d != "" {
		t.Errorf("Set's status (-want +got):\n%s", d)
	}
	f.runUntil(10 * time.Second)
	ev := f.takeEvents()
	if len(ev) != 1 || !ev[0].Up || ev[0].Since != epoch.Add(5*time.Second) {
		t.Errorf("events %+v, want one: up at 5s", ev)
	}
}

func TestSchedulerDynamicWeight(t *testing.T) {
	f := newFakeScheduler(t)
	f.script.set("1", "U5U7DDD9")
	c := timed(time.Second, time.Second, 1, 3)
	f.set(t, "rs", c, 1)
	f.runUntil(10 * time.Second)
	type ev struct {
		Up, WasUp, Weighted, WasWeighted bool
		Weight, WasWeight                int
		Reason                           string
	}
	var got []ev
	for _, e := range f.takeEvents() {
		got = append(got, ev{e.Up, e.WasUp, e.Weighted, e.WasWeighted, e.Weight, e.WasWeight, e.Reason})
	}
	want := []ev{
		{true, true, true, false, 5, 0, "exec exit 7 (weight 5)"},
		{true, true, true, true, 7, 5, "exec exit 9 (weight 7)"},
		{false, true, true, true, 7, 7, "tcp connect refused after 3 tries"},
		{true, false, true, true, 9, 7, "up after 1 success (exec exit 11 (weight 9))"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestSchedulerReload(t *testing.T) {
	f := newFakeScheduler(t)
	c := timed(10*time.Second, time.Second, 2, 2)
	f.script.set("1", "D")
	f.script.set("2", "U")
	f.set(t, "a", c, 1)
	f.set(t, "b", c, 2)
	f.runUntil(15 * time.Second) // a: down at 1s, runs at 0,1,11; b: runs at 0,10
	if ev := f.takeEvents(); len(ev) != 1 || ev[0].Key != "a" || ev[0].Up {
		t.Fatalf("events %v, want a down", ev)
	}
	aBefore, _ := f.Status("a")

	// The same checks again, as new values from a new configuration:
	// nothing changes, not even the schedule.
	same := *c
	if st := f.set(t, "a", &same, 1); cmp.Diff(aBefore, st, cmpNetip) != "" {
		t.Errorf("Set of an unchanged check changed its status (-before +after):\n%s", cmp.Diff(aBefore, st, cmpNetip))
	}
	f.set(t, "b", &same, 2)
	f.runUntil(25 * time.Second)
	if d := cmp.Diff(seconds(0, 1, 11, 21), f.script.ran("1")); d != "" {
		t.Errorf("a ran at (-want +got):\n%s", d)
	}
	if d := cmp.Diff(seconds(0, 10, 20), f.script.ran("2")); d != "" {
		t.Errorf("b ran at (-want +got):\n%s", d)
	}

	// A changed check keeps the state but counts anew, from a warmup.
	changed := *c
	changed.Interval, changed.Warmup = 3*time.Second, 2*time.Second
	f.script.set("1", "U")
	st := f.set(t, "a", &changed, 1)
	if st.Up || st.Reason != "tcp connect refused after 2 tries" || st.Failures != 0 || st.Since != epoch.Add(time.Second) {
		t.Errorf("status after a change: %+v", st)
	}
	f.runUntil(40 * time.Second)
	runs := f.script.ran("1")[4:]
	if len(runs) < 2 || runs[0] < 25*time.Second || runs[0] >= 27*time.Second || runs[1]-runs[0] != 3*time.Second {
		t.Errorf("the changed check ran at %v, want within 2s of 25s, then every 3s", runs)
	}
	if ev := f.takeEvents(); len(ev) != 1 || ev[0].Key != "a" || !ev[0].Up || ev[0].Since != epoch.Add(runs[1]) {
		t.Errorf("events %v, want a up after 2 successes", ev)
	}
	// b was not disturbed.
	if d := cmp.Diff(seconds(0, 10, 20, 30, 40), f.script.ran("2")); d != "" {
		t.Errorf("b ran at (-want +got):\n%s", d)
	}

	// Removed: never runs again; the others go on.
	if !f.Remove("a") || f.Remove("a") {
		t.Error("Remove: want true once, then false")
	}
	n := len(f.script.ran("1"))
	f.runUntil(60 * time.Second)
	if got := len(f.script.ran("1")); got != n {
		t.Errorf("a removed check ran %d more times", got-n)
	}
	if _, ok := f.Status("a"); ok {
		t.Error("Status of a removed check")
	}
	if got := f.Statuses(); len(got) != 1 || got[0].Key != "b" || got[0].Checks != 7 {
		t.Errorf("Statuses: %+v", got)
	}
	if st := f.Stats(); st.Checks != 1 || st.Running != 0 || st.Runs != uint64(n+7) || st.MaxLate != 0 {
		t.Errorf("Stats: %+v", st)
	}
}

// Runs of replaced checks left in the heap are dropped before they pile
// up: replacing a queued check with a long interval, reload after reload,
// keeps the heap within twice the checks (and a little).
func TestSchedulerStaleRunsDropped(t *testing.T) {
	f := newFakeScheduler(t)
	f.script.set("1", "U")
	long := timed(time.Hour, time.Hour, 1, 1)
	longer := timed(2*time.Hour, 2*time.Hour, 1, 1)
	f.set(t, "a", long, 1)
	f.set(t, "b", long, 2)
	f.runUntil(time.Second) // both ran once and wait an hour or more
	most := 0
	for i := range 1000 {
		c := long
		if i%2 == 0 {
			c = longer
		}
		f.set(t, "a", c, 1)
		f.Scheduler.mu.Lock()
		most = max(most, len(f.queue))
		f.Scheduler.mu.Unlock()
	}
	if limit := 2*2 + 16 + 1; most > limit {
		t.Errorf("the heap held up to %d runs for 2 checks, want at most %d", most, limit)
	}
	// A changed check starts anew at once, so a ran at 1s (as often as the
	// loop started a run between two replacements; those results are
	// dropped), and then only the last replacement's schedule goes on,
	// hourly. b is untouched.
	f.runUntil(3 * time.Hour)
	ran := f.script.ran("1")
	later := slices.DeleteFunc(slices.Clone(ran), func(d time.Duration) bool { return d <= time.Second })
	if d := cmp.Diff(seconds(3601, 7201), later); d != "" || len(ran) < 4 || ran[1] != time.Second {
		t.Errorf("a ran at %v; after 1s (-want +got):\n%s", ran, d)
	}
	if d := cmp.Diff(seconds(0, 3600, 7200, 10800), f.script.ran("2")); d != "" {
		t.Errorf("b ran at (-want +got):\n%s", d)
	}
}

func TestSchedulerNone(t *testing.T) {
	f := newFakeScheduler(t)
	c := timed(time.Second, time.Second, 1, 1)
	f.script.set("1", "D")
	f.set(t, "a", c, 1)
	f.runUntil(time.Second)
	f.takeEvents()
	// Changed to none: up at once, and never run.
	none := &desired.Check{Type: desired.CheckNone}
	st := f.set(t, "a", none, 1)
	if !st.Up || st.Reason != "check is none" {
		t.Errorf("status %+v, want up", st)
	}
	n := len(f.script.ran("1"))
	f.runUntil(10 * time.Second)
	if got := len(f.script.ran("1")); got != n {
		t.Errorf("a none check ran %d times", got-n)
	}
	if ev := f.takeEvents(); len(ev) != 1 || !ev[0].Up || ev[0].WasUp {
		t.Errorf("events %v, want one up", ev)
	}
	// A new none check is up, whatever its initial state.
	none = &desired.Check{Type: desired.CheckNone, InitialUp: false}
	if st := f.set(t, "b", none, 2); !st.Up {
		t.Errorf("a new none check is down: %+v", st)
	}
}

// A replaced or removed check's run under way is dropped.
func TestSchedulerRunDropped(t *testing.T) {
	f := newFakeScheduler(t)
	block := make(chan struct{})
	f.script.block = block
	f.script.set("1", "D")
	c := timed(time.Second, time.Second, 1, 1)
	f.set(t, "a", c, 1)
	f.set(t, "b", c, 1)
	for f.Stats().Running != 2 { // both start at once (no warmup)
		time.Sleep(time.Millisecond)
	}
	changed := *c
	changed.Fall, changed.Warmup = 2, 10*time.Second
	f.set(t, "a", &changed, 1)
	f.Remove("b")
	f.script.mu.Lock()
	f.script.block = nil
	f.script.mu.Unlock()
	close(block)
	settle(f.Scheduler)
	if ev := f.takeEvents(); len(ev) != 0 {
		t.Errorf("events from dropped runs: %v", ev)
	}
	if st, _ := f.Status("a"); st.Checks != 0 || !st.Up {
		t.Errorf("a counted a dropped run: %+v", st)
	}
}

func TestSchedulerLateness(t *testing.T) {
	f := newFakeScheduler(t)
	f.set(t, "a", timed(time.Second, time.Second, 1, 1), 1)
	settle(f.Scheduler)
	// The check due at 1s starts at 3.5s.
	f.clock.set(epoch.Add(3500 * time.Millisecond))
	settle(f.Scheduler)
	if st := f.Stats(); st.MaxLate != 2500*time.Millisecond || st.TotalLate != st.MaxLate || st.Runs != 2 {
		t.Errorf("Stats %+v, want a run 2.5s late", st)
	}
	// The next run is an interval after, not each one missed.
	f.runUntil(6 * time.Second)
	if d := cmp.Diff(seconds(0, 3.5, 4.5, 5.5), f.script.ran("1")); d != "" {
		t.Errorf("runs (-want +got):\n%s", d)
	}
}

// A run that outlasts its interval is followed at once, and counts as on
// time.
func TestSchedulerOverrun(t *testing.T) {
	f := newFakeScheduler(t)
	f.script.delays = seconds(2.5)
	f.set(t, "a", timed(time.Second, time.Second, 1, 1), 1)
	f.runUntil(5 * time.Second)
	if d := cmp.Diff(seconds(0, 2.5, 3.5, 4.5), f.script.ran("1")); d != "" {
		t.Errorf("runs (-want +got):\n%s", d)
	}
	if st, _ := f.Status("a"); st.Last.Latency != 0 || st.Checks != 4 {
		t.Errorf("status %+v", st)
	}
	if st := f.Stats(); st.MaxLate != 0 {
		t.Errorf("MaxLate %v, want 0", st.MaxLate)
	}
}

func TestSchedulerErrors(t *testing.T) {
	f := newFakeScheduler(t)
	bad := check(desired.CheckTCP)
	bad.Interval = -1
	if _, err := f.Set("a", bad, Target{}); err == nil {
		t.Error("Set of a bad check: no error")
	}
	if _, ok := f.Status("a"); ok {
		t.Error("a bad check was added")
	}
	// A bad replacement leaves the check as it was.
	good := timed(time.Second, time.Second, 1, 1)
	f.set(t, "a", good, 1)
	if _, err := f.Set("a", bad, Target{}); err == nil {
		t.Error("Set of a bad check: no error")
	}
	if st, _ := f.Status("a"); st.Type != desired.CheckTCP || st.Target.Port != 1 {
		t.Errorf("status after a bad replacement: %+v", st)
	}
	f.Close()
	if _, err := f.Set("b", good, Target{}); err != ErrClosed {
		t.Errorf("Set after Close: %v, want ErrClosed", err)
	}
	f.Close() // twice is fine
}

// Close stops checks under way and delivers no event after.
func TestSchedulerClose(t *testing.T) {
	f := newFakeScheduler(t)
	f.script.block = make(chan struct{})
	f.set(t, "a", timed(time.Second, time.Second, 1, 1), 1)
	for f.Stats().Running != 1 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan struct{})
	go func() { f.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if ev := f.takeEvents(); len(ev) != 0 {
		t.Errorf("events after Close: %v", ev)
	}
}

// sameCheck must tell every field of desired.Check that changes how a
// check runs or counts; this fails when a field is added to desired.Check
// and not to sameCheck.
func TestSameCheckFields(t *testing.T) {
	ignored := map[string]bool{"OnFailure": true, "InitialUp": true}
	changes := map[reflect.Type]any{
		reflect.TypeFor[desired.CheckType]():     desired.CheckHTTP,
		reflect.TypeFor[time.Duration]():         time.Minute,
		reflect.TypeFor[int]():                   9,
		reflect.TypeFor[netip.Addr]():            netip.MustParseAddr("203.0.113.1"),
		reflect.TypeFor[uint16]():                uint16(9),
		reflect.TypeFor[string]():                "x",
		reflect.TypeFor[[]desired.StatusRange](): []desired.StatusRange{{Min: 200, Max: 200}},
		reflect.TypeFor[*regexp.Regexp]():        regexp.MustCompile("y"),
		reflect.TypeFor[[]byte]():                []byte("z"),
		reflect.TypeFor[[]string]():              []string{"/bin/true"},
	}
	base := check(desired.CheckTCP)
	base.Body, base.Expect = regexp.MustCompile("x"), regexp.MustCompile("x")
	typ := reflect.TypeFor[desired.Check]()
	for i := range typ.NumField() {
		field := typ.Field(i)
		c := *base
		v := reflect.ValueOf(&c).Elem().Field(i)
		if field.Type.Kind() == reflect.Bool {
			v.SetBool(!v.Bool())
		} else if ch, ok := changes[field.Type]; ok {
			v.Set(reflect.ValueOf(ch))
		} else {
			t.Errorf("field %s: no change for type %v in this test", field.Name, field.Type)
			continue
		}
		if got := sameCheck(base, &c); got != ignored[field.Name] {
			t.Errorf("sameCheck with %s changed = %v", field.Name, got)
		}
	}
	// Equal values in new variables are the same.
	c := *base
	c.Body, c.Expect = regexp.MustCompile("x"), regexp.MustCompile("x")
	c.Status = append([]desired.StatusRange(nil), base.Status...)
	if !sameCheck(base, &c) {
		t.Error("a copy with equal regexps is not the same check")
	}
}

// End to end with the real clock and TCP checks: a listener that goes away
// takes its server down, and one that comes back brings it up.
// TestSchedulerTCP: a tcp check goes down and up with its server, both one
// the scheduler starts on the connector and one with via_vip, which a
// worker runs through the dial hook.
func TestSchedulerTCP(t *testing.T) {
	t.Run("direct", func(t *testing.T) { testSchedulerTCP(t, false) })
	t.Run("via_vip", func(t *testing.T) { testSchedulerTCP(t, true) })
}

func testSchedulerTCP(t *testing.T, via bool) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	go acceptAndClose(l)
	events := make(chan Event, 10)
	var dials atomic.Int64
	opts := Options{ViaVIPDial: func(ctx context.Context, network string, _ netip.AddrPort, _ Target) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	s := New(Config{OnEvent: func(ev Event) { events <- ev }, Options: opts})
	defer s.Close()
	c := check(desired.CheckTCP)
	c.Interval, c.RetryInterval, c.Timeout, c.Warmup, c.Rise, c.Fall = 50*time.Millisecond, 20*time.Millisecond, time.Second, 10*time.Millisecond, 2, 2
	c.ViaVIP = via
	tg := targetOf(t, addr)
	tg.Forward = ipvs.Route
	if _, err := s.Set("rs", c, tg); err != nil {
		t.Fatal(err)
	}
	wait := func(up bool, reason string) {
		t.Helper()
		select {
		case ev := <-events:
			if ev.Up != up || ev.Reason != reason {
				t.Errorf("event up=%v %q, want up=%v %q", ev.Up, ev.Reason, up, reason)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event (want up=%v)", up)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if st, _ := s.Status("rs"); !st.Up || st.Checks == 0 {
		t.Errorf("status %+v, want up and checked", st)
	}
	l.Close()
	wait(false, "tcp connect refused after 2 tries")
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go acceptAndClose(l)
	wait(true, "up after 2 successes (tcp connect ok)")
	if st := s.Stats(); st.MaxLate > 100*time.Millisecond {
		t.Errorf("a check started %v late", st.MaxLate)
	}
	if n := dials.Load(); via != (n > 0) {
		t.Errorf("the via_vip hook dialed %d times", n)
	}
}
