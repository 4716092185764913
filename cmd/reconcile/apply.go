package reconcile

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
)

// ApplyOptions say how apply removes.
type ApplyOptions struct {
	// DrainTimeout is how long a removed real server (or every server of a
	// pruned service) may keep its connections: it is set to weight 0 at
	// once and deleted when its active and inactive connections are 0, or
	// when the timeout has passed. 0 deletes at once, as ipvsadm does.
	DrainTimeout time.Duration
	// Progress receives a line of text for each drain step; nil for none.
	Progress func(line string)
	// PollInterval is how often draining servers' connections are read;
	// 0 means one second.
	PollInterval time.Duration
	// Clock, for tests; nil means the real one.
	Clock Clock
}

// Clock is the time source of a drain.
type Clock interface {
	Now() time.Time
	Sleep(time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time        { return time.Now() }
func (realClock) Sleep(d time.Duration) { time.Sleep(d) }

// FailedChange is a change the kernel refused.
type FailedChange struct {
	Change *Change
	Err    error // an *ipvs.Error
}

// ApplyError says that apply failed and what it left.
type ApplyError struct {
	// Failed are the changes the kernel refused, in plan order.
	Failed []FailedChange
	// RolledBack reports that every change of the failed batch that had
	// been made was undone; RollbackErr says why not otherwise.
	RolledBack  bool
	RollbackErr error
	// Err is a failure that is not a refused change (the socket, a drain
	// step after the table was changed).
	Err error
}

// Error names the first refused change and where it was defined, and
// counts the others (often consequences: the real servers of a service the
// kernel refused).
func (e *ApplyError) Error() string {
	var b strings.Builder
	if len(e.Failed) > 0 {
		b.WriteString(describeFailure(e.Failed[0]))
		if n := len(e.Failed) - 1; n > 0 {
			fmt.Fprintf(&b, " (and %d more refused change%s)", n, plural(n))
		}
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func describeFailure(f FailedChange) string {
	msg := f.Err.Error()
	if src := f.Change.Source; src.File != "" {
		return src.String() + ": " + msg
	}
	return msg
}

// request is one kernel request of an apply: the change it makes, or with
// drain set, the weight-0 edit of that server of the change. Requests are
// encoded a batch at a time, and undone from the change at rollback.
type request struct {
	change *Change
	drain  *ipvs.Destination
}

// Apply makes plan's changes. The additions, edits and immediate removals
// go out in batches; if the kernel refuses any of them, the ones it made
// are undone in reverse order, so that the kernel is as it was read, and
// the error lists what was refused. Drained removals then wait for their
// connections (see ApplyOptions).
func Apply(c *ipvs.Client, plan *Plan, o ApplyOptions) error {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	drain := o.DrainTimeout > 0
	var reqs []request
	var draining []*Change
	for i := range plan.Changes {
		ch := &plan.Changes[i]
		switch {
		case ch.Action == Remove && drain:
			draining = append(draining, ch)
			reqs = appendDrainRequests(reqs, ch)
		default:
			reqs = append(reqs, request{change: ch})
		}
	}
	if err := sendAll(c, reqs); err != nil {
		return err
	}
	if len(draining) > 0 {
		return drainAndDelete(c, draining, o)
	}
	return nil
}

// sendChunk is how many requests are encoded and sent at a time: several of
// the batch's largest windows, without holding every encoded request of a
// large apply in memory at once.
const sendChunk = 4096

// sendAll sends reqs in batches of sendChunk, in order. If the kernel
// refuses any request, nothing after that batch is sent, and the requests
// made are rolled back.
func sendAll(c *ipvs.Client, reqs []request) error {
	b := c.NewBatch()
	aerr := &ApplyError{}
	var made []request
	var sendErr error
	for start := 0; start < len(reqs) && len(aerr.Failed) == 0 && sendErr == nil; start += sendChunk {
		chunk := reqs[start:min(start+sendChunk, len(reqs))]
		for _, r := range chunk {
			r.queue(b)
		}
		var results []error
		results, sendErr = b.Send()
		for i, r := range chunk {
			switch {
			case results[i] == nil:
				made = append(made, r)
			case errors.Is(results[i], ipvs.ErrReplyLost):
				// Unknown outcome: undo it too; undoing what was not
				// made fails harmlessly.
				made = append(made, r)
				aerr.Failed = append(aerr.Failed, FailedChange{r.change, results[i]})
			default:
				aerr.Failed = append(aerr.Failed, FailedChange{r.change, results[i]})
			}
		}
	}
	if len(aerr.Failed) == 0 && sendErr == nil {
		return nil
	}
	if len(aerr.Failed) == 0 {
		aerr.Err = sendErr
	}
	aerr.RollbackErr = rollback(c, made)
	aerr.RolledBack = aerr.RollbackErr == nil
	return aerr
}

// rollback undoes made, newest first.
func rollback(c *ipvs.Client, made []request) error {
	b := c.NewBatch()
	for i := len(made) - 1; i >= 0; i-- {
		made[i].undo(b)
	}
	if b.Len() == 0 {
		return nil
	}
	results, err := b.Send()
	var errs []error
	for _, r := range results {
		if r != nil && !gone(r) {
			errs = append(errs, r)
		}
	}
	if len(errs) == 0 && err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// gone reports an error that says the thing to delete is not there.
func gone(err error) bool {
	return errors.Is(err, ipvs.ErrServiceNotFound) || errors.Is(err, ipvs.ErrDestinationNotFound)
}

// queue adds the request to b.
func (r request) queue(b *ipvs.Batch) {
	ch := r.change
	k := ch.Service.ServiceKey
	switch {
	case r.drain != nil:
		zero := *r.drain
		zero.Weight = 0
		b.EditDestination(k, zero)
	case ch.Action == Add && !ch.IsServer():
		b.AddService(*ch.Service)
	case ch.Action == Add:
		b.AddDestination(k, *ch.Server)
	case ch.Action == Edit && !ch.IsServer():
		b.EditService(*ch.Service)
	case ch.Action == Edit:
		b.EditDestination(k, *ch.Server)
	case ch.IsServer():
		b.DeleteDestination(k, *ch.Server)
	default:
		b.DeleteService(k)
	}
}

// undo adds to b what undoes the request once made.
func (r request) undo(b *ipvs.Batch) {
	ch := r.change
	k := ch.Service.ServiceKey
	switch {
	case r.drain != nil:
		b.EditDestination(k, *r.drain)
	case ch.Action == Add && !ch.IsServer():
		b.DeleteService(k)
	case ch.Action == Add:
		b.DeleteDestination(k, *ch.Server)
	case ch.Action == Edit && !ch.IsServer():
		b.EditService(*ch.OldService)
	case ch.Action == Edit:
		b.EditDestination(k, *ch.OldServer)
	case ch.IsServer():
		b.AddDestination(k, *ch.Server)
	default:
		b.AddService(*ch.Service)
		for i := range ch.Servers {
			b.AddDestination(k, ch.Servers[i].Destination)
		}
	}
}

// appendDrainRequests appends the requests that set the weight of a
// removed server, or of every server of a removed service, to 0.
func appendDrainRequests(reqs []request, ch *Change) []request {
	if ch.IsServer() {
		if ch.Server.Weight != 0 {
			reqs = append(reqs, request{change: ch, drain: ch.Server})
		}
		return reqs
	}
	for i := range ch.Servers {
		if ch.Servers[i].Weight != 0 {
			reqs = append(reqs, request{change: ch, drain: &ch.Servers[i].Destination})
		}
	}
	return reqs
}

// drainAndDelete waits until the drained servers have no connections (or
// the timeout passes) and deletes them, and pruned services once all their
// servers are drained.
func drainAndDelete(c *ipvs.Client, draining []*Change, o ApplyOptions) error {
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	deadline := o.Clock.Now().Add(o.DrainTimeout)
	left := append([]*Change(nil), draining...)
	for {
		expired := !o.Clock.Now().Before(deadline)
		var still []*Change
		for _, ch := range left {
			conns, err := connections(c, ch)
			if err != nil {
				return &ApplyError{Err: fmt.Errorf("draining %s: %w", what(ch), err)}
			}
			if conns.active+conns.inactive > 0 && !expired {
				progress(fmt.Sprintf("draining %s: %d active, %d inactive connections", what(ch), conns.active, conns.inactive))
				still = append(still, ch)
				continue
			}
			if expired && conns.active+conns.inactive > 0 {
				progress(fmt.Sprintf("drain timeout: removing %s with %d active, %d inactive connections", what(ch), conns.active, conns.inactive))
			} else {
				progress(fmt.Sprintf("drained: removing %s", what(ch)))
			}
			if err := deleteDrained(c, ch); err != nil {
				return &ApplyError{Failed: []FailedChange{{ch, err}}}
			}
		}
		if len(still) == 0 {
			return nil
		}
		left = still
		o.Clock.Sleep(min(o.PollInterval, max(time.Duration(0), deadline.Sub(o.Clock.Now()))))
	}
}

type connCount struct{ active, inactive uint32 }

// connections counts the connections of a drained server, or of all
// servers of a pruned service, as the kernel lists them now.
func connections(c *ipvs.Client, ch *Change) (connCount, error) {
	dests, err := c.Destinations(ch.Service.ServiceKey)
	if err != nil {
		return connCount{}, err
	}
	af := desired.Key(ch.Service.ServiceKey).Family
	var n connCount
	for i := range dests {
		if ch.IsServer() && desired.DestKey(af, &dests[i].Destination) != desired.DestKey(af, ch.Server) {
			continue
		}
		n.active += dests[i].ActiveConns
		n.inactive += dests[i].InactiveConns
	}
	return n, nil
}

func deleteDrained(c *ipvs.Client, ch *Change) error {
	var err error
	if ch.IsServer() {
		err = c.DeleteDestination(ch.Service.ServiceKey, *ch.Server)
	} else {
		err = c.DeleteService(ch.Service.ServiceKey)
	}
	if err != nil && !gone(err) {
		return err
	}
	return nil
}

// what names a removed server or service in progress lines.
func what(ch *Change) string {
	if ch.IsServer() {
		return "real server " + desired.AddrPort(ch.Server.Addr, ch.Server.Port) + " of " + desired.Describe(ch.Service.ServiceKey)
	}
	return "service " + desired.Describe(ch.Service.ServiceKey)
}
