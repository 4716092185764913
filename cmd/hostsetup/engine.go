package hostsetup

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lvsadm/lvsadm/cmd/internal/netnsid"
	"github.com/lvsadm/lvsadm/sysctl"
)

// env is everything the commands touch outside the process. Commands uses
// the real one; tests replace each part.
type env struct {
	sys         procSys
	dialNet     func() (network, error)
	announcer   announcer
	stateDir    string
	netns       func() (netnsID, error)
	now         func() time.Time
	euid        func() int
	lockTimeout time.Duration
	// root is prefixed to /etc and /run/systemd for --persist.
	root string
	// step, if set, is called at every point between recording an
	// intent, acting on it and recording the outcome (fault injection).
	step func(point string)
	// signals subscribes to SIGINT and SIGTERM for the time of an up or
	// down; the function returned unsubscribes.
	signals func() (<-chan os.Signal, func())
}

func defaultEnv() env {
	return env{
		sys:         sysctl.New(sysctl.DefaultRoot),
		dialNet:     dialNetwork,
		announcer:   packetAnnouncer{repeat: 3, sleep: func() { time.Sleep(100 * time.Millisecond) }},
		stateDir:    DefaultStateDir,
		netns:       netnsid.Current,
		now:         time.Now,
		euid:        os.Geteuid,
		lockTimeout: 10 * time.Second,
		root:        "/",
		signals:     notifySignals,
	}
}

// runner carries out one command.
type runner struct {
	env  env
	out  io.Writer // what is done, tables
	errw io.Writer // warnings
}

func (r *runner) step(point string) {
	if r.env.step != nil {
		r.env.step(point)
	}
}

func (r *runner) printf(format string, args ...any) {
	fmt.Fprintf(r.out, format, args...)
}

func (r *runner) warnf(format string, args ...any) {
	fmt.Fprintf(r.errw, "lvsadm: warning: "+format+"\n", args...)
}

// openHost dials rtnetlink and reads the links and addresses; the caller
// closes the network.
func (r *runner) openHost() (*host, network, error) {
	n, err := r.env.dialNet()
	if err != nil {
		return nil, nil, err
	}
	h, err := observe(r.env.sys, n)
	if err != nil {
		n.Close()
		return nil, nil, err
	}
	return h, n, nil
}

// path shows a key as the file written, so that output names exactly what
// changes.
func (r *runner) path(k sysctl.Key) string {
	p, err := r.env.sys.Path(k)
	if err != nil {
		return string(k)
	}
	return p
}

func (r *runner) store() (store, error) {
	id, err := r.env.netns()
	if err != nil {
		return store{}, err
	}
	return store{dir: r.env.stateDir, ns: id, lockTimeout: r.env.lockTimeout,
		owner: r.env.euid(), now: r.env.now, warn: r.warnf}, nil
}

// begin locks the namespace's state (unless dryRun, which changes nothing
// and must work without the rights to create the lock) and loads it.
func (r *runner) begin(dryRun bool) (store, *state, func(), error) {
	st, err := r.store()
	if err != nil {
		return store{}, nil, nil, err
	}
	release := func() {}
	if !dryRun {
		if release, err = st.lock(); err != nil {
			return store{}, nil, nil, err
		}
	}
	s, err := st.load(!dryRun)
	if err != nil {
		release()
		return store{}, nil, nil, err
	}
	return st, s, release, nil
}

type upOptions struct {
	dryRun  bool
	persist bool
}

// up applies role with s. Each change is recorded as intended before it is
// made and as made right after, so that down can undo whatever a kill
// leaves; SIGINT and SIGTERM stop it after the step under way.
func (r *runner) up(role string, s settings, o upOptions) error {
	st, state, release, err := r.begin(o.dryRun)
	if err != nil {
		return err
	}
	defer release()
	e := state.entry(role)
	if e != nil && !sameSettings(e.Settings, s) {
		return usagef("already up here with other settings (%s); run 'lvsadm %s down' first",
			describe(role, e.Settings), role)
	}
	h, n, err := r.openHost()
	if err != nil {
		return err
	}
	defer n.Close()
	acts, err := plan(role, s, h)
	if err != nil {
		return err
	}
	if o.dryRun {
		r.printf("# dry run: nothing is changed\n")
		if err := r.dryRun(acts, h); err != nil {
			return err
		}
		if o.persist {
			return r.persist(role, s, acts, h, true)
		}
		return nil
	}

	sig := r.watchSignals()
	defer sig.stop()
	j := &journal{st: st, state: state}
	fresh := e == nil
	if fresh {
		e = &entry{Role: role, Settings: s, Since: r.env.now().UTC()}
		state.Entries = append(state.Entries, e)
	} else {
		settle(e, h) // an earlier up or down was stopped part way
	}
	e.Wants = wantsOf(acts)
	from := len(e.Changes)
	changed := 0
	for _, a := range acts {
		if sig.received() != nil {
			break
		}
		made, err := r.apply(j, e, a, h, n)
		if err != nil {
			return r.failUp(j, e, fresh, from, err, h, n)
		}
		if made {
			changed++
		}
	}
	if fresh && len(e.Changes) == 0 && sig.received() != nil {
		state.remove(role)
	}
	if err := j.save(); err != nil {
		return err
	}
	if s := sig.received(); s != nil {
		if len(e.Changes) == 0 {
			return &ExitError{Code: signalStatus(s), Err: fmt.Errorf("%s up: stopped by %s before changing anything", role, signalName(s))}
		}
		return &ExitError{Code: signalStatus(s), Err: fmt.Errorf("%s up: stopped by %s; the %d change(s) made so far are recorded in %s: "+
			"'lvsadm %s down' undoes them, 'lvsadm %s up' completes the setup", role, signalName(s), len(e.Changes), st.path(), role, role)}
	}
	if changed == 0 {
		r.printf("%s: up; nothing needed changing\n", role)
	} else {
		r.printf("%s: up; %d change(s) recorded in %s\n", role, changed, st.path())
	}
	if o.persist {
		return r.persist(role, s, acts, h, false)
	}
	return nil
}

func sameSettings(a, b settings) bool {
	return a.Mode == b.Mode && slices.Equal(a.VIPs, b.VIPs) && a.Iface == b.Iface && a.Label == b.Label &&
		slices.Equal(a.Ifaces, b.Ifaces) && a.ARPScope == b.ARPScope && a.RPFilter == b.RPFilter &&
		a.IPv6 == b.IPv6 && a.NoAnnounce == b.NoAnnounce
}

// describe renders settings as the flags that produced them.
func describe(role string, s settings) string {
	if parts := flagWords(role, s); len(parts) > 0 {
		return strings.Join(parts, " ")
	}
	return "no options"
}

// flagWords are the flags that produce settings s of role.
func flagWords(role string, s settings) []string {
	var parts []string
	add := func(flag, v string) {
		if v != "" {
			parts = append(parts, "--"+flag+" "+v)
		}
	}
	add("mode", s.Mode)
	for _, v := range s.VIPs {
		add("vip", v)
	}
	add("iface", s.Iface)
	add("label", s.Label)
	ifaceFlag := "iface"
	if role == roleDirector {
		ifaceFlag = "rs-iface"
	}
	for _, v := range s.Ifaces {
		add(ifaceFlag, v)
	}
	add("arp-scope", s.ARPScope)
	add("rp-filter", s.RPFilter)
	if s.IPv6 {
		parts = append(parts, "--ipv6")
	}
	if s.NoAnnounce {
		parts = append(parts, "--no-announce")
	}
	return parts
}

// apply carries out one action, recorded in e through j, and reports
// whether it changed anything.
func (r *runner) apply(j *journal, e *entry, a action, h *host, n network) (bool, error) {
	switch a.kind {
	case actSysctl:
		return r.applySysctl(j, e, a, h)
	case actTunnel:
		if _, ok := h.link(a.link); ok {
			r.printf("keep link %s\n", a.link)
			return false, nil
		}
		i, err := r.intend(j, e, change{Kind: changeLinkCreate, Link: a.link})
		if err != nil {
			return false, err
		}
		created, err := n.AddIPIPTunnel(a.link)
		if err != nil {
			return false, err
		}
		r.step("made: link " + a.link + " created")
		if err := h.refresh(n); err != nil {
			return false, err
		}
		if _, ok := h.link(a.link); !ok {
			return false, fmt.Errorf("link %s did not appear after loading ipip", a.link)
		}
		if !created {
			r.printf("ip link add %s type ipip: the ipip module is now loaded and created %s\n", a.link, a.link)
			if j == nil {
				return false, nil
			}
			e.Changes = slices.Delete(e.Changes, i, i+1)
			return false, j.save()
		}
		r.printf("ip link add %s type ipip\n", a.link)
		return true, r.done(j, e, i)
	case actLinkUp:
		l, ok := h.link(a.link)
		if !ok {
			return false, fmt.Errorf("interface %s does not exist", a.link)
		}
		if l.Up {
			r.printf("keep link %s up\n", a.link)
			return false, nil
		}
		i, err := r.intend(j, e, change{Kind: changeLinkUp, Link: a.link})
		if err != nil {
			return false, err
		}
		if err := n.SetLinkUp(l, true); err != nil {
			return false, err
		}
		r.step("made: link " + a.link + " up")
		r.printf("ip link set %s up\n", a.link)
		if err := r.done(j, e, i); err != nil {
			return true, err
		}
		return true, h.refresh(n)
	case actAddress:
		return r.addAddress(j, e, a.addr, a.announce, h, n)
	}
	return false, fmt.Errorf("unknown action %d", a.kind)
}

// applySysctl sets the key unless it holds an accepted value. Every key the
// kernel may change with it is read before (recorded with the intent) and
// after the write, so that down can also put back the ones its own
// restoring write would disturb.
func (r *runner) applySysctl(j *journal, e *entry, a action, h *host) (bool, error) {
	sys := h.sys
	cur, err := sys.Read(a.key)
	if err != nil {
		return false, err
	}
	if slices.Contains(a.accept, cur) {
		r.printf("keep %s = %s\n", r.path(a.key), cur)
		return false, nil
	}
	candidates, err := sys.MayAffect(a.key)
	if err != nil {
		return false, err
	}
	pre := snapshot(sys, candidates)
	c := change{Kind: changeSysctl, Key: a.key, Before: cur, After: a.target}
	for _, k := range candidates {
		if v, ok := pre[k]; ok {
			c.Effects = append(c.Effects, effect{Key: k, Before: v})
		}
	}
	i, err := r.intend(j, e, c)
	if err != nil {
		return false, err
	}
	if err := sys.Write(a.key, a.target); err != nil {
		return false, err
	}
	r.step("made: sysctl " + string(a.key))
	after, err := sys.Read(a.key)
	if err != nil {
		return false, err
	}
	r.printf("write %s: %s -> %s\n", r.path(a.key), cur, after)
	post := snapshot(sys, candidates)
	if j == nil {
		return true, nil
	}
	rec := &e.Changes[i]
	rec.After = after
	for x := range rec.Effects {
		ef := &rec.Effects[x]
		v, ok := post[ef.Key]
		if !ok {
			continue
		}
		if p, ok := pre[ef.Key]; ok && p != v {
			r.printf("  kernel side effect: %s: %s -> %s\n", r.path(ef.Key), p, v)
		}
		ef.After = v
	}
	return true, r.done(j, e, i)
}

// snapshot reads keys, skipping those that do not exist (an interface that
// went away).
func snapshot(sys procSys, keys []sysctl.Key) map[sysctl.Key]string {
	m := make(map[sysctl.Key]string, len(keys))
	for _, k := range keys {
		if v, err := sys.Read(k); err == nil {
			m[k] = v
		}
	}
	return m
}

// addAddress adds a (recorded in e through j, if given) and then announces
// it: the address is recorded before the announcement, which can take a
// while.
func (r *runner) addAddress(j *journal, e *entry, a Address, announce bool, h *host, n network) (bool, error) {
	for _, have := range h.addressesOf(a.Prefix.Addr()) {
		if have.Link == a.Link && have.Prefix.Bits() == a.Prefix.Bits() && have.Label == a.Label {
			r.printf("keep address %s\n", a)
			return false, nil
		}
	}
	if err := checkAddress(a, h, false); err != nil {
		return false, err
	}
	l, _ := h.link(a.Link)
	i, err := r.intend(j, e, change{Kind: changeAddress, Address: a.Prefix.String(), Link: a.Link, Label: a.Label})
	if err != nil {
		return false, err
	}
	if err := n.AddAddress(a, l); err != nil {
		return false, err
	}
	r.step("made: address " + a.String())
	r.printf("ip address add %s\n", a)
	if err := r.done(j, e, i); err != nil {
		return true, err
	}
	if err := h.refresh(n); err != nil {
		return true, err
	}
	if announce {
		r.announce(l, a.Prefix.Addr(), h)
		r.step("announced: " + a.String())
	}
	return true, nil
}

// announce tells the segment that ip moved here. The kernel does not do it
// for an added address (arp_notify acts only on link up and MAC changes).
// Failure is a warning: the address is in place.
func (r *runner) announce(l Link, ip netip.Addr, h *host) {
	kind := "gratuitous ARP"
	if ip.Is6() {
		kind = "unsolicited neighbour advertisement"
	}
	switch {
	case l.Loopback || l.NoARP || len(l.MAC) != 6:
		return // nothing listens for this interface's link-layer address
	case !l.Up:
		r.warnf("%s is down; no %s sent for %s", l.Name, kind, ip)
		return
	}
	router := false
	if ip.Is6() {
		fwd, err := readInt(h.sys, sysctl.Conf6Key(l.Name, sysctl.Forwarding))
		router = err == nil && fwd != 0
	}
	if err := r.env.announcer.Announce(l, ip, router); err != nil {
		r.warnf("%v", err)
		return
	}
	r.printf("announce %s on %s (%s)\n", ip, l.Name, kind)
}

// dryRun prints what up would do, from the values as they are now.
func (r *runner) dryRun(acts []action, h *host) error {
	created := map[string]bool{}
	for _, a := range acts {
		switch a.kind {
		case actSysctl:
			cur, note, err := r.predictedValue(a.key, h, created)
			if err != nil {
				return err
			}
			if slices.Contains(a.accept, cur) {
				r.printf("keep %s = %s%s\n", r.path(a.key), cur, note)
				continue
			}
			r.printf("write %s: %s -> %s%s\n", r.path(a.key), cur, a.target, note)
			changes, err := h.sys.Predict(a.key, a.target)
			if err != nil {
				return err
			}
			for _, c := range changes {
				if c.Conditional {
					_, iface, _, _ := c.Key.Conf()
					r.printf("  kernel side effect unless %s was set explicitly on %s: %s: %s -> %s\n",
						c.Key[strings.LastIndex(string(c.Key), "/")+1:], iface, r.path(c.Key), c.From, c.To)
				} else {
					r.printf("  kernel side effect: %s: %s -> %s\n", r.path(c.Key), c.From, c.To)
				}
			}
		case actTunnel:
			if _, ok := h.link(a.link); ok {
				r.printf("keep link %s\n", a.link)
				continue
			}
			created[a.link] = true
			r.printf("ip link add %s type ipip (loads the ipip module, which creates %s itself)\n", a.link, a.link)
		case actLinkUp:
			if l, ok := h.link(a.link); ok && l.Up {
				r.printf("keep link %s up\n", a.link)
				continue
			}
			r.printf("ip link set %s up\n", a.link)
		case actAddress:
			present := slices.ContainsFunc(h.addressesOf(a.addr.Prefix.Addr()), func(have Address) bool {
				return have.Link == a.addr.Link && have.Prefix.Bits() == a.addr.Prefix.Bits() && have.Label == a.addr.Label
			})
			if present {
				r.printf("keep address %s\n", a.addr)
				continue
			}
			r.printf("ip address add %s\n", a.addr)
			if l, ok := h.link(a.addr.Link); a.announce && ok && !l.Loopback && !l.NoARP && len(l.MAC) == 6 {
				r.printf("announce %s on %s\n", a.addr.Prefix.Addr(), l.Name)
			}
		}
	}
	return nil
}

// predictedValue reads k; for an interface that up would create first, it
// gives the conf/default value the interface will start with.
func (r *runner) predictedValue(k sysctl.Key, h *host, created map[string]bool) (string, string, error) {
	family, iface, knob, ok := k.Conf()
	if ok && created[iface] {
		dflt := sysctl.ConfKey(sysctl.Default, knob)
		if family == 6 {
			dflt = sysctl.Conf6Key(sysctl.Default, knob)
		}
		v, err := h.sys.Read(dflt)
		return v, fmt.Sprintf(" (%s does not exist yet; it will start from conf/default)", iface), err
	}
	v, err := h.sys.Read(k)
	return v, "", err
}
