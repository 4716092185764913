package hostsetup

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

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
	lockTimeout time.Duration
	// root is prefixed to /etc and /run/systemd for --persist.
	root string
}

func defaultEnv() env {
	return env{
		sys:         sysctl.New(sysctl.DefaultRoot),
		dialNet:     dialNetwork,
		announcer:   packetAnnouncer{repeat: 3, sleep: func() { time.Sleep(100 * time.Millisecond) }},
		stateDir:    DefaultStateDir,
		netns:       currentNetNS,
		now:         time.Now,
		lockTimeout: 10 * time.Second,
		root:        "/",
	}
}

// runner carries out one command.
type runner struct {
	env  env
	out  io.Writer // what is done, tables
	errw io.Writer // warnings
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
	return store{dir: r.env.stateDir, ns: id, lockTimeout: r.env.lockTimeout}, nil
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
	s, err := st.load()
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

// up applies role with s, recording each change before the next one is made.
func (r *runner) up(role string, s settings, o upOptions) error {
	st, state, release, err := r.begin(o.dryRun)
	if err != nil {
		return err
	}
	defer release()
	e := state.entry(role)
	if e != nil && !sameSettings(e.Settings, s) {
		return usagef("%s is already up here with other settings (%s); run 'lvsadm %s down' first",
			role, describe(role, e.Settings), role)
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

	fresh := e == nil
	if fresh {
		e = &entry{Role: role, Settings: s, Since: r.env.now().UTC()}
		state.Entries = append(state.Entries, e)
	}
	e.Wants = wantsOf(acts)
	before := len(e.Changes)
	changed := 0
	for _, a := range acts {
		c, err := r.apply(a, h, n)
		if err != nil {
			if c != nil { // made, but a later step of the same action failed
				e.record(*c)
			}
			r.rollback(e, before, h, n)
			if fresh && len(e.Changes) == 0 {
				state.remove(role)
			}
			if serr := st.save(state); serr != nil {
				r.warnf("could not save state: %v", serr)
			}
			return fmt.Errorf("%s up failed, changes undone: %w", role, err)
		}
		if c == nil {
			continue
		}
		changed++
		e.record(*c)
		// Saved after every change: if lvsadm dies here, down still knows.
		if err := st.save(state); err != nil {
			return fmt.Errorf("save state (the last change stays): %w", err)
		}
	}
	if err := st.save(state); err != nil {
		return fmt.Errorf("save state: %w", err)
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
	if len(parts) == 0 {
		return "no options"
	}
	return strings.Join(parts, " ")
}

// record adds c to the entry. A key or address already recorded (up again
// after someone changed it) keeps its first Before: that is what down must
// return to.
func (e *entry) record(c change) {
	for i := range e.Changes {
		old := &e.Changes[i]
		if old.Kind != c.Kind || old.Key != c.Key || old.Address != c.Address || old.Link != c.Link {
			continue
		}
		old.After = c.After
		for _, ef := range c.Effects {
			if !slices.ContainsFunc(old.Effects, func(o effect) bool { return o.Key == ef.Key }) {
				old.Effects = append(old.Effects, ef)
			}
		}
		return
	}
	e.Changes = append(e.Changes, c)
}

// apply carries out one action and returns the change made, or nil if
// nothing needed changing.
func (r *runner) apply(a action, h *host, n network) (*change, error) {
	switch a.kind {
	case actSysctl:
		cur, err := h.sys.Read(a.key)
		if err != nil {
			return nil, err
		}
		if slices.Contains(a.accept, cur) {
			r.printf("keep %s = %s\n", r.path(a.key), cur)
			return nil, nil
		}
		c, err := r.write(h.sys, a.key, cur, a.target)
		return c, err
	case actTunnel:
		if _, ok := h.link(a.link); ok {
			r.printf("keep link %s\n", a.link)
			return nil, nil
		}
		created, err := n.AddIPIPTunnel(a.link)
		if err != nil {
			return nil, err
		}
		if err := h.refresh(n); err != nil {
			return nil, err
		}
		if _, ok := h.link(a.link); !ok {
			return nil, fmt.Errorf("link %s did not appear after loading ipip", a.link)
		}
		if !created {
			r.printf("ip link add %s type ipip: the ipip module is now loaded and created %s\n", a.link, a.link)
			return nil, nil
		}
		r.printf("ip link add %s type ipip\n", a.link)
		return &change{Kind: changeLinkCreate, Link: a.link}, nil
	case actLinkUp:
		l, ok := h.link(a.link)
		if !ok {
			return nil, fmt.Errorf("interface %s does not exist", a.link)
		}
		if l.Up {
			r.printf("keep link %s up\n", a.link)
			return nil, nil
		}
		if err := n.SetLinkUp(l, true); err != nil {
			return nil, err
		}
		r.printf("ip link set %s up\n", a.link)
		return &change{Kind: changeLinkUp, Link: a.link}, h.refresh(n)
	case actAddress:
		return r.addAddress(a.addr, a.announce, h, n)
	}
	return nil, fmt.Errorf("unknown action %d", a.kind)
}

// write sets k from cur to value and records every key the kernel changed
// with it. All candidate keys are recorded, changed or not, so that down can
// also put back the ones its own restoring write would disturb.
func (r *runner) write(sys procSys, k sysctl.Key, cur, value string) (*change, error) {
	candidates, err := sys.MayAffect(k)
	if err != nil {
		return nil, err
	}
	pre := snapshot(sys, candidates)
	if err := sys.Write(k, value); err != nil {
		return nil, err
	}
	after, err := sys.Read(k)
	if err != nil {
		return nil, err
	}
	r.printf("write %s: %s -> %s\n", r.path(k), cur, after)
	c := &change{Kind: changeSysctl, Key: k, Before: cur, After: after}
	post := snapshot(sys, candidates)
	for _, ck := range candidates {
		b, ok1 := pre[ck]
		a, ok2 := post[ck]
		if !ok1 || !ok2 {
			continue
		}
		if a != b {
			r.printf("  kernel side effect: %s: %s -> %s\n", r.path(ck), b, a)
		}
		c.Effects = append(c.Effects, effect{Key: ck, Before: b, After: a})
	}
	return c, nil
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

func (r *runner) addAddress(a Address, announce bool, h *host, n network) (*change, error) {
	for _, have := range h.addressesOf(a.Prefix.Addr()) {
		if have.Link == a.Link && have.Prefix.Bits() == a.Prefix.Bits() && have.Label == a.Label {
			r.printf("keep address %s\n", a)
			return nil, nil
		}
	}
	if err := checkAddress(a, h, false); err != nil {
		return nil, err
	}
	l, _ := h.link(a.Link)
	if err := n.AddAddress(a, l); err != nil {
		return nil, err
	}
	r.printf("ip address add %s\n", a)
	c := &change{Kind: changeAddress, Address: a.Prefix.String(), Link: a.Link, Label: a.Label}
	if err := h.refresh(n); err != nil {
		return c, err
	}
	if announce {
		r.announce(l, a.Prefix.Addr(), h)
	}
	return c, nil
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

// rollback undoes the changes an up made from index from on.
func (r *runner) rollback(e *entry, from int, h *host, n network) {
	made := e.Changes[from:]
	for i := len(made) - 1; i >= 0; i-- {
		if err := r.undo(made[i], nil, h, n, false); err != nil {
			r.warnf("while undoing: %v", err)
		}
	}
	e.Changes = e.Changes[:from]
}

type downOptions struct {
	dryRun  bool
	persist bool
}

// down undoes what up recorded for role, newest change first, and forgets
// the role.
func (r *runner) down(role string, o downOptions) error {
	st, state, release, err := r.begin(o.dryRun)
	if err != nil {
		return err
	}
	defer release()
	e := state.entry(role)
	if e == nil {
		r.printf("%s: nothing to undo: no 'lvsadm %s up' is recorded in this network namespace (%s)\n",
			role, role, st.path())
		if o.persist {
			return r.unpersist(role, o.dryRun)
		}
		return r.notePersisted(role)
	}
	if o.dryRun {
		r.printf("# dry run: nothing is changed\n")
	}
	h, n, err := r.openHost()
	if err != nil {
		return err
	}
	defer n.Close()
	var others []*entry
	for _, o := range state.Entries {
		if o != e {
			others = append(others, o)
		}
	}
	var failed []change // kept, so that down can be run again
	var firstErr error
	for i := len(e.Changes) - 1; i >= 0; i-- {
		if err := r.undo(e.Changes[i], others, h, n, o.dryRun); err != nil {
			r.warnf("%v", err)
			failed = append([]change{e.Changes[i]}, failed...)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if o.dryRun {
		return nil
	}
	if len(failed) > 0 {
		e.Changes = failed
	} else {
		state.remove(role)
	}
	if err := st.save(state); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if firstErr != nil {
		return fmt.Errorf("%s down: %d change(s) could not be undone and stay recorded; "+
			"fix the cause and run 'lvsadm %s down' again: %w", role, len(failed), role, firstErr)
	}
	r.printf("%s: down\n", role)
	if o.persist {
		return r.unpersist(role, false)
	}
	return r.notePersisted(role)
}

// undo reverses one change, but only where the system still shows what
// lvsadm did; anything changed since by someone else is left as it is.
func (r *runner) undo(c change, others []*entry, h *host, n network, dryRun bool) error {
	switch c.Kind {
	case changeSysctl:
		return r.undoSysctl(c, others, h, dryRun)
	case changeAddress:
		p, err := netip.ParsePrefix(c.Address)
		if err != nil {
			return err
		}
		a := Address{Prefix: p, Link: c.Link, Label: c.Label}
		for _, have := range h.addressesOf(p.Addr()) {
			if have.Link != c.Link {
				continue
			}
			if have.Prefix.Bits() != p.Bits() || have.Label != c.Label {
				r.warnf("%s is now %s, not the %s lvsadm added; left as it is", p.Addr(), have, a)
				return nil
			}
			r.printf("ip address del %s\n", a)
			if dryRun {
				return nil
			}
			l, _ := h.link(c.Link)
			if err := n.DeleteAddress(a, l); err != nil {
				return err
			}
			return h.refresh(n)
		}
		r.printf("address %s is already gone\n", a)
		return nil
	case changeLinkUp:
		l, ok := h.link(c.Link)
		switch {
		case !ok:
			r.printf("link %s is gone\n", c.Link)
			return nil
		case !l.Up:
			r.printf("link %s is already down\n", c.Link)
			return nil
		}
		r.printf("ip link set %s down\n", c.Link)
		if dryRun {
			return nil
		}
		if err := n.SetLinkUp(l, false); err != nil {
			return err
		}
		return h.refresh(n)
	case changeLinkCreate:
		l, ok := h.link(c.Link)
		if !ok {
			r.printf("link %s is already gone\n", c.Link)
			return nil
		}
		r.printf("ip link del %s\n", c.Link)
		if dryRun {
			return nil
		}
		if err := n.DeleteLink(l); err != nil {
			return err
		}
		return h.refresh(n)
	}
	return fmt.Errorf("unknown change kind %q", c.Kind)
}

func (r *runner) undoSysctl(c change, others []*entry, h *host, dryRun bool) error {
	sys := h.sys
	cur, err := sys.Read(c.Key)
	if errors.Is(err, os.ErrNotExist) {
		r.printf("%s is gone (interface removed?); nothing to restore\n", r.path(c.Key))
		return nil
	}
	if err != nil {
		return err
	}
	if cur != c.After {
		r.warnf("%s is %s, not the %s lvsadm wrote: someone else changed it, so it stays %s",
			r.path(c.Key), cur, c.After, cur)
		return nil
	}
	if cur == c.Before {
		return nil
	}
	for _, o := range others {
		if slices.ContainsFunc(o.Wants, func(w want) bool { return w.Key == c.Key && slices.Contains(w.Accept, cur) }) {
			r.printf("keep %s = %s: %s relies on it ('lvsadm %s down' will restore %s)\n",
				r.path(c.Key), cur, o.Role, o.Role, c.Before)
			if !dryRun {
				o.Changes = append([]change{c}, o.Changes...)
			}
			return nil
		}
	}
	if dryRun {
		r.printf("write %s: %s -> %s\n", r.path(c.Key), cur, c.Before)
		return nil
	}
	candidates, err := sys.MayAffect(c.Key)
	if err != nil {
		return err
	}
	recorded := map[sysctl.Key]effect{}
	for _, ef := range c.Effects {
		recorded[ef.Key] = ef
		if !slices.Contains(candidates, ef.Key) {
			candidates = append(candidates, ef.Key)
		}
	}
	pre := snapshot(sys, candidates)
	if err := sys.Write(c.Key, c.Before); err != nil {
		return err
	}
	r.printf("write %s: %s -> %s\n", r.path(c.Key), cur, c.Before)
	post := snapshot(sys, candidates)
	for _, k := range candidates {
		before, ok1 := pre[k]
		now, ok2 := post[k]
		if !ok1 || !ok2 {
			continue
		}
		target := now
		if ef, ok := recorded[k]; ok {
			if before == ef.After {
				target = ef.Before
			} else {
				r.warnf("%s is %s, not the %s it had after lvsadm's write: someone else changed it, so it stays %s",
					r.path(k), before, ef.After, before)
				target = before
			}
		} else if now != before {
			// A key up never saw (an interface created since): the kernel's
			// reset is the right value for it.
			r.printf("  kernel side effect: %s: %s -> %s\n", r.path(k), before, now)
		}
		if now == target {
			if now != before && recorded[k].Key != "" {
				r.printf("  kernel side effect: %s: %s -> %s\n", r.path(k), before, now)
			}
			continue
		}
		if err := sys.Write(k, target); err != nil {
			return err
		}
		r.printf("  write %s: %s -> %s (the kernel changed it while restoring %s)\n", r.path(k), now, target, c.Key)
	}
	return nil
}
