// Package daemon is lvsadm run: it keeps the kernel's IPVS table equal to a
// desired table (package desired) filtered by the health of the real
// servers (package health). It applies the file at start, turns each
// health change into the few netlink edits it needs (package reconcile),
// re-reads the file on SIGHUP or a reload request without resetting the
// checks that did not change, and serves its state as JSON (/status) and
// Prometheus metrics (/metrics).
package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/health"
	"github.com/lvsadm/lvsadm/cmd/reconcile"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/sysctl"
)

// Env is what the daemon uses outside the process.
type Env struct {
	Stderr io.Writer // the log
	// Dial connects to the kernel's IPVS; the daemon keeps one client for
	// its changes and dials another for each metrics scrape.
	Dial     func() (*ipvs.Client, error)
	OpenProc func() (io.ReadCloser, error)
	Parser   compat.Parser
	// Notify sends a systemd notification ("READY=1"); nil for none.
	Notify func(state string)
	// Signals subscribes to SIGHUP, SIGINT and SIGTERM; nil means the
	// process's. For tests.
	Signals func() (<-chan os.Signal, func())
	// Health configures the checks; Clock and NewChecker are for tests.
	// Without Options.ViaVIPDial, via_vip checks go through IPVS (viaVIP).
	Health health.Config
	// Sysctl is where via_vip checks read accept_local.
	Sysctl sysctl.FS
}

// Options are lvsadm run's flags.
type Options struct {
	File   string
	Format desired.Format
	// Listen is the address of the HTTP server (/status, /metrics,
	// /reload); empty for none.
	Listen string
	// LogJSON writes the log as JSON lines instead of text.
	LogJSON bool
	// FlushOnExit removes, when the daemon stops, the services and real
	// servers it added.
	FlushOnExit bool
	// DrainTimeout is how long a real server that leaves the table (a
	// failed one with on_failure remove, or one a reload drops) keeps its
	// connections at weight 0 before it is deleted; 0 deletes at once.
	DrainTimeout time.Duration
	// Resync is how often the kernel's table is read and corrected if
	// someone else changed it; 0 never.
	Resync time.Duration
	// ViaVIPMark is the first of the ViaVIPMarks firewall marks of the
	// services that carry via_vip checks; 0 means DefaultViaVIPMark.
	ViaVIPMark uint32
}

// daemon is the state of one lvsadm run.
type daemon struct {
	opts   Options
	env    Env
	log    *slog.Logger
	client *ipvs.Client
	sched  *health.Scheduler
	events chan health.Event
	checks health.Options // the checkers' options
	via    *viaVIP

	table   *desired.Table            // the file
	states  map[serverID]serverHealth // the checked servers' health, by the events seen
	quorums map[ipvs.ServiceKey]*quorumState
	applied *desired.Table // what the kernel was last made to be
	// draining are servers with on_failure remove that are down and still
	// at weight 0 in the table, until their connections end or the drain
	// timeout passes.
	draining map[serverID]time.Time
	// added are the services and real servers the daemon added, for
	// FlushOnExit.
	added addedSet

	mu       sync.Mutex                // guards snapshot and view
	snapshot statusDoc                 // what /status serves
	view     map[serverID]ServerStatus // the same by server, for metrics
	reloads  chan chan error
}

type addedSet struct {
	services map[ipvs.ServiceKey]bool
	servers  map[serverID]bool
}

// Run runs the daemon until ctx is done or SIGINT/SIGTERM. A file it cannot
// read, or whose checks it cannot run, is an error before anything is
// changed.
func Run(ctx context.Context, o Options, env Env) error { return run(ctx, o, env, nil) }

// run is Run, telling started (for tests) once it is running.
func run(ctx context.Context, o Options, env Env, started chan<- *daemon) error {
	var handler slog.Handler = slog.NewTextHandler(env.Stderr, nil)
	if o.LogJSON {
		handler = slog.NewJSONHandler(env.Stderr, nil)
	}
	d := &daemon{opts: o, env: env, log: slog.New(handler), states: map[serverID]serverHealth{},
		quorums: map[ipvs.ServiceKey]*quorumState{}, draining: map[serverID]time.Time{},
		added:  addedSet{map[ipvs.ServiceKey]bool{}, map[serverID]bool{}},
		events: make(chan health.Event, 1024), reloads: make(chan chan error)}
	d.via = &viaVIP{sysctl: env.Sysctl, first: cmp.Or(o.ViaVIPMark, DefaultViaVIPMark)}
	if d.via.first > 1<<32-ViaVIPMarks {
		return fmt.Errorf("via_vip marks: %d-%d is not a range of firewall marks", d.via.first, uint64(d.via.first)+ViaVIPMarks-1)
	}
	d.checks = env.Health.Options
	if d.checks.ViaVIPDial == nil {
		d.checks.ViaVIPDial = d.via.dial
	}
	table, err := d.load()
	if err != nil {
		return err
	}
	if err := checkable(table, d.checks); err != nil {
		return err
	}
	sources, err := d.via.check(table)
	if err != nil {
		return err
	}
	if d.client, err = env.Dial(); err != nil {
		return err
	}
	defer d.client.Close()
	d.via.client = d.client

	cfg := env.Health
	cfg.Options = d.checks
	cfg.OnEvent = func(ev health.Event) { d.events <- ev }
	d.sched = health.New(cfg)
	defer d.sched.Close()
	if err := d.startQuiescedDown(table); err != nil {
		return err
	}
	if err := d.via.apply(table, sources); err != nil {
		return err
	}
	if err := d.setChecks(table); err != nil {
		return err
	}
	d.table = table
	if err := d.sync("start"); err != nil {
		return err
	}

	var ln net.Listener
	if o.Listen != "" {
		if ln, err = net.Listen("tcp", o.Listen); err != nil {
			return fmt.Errorf("listen on %s: %w", o.Listen, err)
		}
		srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
	}
	d.notify("READY=1")
	if started != nil {
		started <- d
	}
	d.log.Info("running", "file", o.File, "services", len(table.Services), "checks", d.sched.Stats().Checks, "listen", o.Listen)
	return d.loop(ctx)
}

// load reads the file.
func (d *daemon) load() (*desired.Table, error) {
	data, err := os.ReadFile(d.opts.File)
	if err != nil {
		return nil, err
	}
	return desired.Parse(d.opts.File, data, d.opts.Format, d.env.Parser)
}

// startQuiescedDown makes the checks of real servers that the kernel holds
// at weight 0, where t gives them more, start down: a daemon restarted after
// an earlier one quiesced a failed server does not send it traffic again
// before its checks pass (rise successes). Servers with on_failure remove or
// initial_state down are left as they are.
func (d *daemon) startQuiescedDown(t *desired.Table) error {
	p, err := reconcile.Make(d.client, d.env.OpenProc, t, reconcile.Options{})
	if err != nil {
		return fmt.Errorf("reading the kernel's table: %w", err)
	}
	quiesced := map[serverID]bool{}
	for _, c := range p.Changes {
		if c.Action == reconcile.Edit && c.IsServer() && c.OldServer.Weight == 0 && c.Server.Weight > 0 {
			k := desired.Key(c.Service.ServiceKey)
			quiesced[serverID{k, desired.DestKey(k.Family, c.Server)}] = true
		}
	}
	for i := range t.Services {
		s := &t.Services[i]
		for j := range s.Servers {
			r := &s.Servers[j]
			if r.Check == nil || !r.Check.InitialUp || r.Check.OnFailure != desired.OnFailureQuiesce || !quiesced[idOf(s, r)] {
				continue
			}
			c := *r.Check
			c.InitialUp = false
			r.Check = &c
			d.log.Info("starts down", "service", desired.Describe(s.ServiceKey), "real_server", desired.AddrPort(r.Addr, r.Port), "why", "weight 0 in the kernel")
		}
	}
	return nil
}

// checkable tells whether every check of t can run, before any starts.
func checkable(t *desired.Table, opts health.Options) error {
	var errs []error
	for i := range t.Services {
		s := &t.Services[i]
		for j := range s.Servers {
			r := &s.Servers[j]
			if r.Check == nil {
				continue
			}
			if _, err := health.NewChecker(r.Check, target(s, r), opts); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.Source, err))
			}
		}
	}
	return errors.Join(errs...)
}

func target(s *desired.Service, r *desired.Server) health.Target {
	return health.Target{Addr: r.Addr, Port: r.Port, VIP: s.Addr, VPort: s.Port, Forward: r.ForwardMethod}
}

// checkKey names a real server's check in the scheduler.
func checkKey(id serverID) string {
	return desired.Describe(id.service) + " -r " + desired.AddrPort(id.server.Addr, id.server.Port)
}

// setChecks makes the scheduler run t's checks: new and changed ones are
// set, unchanged ones keep their state, gone ones are removed.
func (d *daemon) setChecks(t *desired.Table) error {
	want := map[string]bool{}
	for i := range t.Services {
		s := &t.Services[i]
		for j := range s.Servers {
			r := &s.Servers[j]
			if r.Check == nil {
				continue
			}
			id := idOf(s, r)
			key := checkKey(id)
			want[key] = true
			st, err := d.sched.Set(key, r.Check, target(s, r))
			if err != nil {
				return fmt.Errorf("%s: %w", r.Source, err)
			}
			d.states[id] = healthOf(st)
		}
	}
	for _, st := range d.sched.Statuses() {
		if !want[st.Key] {
			d.sched.Remove(st.Key)
		}
	}
	for id := range d.states {
		if !want[checkKey(id)] {
			delete(d.states, id)
			delete(d.draining, id)
		}
	}
	return nil
}

func healthOf(st health.Status) serverHealth {
	h := serverHealth{up: st.Up}
	if st.Up && st.Weighted {
		w := uint32(max(st.Weight, 0))
		h.weight = &w
	}
	return h
}

// effective is the table the kernel should have now.
func (d *daemon) effective() *desired.Table {
	states := d.states
	if len(d.draining) > 0 {
		// A draining server stays, quiesced, until its connections end.
		states = make(map[serverID]serverHealth, len(d.states))
		for id, h := range d.states {
			states[id] = h
		}
	}
	t := effective(d.table, states, d.quorums)
	if len(d.draining) == 0 {
		return t
	}
	for i := range d.table.Services {
		s := &d.table.Services[i]
		for j := range s.Servers {
			r := s.Servers[j]
			if _, ok := d.draining[idOf(s, &r)]; ok {
				r.Weight = 0
				t.Services[i].Servers = append(t.Services[i].Servers, r)
			}
		}
	}
	return t
}

// sync reads the kernel's table and makes it the effective one (at start,
// after a reload, and periodically).
func (d *daemon) sync(why string) error {
	want := d.effective()
	p, err := reconcile.Make(d.client, d.env.OpenProc, want, reconcile.Options{})
	if err != nil {
		return fmt.Errorf("reading the kernel's table: %w", err)
	}
	if err := d.apply(p, why, d.opts.DrainTimeout); err != nil {
		return err
	}
	d.applied = want
	d.updateSnapshot()
	return nil
}

// change makes the kernel follow a change of health, from what was last
// applied, without reading it.
func (d *daemon) change(why string) {
	want := d.effective()
	p := reconcile.Between(d.applied, want)
	if err := d.apply(p, why, 0); err != nil {
		d.log.Error("apply failed; the table will be read and corrected", "why", why, "error", err)
		if err := d.sync("correction"); err != nil {
			d.log.Error("correction failed", "error", err)
		}
		return
	}
	d.applied = want
	d.updateSnapshot()
}

// apply makes p's changes and logs each.
func (d *daemon) apply(p *reconcile.Plan, why string, drain time.Duration) error {
	if p.Empty() {
		return nil
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		d.log.Info("change", "why", why, "action", c.Action.String(), "command", c.Command())
		if c.Action == reconcile.Add {
			k := desired.Key(c.Service.ServiceKey)
			if !c.IsServer() {
				d.added.services[k] = true
			} else {
				d.added.servers[serverID{k, desired.DestKey(k.Family, c.Server)}] = true
			}
		}
	}
	return reconcile.Apply(d.client, p, reconcile.ApplyOptions{
		DrainTimeout: drain,
		Progress:     func(line string) { d.log.Info(line) },
	})
}

func (d *daemon) notify(state string) {
	if d.env.Notify != nil {
		d.env.Notify(state)
	}
}

// loop handles events until the end.
func (d *daemon) loop(ctx context.Context) error {
	subscribe := d.env.Signals
	if subscribe == nil {
		subscribe = func() (<-chan os.Signal, func()) {
			ch := make(chan os.Signal, 4)
			signal.Notify(ch, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
			return ch, func() { signal.Stop(ch) }
		}
	}
	sigs, stop := subscribe()
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var resync <-chan time.Time
	if d.opts.Resync > 0 {
		t := time.NewTicker(d.opts.Resync)
		defer t.Stop()
		resync = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return d.stop("context done")
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				d.reload("SIGHUP")
				continue
			}
			return d.stop(sig.String())
		case reply := <-d.reloads:
			reply <- d.reload("reload request")
		case ev := <-d.events:
			d.event(ev)
		case <-tick.C:
			d.drain()
			d.updateSnapshot() // the checks' latest results
		case <-resync:
			if err := d.via.prepare(d.table); err != nil {
				d.log.Error("resync of the via_vip services failed", "error", err)
			}
			if err := d.sync("resync"); err != nil {
				d.log.Error("resync failed", "error", err)
			}
		}
	}
}

// event takes in a change of a server's health.
func (d *daemon) event(ev health.Event) {
	id, r, s, ok := d.find(ev.Key)
	if !ok {
		return // a check removed by a reload
	}
	state := "down"
	if ev.Up {
		state = "up"
	}
	d.log.Info("health", "service", desired.Describe(s.ServiceKey), "real_server", desired.AddrPort(r.Addr, r.Port),
		"state", state, "reason", ev.Reason)
	d.states[id] = healthOf(ev.Status)
	switch {
	case !ev.Up && r.Check.OnFailure == desired.OnFailureRemove && d.opts.DrainTimeout > 0:
		d.draining[id] = time.Now()
	case ev.Up:
		delete(d.draining, id)
	}
	d.change("health " + state + ": " + ev.Reason)
}

// find is the server a check key names.
func (d *daemon) find(key string) (serverID, *desired.Server, *desired.Service, bool) {
	for i := range d.table.Services {
		s := &d.table.Services[i]
		for j := range s.Servers {
			r := &s.Servers[j]
			if r.Check != nil && checkKey(idOf(s, r)) == key {
				return idOf(s, r), r, s, true
			}
		}
	}
	return serverID{}, nil, nil, false
}

// drain deletes draining servers whose connections have ended or whose
// drain timeout has passed.
func (d *daemon) drain() {
	if len(d.draining) == 0 {
		return
	}
	changed := false
	for id, since := range d.draining {
		dests, err := d.client.Destinations(id.service)
		if err != nil {
			d.log.Error("reading connections of a draining server", "error", err)
			continue
		}
		var conns uint32
		for i := range dests {
			if desired.DestKey(id.service.Family, &dests[i].Destination) == id.server {
				conns += dests[i].ActiveConns + dests[i].InactiveConns
			}
		}
		if conns == 0 || time.Since(since) >= d.opts.DrainTimeout {
			d.log.Info("drained", "service", desired.Describe(id.service), "real_server", desired.AddrPort(id.server.Addr, id.server.Port), "connections", conns)
			delete(d.draining, id)
			changed = true
		}
	}
	if changed {
		d.change("drained")
	}
}

// reload re-reads the file and applies the difference; a file it cannot
// read leaves everything as it is.
func (d *daemon) reload(why string) error {
	d.notify("RELOADING=1")
	defer d.notify("READY=1")
	table, err := d.load()
	if err == nil {
		err = checkable(table, d.checks)
	}
	var sources map[viaKey]netip.Addr
	if err == nil {
		sources, err = d.via.check(table)
	}
	if err != nil {
		d.log.Error("reload refused; the running configuration stays", "why", why, "error", err)
		return err
	}
	if err := d.via.apply(table, sources); err != nil {
		d.log.Error("reload: via_vip services", "error", err)
		return err
	}
	d.table = table
	if err := d.setChecks(table); err != nil {
		d.log.Error("reload: checks", "error", err)
		return err
	}
	if err := d.sync(why); err != nil {
		d.log.Error("reload failed", "error", err)
		return err
	}
	d.log.Info("reloaded", "why", why, "services", len(table.Services))
	return nil
}

// stop ends the loop, leaving the table as it is unless FlushOnExit.
func (d *daemon) stop(why string) error {
	d.notify("STOPPING=1")
	d.log.Info("stopping", "why", why, "flush", d.opts.FlushOnExit)
	if !d.opts.FlushOnExit {
		return nil
	}
	b := d.client.NewBatch()
	for id := range d.added.servers {
		if !d.added.services[id.service] {
			b.DeleteDestination(id.service, ipvs.Destination{Family: id.server.Family, Addr: id.server.Addr, Port: id.server.Port})
		}
	}
	for k := range d.added.services {
		b.DeleteService(k)
	}
	results, err := b.Send()
	for _, r := range results {
		if r != nil && !errors.Is(r, ipvs.ErrServiceNotFound) && !errors.Is(r, ipvs.ErrDestinationNotFound) {
			err = errors.Join(err, r)
		}
	}
	return errors.Join(err, d.via.remove())
}
