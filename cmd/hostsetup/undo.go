package hostsetup

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/lvsadm/lvsadm/sysctl"
)

// failUp undoes what a failed up made from index from on. What cannot be
// undone stays recorded, and the error names it.
func (r *runner) failUp(j *journal, e *entry, fresh bool, from int, cause error, h *host, n network) error {
	role := e.Role
	if err := h.refresh(n); err == nil {
		settle(e, h) // the failed step: made or not
	} else {
		r.warnf("cannot read the links and addresses to check the failed step: %v", err)
	}
	made := len(e.Changes) - from
	failed, _, err := r.undoChanges(j, e, from, others(j.state, e), h, n, nil)
	if fresh && len(e.Changes) == 0 {
		j.state.remove(role)
	}
	if serr := j.save(); serr != nil && err == nil {
		err = serr
	}
	switch {
	case err == nil && len(failed) == 0 && made == 0:
		return fmt.Errorf("%s up failed, nothing was changed: %w", role, cause)
	case err == nil && len(failed) == 0:
		return fmt.Errorf("%s up failed, changes undone: %w", role, cause)
	case err != nil:
		return fmt.Errorf("%s up failed: %w; undoing its changes failed too (%v): what is recorded in %s stays; "+
			"'lvsadm %s status' shows it, 'lvsadm %s down' undoes it", role, cause, err, j.st.path(), role, role)
	}
	return fmt.Errorf("%s up failed: %w; undoing failed for %d change(s), which stay in place and recorded in %s: %s; "+
		"fix the cause, then run 'lvsadm %s down'", role, cause, len(failed), j.st.path(), describeLeft(failed), role)
}

// others lists the entries besides e.
func others(s *state, e *entry) []*entry {
	var out []*entry
	for _, o := range s.Entries {
		if o != e {
			out = append(out, o)
		}
	}
	return out
}

type downOptions struct {
	dryRun  bool
	persist bool
}

// down undoes what up recorded for role, newest change first, saving after
// each, and forgets the role. SIGINT and SIGTERM stop it after the change
// under way.
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
	var sig *signals
	if !o.dryRun {
		sig = r.watchSignals()
		defer sig.stop()
	}
	j := &journal{st: st, state: state, dry: o.dryRun}
	settle(e, h)
	failed, stopped, err := r.undoChanges(j, e, 0, others(state, e), h, n, sig)
	if err != nil {
		return err
	}
	if o.dryRun {
		return nil
	}
	if len(e.Changes) == 0 {
		state.remove(role)
	}
	if err := j.save(); err != nil {
		return err
	}
	if stopped != nil && len(e.Changes) > 0 {
		return &ExitError{Code: signalStatus(stopped), Err: fmt.Errorf("%s down: stopped by %s; %d change(s) not yet undone stay recorded in %s: "+
			"run 'lvsadm %s down' again to finish", role, signalName(stopped), len(e.Changes), st.path(), role)}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s down: %d change(s) could not be undone and stay recorded in %s: %s; "+
			"fix the cause and run 'lvsadm %s down' again", role, len(failed), st.path(), describeLeft(failed), role)
	}
	r.printf("%s: down\n", role)
	if o.persist {
		return r.unpersist(role, false)
	}
	return r.notePersisted(role)
}

// undoChanges undoes e.Changes[from:], newest first. Each change undone is
// dropped from e and the state saved at once; a change that cannot be
// undone stays, with a warning, and is returned. A signal stops it between
// changes. err is a failure to save the state, which stops it too.
func (r *runner) undoChanges(j *journal, e *entry, from int, others []*entry, h *host, n network, sig *signals) (failed []change, stopped os.Signal, err error) {
	for i := len(e.Changes) - 1; i >= from; i-- {
		if s := sig.received(); s != nil {
			return failed, s, nil
		}
		c := e.Changes[i]
		if err := r.undo(j, e, i, others, h, n); err != nil {
			r.warnf("%v", err)
			failed = append([]change{e.Changes[i]}, failed...)
			if err := j.save(); err != nil {
				return failed, nil, err
			}
			continue
		}
		e.Changes = slices.Delete(e.Changes, i, i+1)
		if err := j.save(); err != nil {
			return failed, nil, err
		}
		r.step("undone: " + c.what())
	}
	return failed, nil, nil
}

// undo reverses the change at i of e, but only where the system still shows
// what lvsadm did; anything changed since by someone else is left as it is.
func (r *runner) undo(j *journal, e *entry, i int, others []*entry, h *host, n network) error {
	c := e.Changes[i]
	switch c.Kind {
	case changeSysctl:
		return r.undoSysctl(j, &e.Changes[i], others, h)
	case changeAddress:
		p, err := netip.ParsePrefix(c.Address)
		if err != nil {
			return err
		}
		return r.deleteAddress(Address{Prefix: p, Link: c.Link, Label: c.Label}, h, n, j.dry)
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
		if j.dry {
			return nil
		}
		if err := n.SetLinkUp(l, false); err != nil {
			return err
		}
		r.step("made: link " + c.Link + " down")
		return h.refresh(n)
	case changeLinkCreate:
		l, ok := h.link(c.Link)
		if !ok {
			r.printf("link %s is already gone\n", c.Link)
			return nil
		}
		r.printf("ip link del %s\n", c.Link)
		if j.dry {
			return nil
		}
		if err := n.DeleteLink(l); err != nil {
			return err
		}
		r.step("made: link " + c.Link + " deleted")
		return h.refresh(n)
	}
	return fmt.Errorf("unknown change kind %q", c.Kind)
}

// deleteAddress removes a if it is on its link as given; an address changed
// since (other prefix or label) is left with a warning.
func (r *runner) deleteAddress(a Address, h *host, n network, dryRun bool) error {
	for _, have := range h.addressesOf(a.Prefix.Addr()) {
		if have.Link != a.Link {
			continue
		}
		if have.Prefix.Bits() != a.Prefix.Bits() || have.Label != a.Label {
			r.warnf("%s is now %s, not the %s lvsadm added; left as it is", a.Prefix.Addr(), have, a)
			return nil
		}
		r.printf("ip address del %s\n", a)
		if dryRun {
			return nil
		}
		l, _ := h.link(a.Link)
		if err := n.DeleteAddress(a, l); err != nil {
			return err
		}
		r.step("made: address " + a.String() + " deleted")
		return h.refresh(n)
	}
	r.printf("address %s is already gone\n", a)
	return nil
}

// undoSysctl puts c.Key back to c.Before if it still holds what lvsadm
// wrote, or hands the record to another role that relies on the value. The
// side effects are decided and recorded (status undoing) before the
// restoring write, so that a down stopped after it can still finish them.
func (r *runner) undoSysctl(j *journal, c *change, others []*entry, h *host) error {
	sys := h.sys
	cur, err := sys.Read(c.Key)
	if errors.Is(err, os.ErrNotExist) {
		r.printf("%s is gone (interface removed?); nothing to restore\n", r.path(c.Key))
		return nil
	}
	if err != nil {
		return err
	}
	if c.Status == statusUndoing {
		// An earlier down was stopped while putting this key back.
		switch cur {
		case c.After:
			return r.restoreSysctl(j, c, sys, nil)
		case c.Before:
			return r.restoreSideEffects(c, sys, nil, nil)
		}
		r.warnf("%s is %s, neither the %s lvsadm wrote nor the %s it restores: someone else changed it, so it stays %s",
			r.path(c.Key), cur, c.After, c.Before, cur)
		return nil
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
			o.Changes = append([]change{*c}, o.Changes...)
			return nil
		}
	}
	if j.dry {
		r.printf("write %s: %s -> %s\n", r.path(c.Key), cur, c.Before)
		return nil
	}
	candidates, err := r.affected(c, sys)
	if err != nil {
		return err
	}
	pre := snapshot(sys, candidates)
	for x := range c.Effects {
		ef := &c.Effects[x]
		v, ok := pre[ef.Key]
		if !ok || v == ef.After {
			continue
		}
		r.warnf("%s is %s, not the %s it had after lvsadm's write: someone else changed it, so it stays %s",
			r.path(ef.Key), v, ef.After, v)
		ef.Before = v
	}
	c.Status = statusUndoing
	if err := j.save(); err != nil {
		return err
	}
	r.step("undo recorded: " + c.what())
	return r.restoreSysctl(j, c, sys, pre)
}

// affected lists the keys the restoring write of c may change: the kernel's
// candidates now and the side effects recorded by up.
func (r *runner) affected(c *change, sys procSys) ([]sysctl.Key, error) {
	keys, err := sys.MayAffect(c.Key)
	if err != nil {
		return nil, err
	}
	for _, ef := range c.Effects {
		if !slices.Contains(keys, ef.Key) {
			keys = append(keys, ef.Key)
		}
	}
	return keys, nil
}

// restoreSysctl writes c.Before and repairs the side effects. pre holds the
// values before the write (nil when resuming a stopped down).
func (r *runner) restoreSysctl(j *journal, c *change, sys procSys, pre map[sysctl.Key]string) error {
	candidates, err := r.affected(c, sys)
	if err != nil {
		return err
	}
	if pre == nil {
		pre = snapshot(sys, candidates)
	}
	if err := sys.Write(c.Key, c.Before); err != nil {
		return err
	}
	r.printf("write %s: %s -> %s\n", r.path(c.Key), c.After, c.Before)
	r.step("made: sysctl " + string(c.Key) + " restored")
	return r.restoreSideEffects(c, sys, candidates, pre)
}

// restoreSideEffects puts each recorded side effect back to its Before where
// the restoring write of c.Key left it otherwise; keys up never saw (an
// interface created since) keep the kernel's reset and are only reported.
func (r *runner) restoreSideEffects(c *change, sys procSys, candidates []sysctl.Key, pre map[sysctl.Key]string) error {
	if candidates == nil {
		var err error
		if candidates, err = r.affected(c, sys); err != nil {
			return err
		}
	}
	post := snapshot(sys, candidates)
	for _, k := range candidates {
		now, ok := post[k]
		if !ok {
			continue
		}
		before, seen := pre[k]
		x := slices.IndexFunc(c.Effects, func(ef effect) bool { return ef.Key == k })
		if x < 0 || now == c.Effects[x].Before {
			if seen && now != before {
				r.printf("  kernel side effect: %s: %s -> %s\n", r.path(k), before, now)
			}
			continue
		}
		target := c.Effects[x].Before
		if err := sys.Write(k, target); err != nil {
			return err
		}
		why := "the kernel changed it while restoring " + string(c.Key)
		if seen && now == before {
			why = "changed when lvsadm wrote " + string(c.Key) + ", and not changed back by restoring it"
		}
		r.printf("  write %s: %s -> %s (%s)\n", r.path(k), now, target, why)
	}
	return nil
}
