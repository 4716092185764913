package hostsetup

import (
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// Change statuses besides the empty one (made and recorded). Every change
// is saved as pending before it is made and saved again once it is, so a
// kill at any point leaves a record that down can settle: a pending change
// is undone if the system shows it, forgotten if not.
const (
	// statusPending: the intent is recorded; the change may or may not
	// have been made. Before and the side effects' Before are the values
	// read before; After is the value lvsadm meant to write.
	statusPending = "pending"
	// statusUndoing: down has started to put a sysctl back. The side
	// effects' Before are now the values to leave them at.
	statusUndoing = "undoing"
)

// journal is a namespace's state during up or down, saved after every step.
// A nil journal records nothing (vip add); a dry one saves nothing.
type journal struct {
	st    store
	state *state
	dry   bool
}

func (j *journal) save() error {
	if j == nil || j.dry {
		return nil
	}
	if err := j.st.save(j.state); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// intend records c in e as pending and saves it before the change is made,
// returning its index.
func (r *runner) intend(j *journal, e *entry, c change) (int, error) {
	if j == nil {
		return -1, nil
	}
	c.Status = statusPending
	i := e.record(c)
	if err := j.save(); err != nil {
		return i, err
	}
	r.step("intent recorded: " + c.what())
	return i, nil
}

// done records that the change at i is made.
func (r *runner) done(j *journal, e *entry, i int) error {
	if j == nil {
		return nil
	}
	e.Changes[i].Status = ""
	if err := j.save(); err != nil {
		return err
	}
	r.step("outcome recorded: " + e.Changes[i].what())
	return nil
}

// record adds c to the entry and returns its index. A key or address
// already recorded (up again after someone changed it) keeps its first
// Before and side-effect Befores: that is what down must return to.
func (e *entry) record(c change) int {
	for i := range e.Changes {
		old := &e.Changes[i]
		if old.Kind != c.Kind || old.Key != c.Key || old.Address != c.Address || old.Link != c.Link {
			continue
		}
		old.Status, old.After = c.Status, c.After
		for _, ef := range c.Effects {
			if !slices.ContainsFunc(old.Effects, func(o effect) bool { return o.Key == ef.Key }) {
				old.Effects = append(old.Effects, ef)
			}
		}
		return i
	}
	e.Changes = append(e.Changes, c)
	return len(e.Changes) - 1
}

// what names a change in messages and fault points.
func (c change) what() string {
	switch c.Kind {
	case changeSysctl:
		return "sysctl " + string(c.Key)
	case changeAddress:
		a := "address " + c.Address + " dev " + c.Link
		if c.Label != "" {
			a += " label " + c.Label
		}
		return a
	case changeLinkUp:
		return "link " + c.Link + " up"
	case changeLinkCreate:
		return "link " + c.Link + " created"
	}
	return c.Kind
}

// describeLeft says what stays in place: each key with the value lvsadm
// wrote and the one it would restore, each address and link.
func describeLeft(cs []change) string {
	var parts []string
	for _, c := range cs {
		if c.Kind == changeSysctl {
			parts = append(parts, fmt.Sprintf("%s (%s, was %s)", c.Key, c.After, c.Before))
		} else {
			parts = append(parts, c.what())
		}
	}
	return strings.Join(parts, "; ")
}

// settle decides the pending changes of e from what the system shows: made
// ones become ordinary records (side effects take the values they have
// now), the others are forgotten. Nothing is written or saved.
func settle(e *entry, h *host) {
	kept := e.Changes[:0]
	for _, c := range e.Changes {
		if c.Status != statusPending {
			kept = append(kept, c)
			continue
		}
		made := false
		switch c.Kind {
		case changeSysctl:
			if cur, err := h.sys.Read(c.Key); err == nil && cur == c.After {
				made = true
				for i := range c.Effects {
					if v, err := h.sys.Read(c.Effects[i].Key); err == nil {
						c.Effects[i].After = v
					}
				}
			}
		case changeAddress:
			made = slices.ContainsFunc(h.addrs, func(a Address) bool {
				return a.Prefix.String() == c.Address && a.Link == c.Link && a.Label == c.Label
			})
		case changeLinkUp:
			l, ok := h.link(c.Link)
			made = ok && l.Up
		case changeLinkCreate:
			_, made = h.link(c.Link)
		}
		if made {
			c.Status = ""
			kept = append(kept, c)
		}
	}
	e.Changes = kept
}

// unconfirmed counts the changes an interrupted run left pending or half
// undone.
func (e *entry) unconfirmed() int {
	n := 0
	for _, c := range e.Changes {
		if c.Status != "" {
			n++
		}
	}
	return n
}

// signals watches for SIGINT and SIGTERM during an up or down, which then
// stops after the step under way, recorded.
type signals struct {
	ch   <-chan os.Signal
	stop func()
	got  os.Signal
}

func notifySignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	return ch, func() { signal.Stop(ch) }
}

func (r *runner) watchSignals() *signals {
	if r.env.signals == nil {
		return &signals{stop: func() {}}
	}
	ch, stop := r.env.signals()
	return &signals{ch: ch, stop: stop}
}

// received returns the signal that arrived, if any.
func (s *signals) received() os.Signal {
	if s == nil {
		return nil
	}
	if s.got == nil && s.ch != nil {
		select {
		case v := <-s.ch:
			s.got = v
		default:
		}
	}
	return s.got
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// signalStatus is the shell's status for a process stopped by s.
func signalStatus(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return ExitFailure
}
