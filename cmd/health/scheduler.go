package health

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
)

// Config is the setup of a Scheduler.
type Config struct {
	// OnEvent is called for every change of a real server's state (and
	// every change of an up server's dynamic weight), in order, from one
	// goroutine of the Scheduler's; checks go on while it runs. Nil: no
	// events, read Statuses instead.
	OnEvent func(Event)
	// Options are passed to NewChecker.
	Options Options
	// Clock is the time source; nil means the real one. For tests.
	Clock Clock
	// NewChecker makes the checkers; nil means NewChecker with Options.
	// For tests.
	NewChecker func(c *desired.Check, t Target) (Checker, error)
}

// Status is a real server's health.
type Status struct {
	Key    string
	Target Target
	Type   desired.CheckType
	Up     bool
	// Weighted says that Weight is the last dynamic weight an exec check
	// reported (it stays until another one); else the configured weight
	// applies.
	Weighted bool
	Weight   int
	// Reason says why Up is what it is: "initial state up", "http 503
	// after 3 tries", "up after 2 successes (tcp connect ok)", "exec exit
	// 7 (weight 5)".
	Reason string
	// Since is when Up last changed, or when the check was added.
	Since time.Time
	// Last is the latest result; its Time is zero before the first.
	Last Result
	// Successes and Failures are the current run of equal results.
	Successes, Failures int
	// Checks and Failed count the results since the check was added.
	Checks, Failed uint64
}

// Event is a change of a real server's state, or of an up server's dynamic
// weight. Status is the state after it.
type Event struct {
	Status
	// WasUp, WasWeighted and WasWeight are the state before.
	WasUp       bool
	WasWeighted bool
	WasWeight   int
}

// Stats describe how the checks keep their schedule.
type Stats struct {
	Checks  int    // checks scheduled
	Running int    // checks under way
	Runs    uint64 // checks started since New
	// MaxLate is the longest time a check started after its scheduled
	// time; TotalLate/Runs is the average.
	MaxLate, TotalLate time.Duration
}

// ErrClosed is returned by Set after Close.
var ErrClosed = errors.New("health: scheduler closed")

// Scheduler runs health checks at their intervals and keeps the state of
// each. It has one goroutine that waits for the next due check and hands it
// to a worker goroutine, a waiting one or a new one; an idle check is an
// entry in a heap. Workers are reused so that a run does not pay for a new
// goroutine and its stack growth; one that has waited workerIdle ends.
type Scheduler struct {
	cfg   Config
	clock Clock

	ctx    context.Context // cancelled by Close: stops running checks
	cancel context.CancelFunc
	wake   chan struct{} // the next due time may be earlier
	runs   chan run      // to the workers that wait for a run
	done   chan struct{} // closed by Close
	loopWG sync.WaitGroup
	runWG  sync.WaitGroup
	events *eventQueue

	// conn makes the connections of tcp checks; nil where there is none
	// (they run in workers then). Only the loop uses it.
	conn *connector

	mu      sync.Mutex
	idle    *sync.Cond // signalled when a run ends
	closed  bool
	entries map[string]*entry
	queue   entryHeap
	armed   time.Time // when the loop's timer fires; zero if not armed
	running int
	stats   Stats
}

// entry is one real server's check.
type entry struct {
	key     string
	check   *desired.Check
	target  Target
	checker Checker
	st      state
	gen     uint64    // changes when the check is replaced: results of the old one are dropped
	next    time.Time // the scheduled start of the next run
	removed bool      // Remove dropped it: results of a run under way are dropped
}

// New starts a Scheduler with no checks.
func New(cfg Config) *Scheduler {
	s := &Scheduler{
		cfg:     cfg,
		clock:   cfg.Clock,
		wake:    make(chan struct{}, 1),
		runs:    make(chan run),
		done:    make(chan struct{}),
		entries: make(map[string]*entry),
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.cfg.NewChecker == nil {
		opts := cfg.Options
		s.cfg.NewChecker = func(c *desired.Check, t Target) (Checker, error) { return NewChecker(c, t, opts) }
	}
	if conn, err := newConnector(); err == nil {
		s.conn = conn
	}
	s.idle = sync.NewCond(&s.mu)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.OnEvent != nil {
		s.events = newEventQueue(cfg.OnEvent)
	}
	s.loopWG.Add(1)
	go s.loop()
	return s
}

// Set adds the check of key, or replaces it, and returns its status.
//
// A new check starts in its initial state (InitialUp), with its first run
// at a random time within its Warmup. If key has a check already and
// neither c nor t has changed, nothing changes. Otherwise the new check
// takes over the old one's state (up or down, dynamic weight, since) and
// counts anew from a warmup of its own; the result of a run of the old one
// still under way is dropped. A none check is up at once and never runs.
// An error (c cannot be run; see NewChecker) leaves key as it was.
func (s *Scheduler) Set(key string, c *desired.Check, t Target) (Status, error) {
	if err := validate(c); err != nil {
		return Status{}, err
	}
	checker, err := s.cfg.NewChecker(c, t)
	if err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Status{}, ErrClosed
	}
	now := s.clock.Now()
	e := s.entries[key]
	switch {
	case e == nil:
		e = &entry{key: key, st: newState(c.InitialUp, c.Rise, c.Fall, now)}
		s.entries[key] = e
	case e.target == t && sameCheck(e.check, c):
		e.check = c
		return e.status(), nil
	default:
		e.gen++ // its run queued or under way is dropped
		e.st.setLimits(c.Rise, c.Fall)
		e.st.successes, e.st.failures = 0, 0
	}
	e.check, e.target, e.checker = c, t, checker
	if c.Type == desired.CheckNone {
		r := Result{Up: true, Reason: "none", Time: now}
		e.st.last = r
		if !e.st.up {
			was := e.status()
			e.st.up, e.st.since, e.st.reason = true, now, "check is none"
			s.emit(e, was)
		}
		return e.status(), nil
	}
	e.next = now
	if c.Warmup > 0 {
		e.next = now.Add(rand.N(c.Warmup))
	}
	s.push(e)
	return e.status(), nil
}

// Remove drops the check of key; it reports whether there was one.
func (s *Scheduler) Remove(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if e == nil {
		return false
	}
	delete(s.entries, key)
	e.removed = true // its run queued or under way is dropped
	return true
}

// Status returns the status of key's check.
func (s *Scheduler) Status(key string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if e == nil {
		return Status{}, false
	}
	return e.status(), true
}

// Statuses returns the status of every check, by key.
func (s *Scheduler) Statuses() []Status {
	s.mu.Lock()
	all := make([]Status, 0, len(s.entries))
	for _, e := range s.entries {
		all = append(all, e.status())
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b Status) int { return strings.Compare(a.Key, b.Key) })
	return all
}

// Stats returns the scheduling figures.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Checks = len(s.entries)
	st.Running = s.running
	return st
}

// Close stops every check (a running exec check's processes are killed)
// and returns once they have ended and every event already due has been
// delivered. Nothing is delivered after.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	close(s.done)
	s.loopWG.Wait()
	if s.conn != nil {
		s.conn.close() // the loop has ended
	}
	s.runWG.Wait()
	if s.events != nil {
		s.events.close()
	}
}

func (e *entry) status() Status {
	return Status{
		Key:       e.key,
		Target:    e.target,
		Type:      e.check.Type,
		Up:        e.st.up,
		Weighted:  e.st.weighted,
		Weight:    e.st.weight,
		Reason:    e.st.reason,
		Since:     e.st.since,
		Last:      e.st.last,
		Successes: e.st.successes,
		Failures:  e.st.failures,
		Checks:    e.st.checks,
		Failed:    e.st.failed,
	}
}

// emit queues the event of e's change from was. s.mu is held, so events
// are queued in the order of the changes.
func (s *Scheduler) emit(e *entry, was Status) {
	if s.events != nil {
		s.events.push(Event{Status: e.status(), WasUp: was.Up, WasWeighted: was.Weighted, WasWeight: was.Weight})
	}
}

// push schedules e at e.next, waking the loop if that is before its timer.
// Stale runs (entries replaced or removed while queued) are dropped once
// they would make up half the heap, so that checks with long intervals
// replaced on many reloads do not pile up in it.
func (s *Scheduler) push(e *entry) {
	if len(s.queue) >= 2*len(s.entries)+16 {
		s.queue = slices.DeleteFunc(s.queue, func(q queued) bool { return q.stale() })
		heap.Init(&s.queue)
	}
	heap.Push(&s.queue, queued{e.next, e, e.gen})
	if s.armed.IsZero() || e.next.Before(s.armed) {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// minSleep is the shortest sleep of the loop: checks due within it of each
// other start together, at most minSleep late, and many checks cost few
// wake-ups.
const minSleep = 10 * time.Millisecond

// loop starts the checks that are due, reaps the connector, and sleeps
// until the next check is due, or minSleep (in real time) while
// connections are under way.
func (s *Scheduler) loop() {
	defer s.loopWG.Done()
	timer := s.clock.NewTimer(time.Hour)
	defer timer.Stop()
	reapTimer := time.NewTimer(time.Hour)
	defer reapTimer.Stop()
	var started []run
	for {
		s.mu.Lock()
		now := s.clock.Now()
		started = s.startDue(now, started[:0])
		s.armed = time.Time{}
		if len(s.queue) > 0 {
			s.armed = s.queue[0].next
			if earliest := now.Add(minSleep); s.armed.Before(earliest) {
				s.armed = earliest
			}
		}
		armed := s.armed
		s.mu.Unlock()
		// Outside the lock: results are counted under it.
		for i := range started {
			s.start(started[i])
			started[i] = run{}
		}
		var reap <-chan time.Time
		if s.conn != nil {
			s.conn.reap(time.Now())
			if s.conn.underWay() {
				reapTimer.Reset(minSleep)
				reap = reapTimer.C
			}
		}
		// From now: starting and reaping took time of their own.
		if !armed.IsZero() {
			timer.Reset(max(armed.Sub(s.clock.Now()), 0))
		} else {
			timer.Stop()
		}
		select {
		case <-timer.C():
		case <-reap:
		case <-s.wake:
		case <-s.done:
			return
		}
	}
}

// run is one run of a check: entry e as of generation gen, with its checker
// c, scheduled at slot.
type run struct {
	e    *entry
	gen  uint64
	c    Checker
	slot time.Time
}

// workerIdle is how long a worker waits for a run before it ends.
const workerIdle = 10 * time.Second

// startDue starts every check due at now: it hands each to a worker, or
// appends those that start without one (startChecker) to started for the
// loop to start once it has released s.mu, which is held.
func (s *Scheduler) startDue(now time.Time, started []run) []run {
	for len(s.queue) > 0 && !s.queue[0].next.After(now) {
		q := heap.Pop(&s.queue).(queued)
		if q.stale() {
			continue
		}
		e := q.e
		s.running++
		r := run{e: e, gen: e.gen, c: e.checker, slot: e.next}
		if _, ok := r.c.(startChecker); ok {
			started = append(started, r)
			continue
		}
		s.toWorker(r)
	}
	return started
}

func (s *Scheduler) toWorker(r run) {
	select {
	case s.runs <- r:
	default:
		s.runWG.Add(1)
		go s.worker(r)
	}
}

// start starts r's probe, whose result comes from the checker's own
// goroutine; or hands r to a worker if its checker cannot start it.
func (s *Scheduler) start(r run) {
	begin := s.clock.Now()
	if !r.c.(startChecker).start(s.conn, func(res Result) { s.finish(r, begin, res) }) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.toWorker(r)
	}
}

// worker does r, then the runs it is handed, until it has waited
// workerIdle for one or the Scheduler is closed.
func (s *Scheduler) worker(r run) {
	defer s.runWG.Done()
	// The checks' contexts (one a run, for its timeout) hang off this one
	// rather than all off s.ctx, whose children are shared by every run.
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		s.run(ctx, r)
		idle.Reset(workerIdle)
		select {
		case r = <-s.runs:
		case <-idle.C:
			return
		case <-s.done:
			return
		}
	}
}

// run runs one check and counts its result.
func (s *Scheduler) run(ctx context.Context, r run) {
	start := s.clock.Now()
	s.finish(r, start, r.c.Check(ctx))
}

// finish counts the result of r, which started at start, and schedules
// its next run.
func (s *Scheduler) finish(r run, start time.Time, res Result) {
	e, gen, slot := r.e, r.gen, r.slot
	end := s.clock.Now()
	res.Time, res.Latency = start, end.Sub(start)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	s.idle.Broadcast()
	late := start.Sub(slot)
	s.stats.Runs++
	s.stats.TotalLate += late
	s.stats.MaxLate = max(s.stats.MaxLate, late)
	if s.closed || e.removed || e.gen != gen {
		return // removed or replaced meanwhile
	}
	was := e.status()
	if e.st.apply(res, end) != noChange {
		s.emit(e, was)
	}
	iv := e.check.Interval
	if e.st.retrying() && e.check.RetryInterval > 0 {
		iv = e.check.RetryInterval
	}
	if iv <= 0 {
		iv = desired.DefaultInterval
	}
	// Fixed rate: the next slot follows this one. A run that started more
	// than an interval late sets the rate anew from its start; one that
	// outlasted its interval is followed at once.
	e.next = slot.Add(iv)
	switch {
	case e.next.Before(start):
		e.next = start.Add(iv)
	case e.next.Before(end):
		e.next = end
	}
	s.push(e)
}

// sameCheck reports whether a and b run and count the same way. OnFailure
// and InitialUp do not matter to a check that is already running.
func sameCheck(a, b *desired.Check) bool {
	if a == b {
		return true
	}
	return a.Type == b.Type &&
		a.Interval == b.Interval && a.Timeout == b.Timeout && a.RetryInterval == b.RetryInterval &&
		a.Rise == b.Rise && a.Fall == b.Fall && a.Warmup == b.Warmup &&
		a.ConnectAddr == b.ConnectAddr && a.ConnectPort == b.ConnectPort && a.ViaVIP == b.ViaVIP &&
		a.Method == b.Method && a.Path == b.Path && a.Host == b.Host &&
		slices.Equal(a.Status, b.Status) && sameRegexp(a.Body, b.Body) &&
		a.SNI == b.SNI && a.Verify == b.Verify &&
		bytes.Equal(a.Send, b.Send) && sameRegexp(a.Expect, b.Expect) &&
		slices.Equal(a.Command, b.Command) && a.DynamicWeight == b.DynamicWeight
}

func sameRegexp(a, b *regexp.Regexp) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.String() == b.String()
}
