package health

import (
	"strconv"
	"time"
)

// state is one real server's health: its results counted against rise
// and fall.
type state struct {
	rise, fall int

	up       bool
	weighted bool // weight was set by a dynamic exec result
	weight   int
	reason   string    // why up is what it is
	since    time.Time // when up last changed, or the check started
	last     Result
	// Consecutive successes and failures; one of them is 0.
	successes, failures int
	// Totals since the check was added.
	checks, failed uint64
}

func newState(initialUp bool, rise, fall int, now time.Time) state {
	s := state{up: initialUp, since: now, reason: "initial state down"}
	if initialUp {
		s.reason = "initial state up"
	}
	s.setLimits(rise, fall)
	return s
}

func (s *state) setLimits(rise, fall int) {
	s.rise, s.fall = max(rise, 1), max(fall, 1)
}

// change is what a result changed.
type change int

const (
	noChange     change = iota
	stateChange         // up became down or down up
	weightChange        // an up server's dynamic weight changed
)

// apply counts result r, finished at now, and says what it changed.
func (s *state) apply(r Result, now time.Time) change {
	s.last = r
	s.checks++
	if !r.Up {
		s.failed++
		s.failures++
		s.successes = 0
		if s.up && s.failures >= s.fall {
			s.up, s.since = false, now
			s.reason = r.Reason
			if s.failures > 1 {
				s.reason += " after " + strconv.Itoa(s.failures) + " tries"
			}
			return stateChange
		}
		return noChange
	}
	s.successes++
	s.failures = 0
	newWeight := r.Weighted && (!s.weighted || s.weight != r.Weight)
	if r.Weighted {
		s.weighted, s.weight = true, r.Weight
	}
	if !s.up {
		if s.successes < s.rise {
			return noChange
		}
		s.up, s.since = true, now
		s.reason = "up after " + strconv.Itoa(s.successes) + " successes"
		if s.successes == 1 {
			s.reason = "up after 1 success"
		}
		s.reason += " (" + r.Reason + ")"
		return stateChange
	}
	if newWeight {
		s.reason = r.Reason
		return weightChange
	}
	return noChange
}

// retrying reports whether the server is up with failures that have not yet
// taken it down: the next check comes after the retry interval.
func (s *state) retrying() bool { return s.up && s.failures > 0 }
