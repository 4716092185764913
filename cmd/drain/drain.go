// Package drain implements lvsadm drain and enable: take a real server out
// of scheduling (weight 0) while its connections finish, and give it back
// the weight it had.
package drain

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/internal/exitcode"
	"github.com/lvsadm/lvsadm/cmd/internal/netnsid"
	"github.com/lvsadm/lvsadm/ipvs"
)

// Env is what the commands use outside the process.
type Env struct {
	Stdout, Stderr io.Writer
	// Dial connects to the kernel's IPVS.
	Dial func() (*ipvs.Client, error)
	// Parser reads addresses as ipvsadm does, with the system's names.
	Parser compat.Parser
	// Dir holds the records; "" means DefaultDir.
	Dir string
	// Owner is a uid trusted besides root for Dir (tests).
	Owner int
	// NetNS identifies the namespace; nil means netnsid.Current.
	NetNS func() (NetNS, error)
	// Clock and PollInterval pace --wait; nil and 0 mean the real clock
	// and one second.
	Clock        Clock
	PollInterval time.Duration
	// Complete lists live addresses for shell completion; nil for none.
	Complete func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective)
}

// Clock is the time source of --wait.
type Clock interface {
	Now() time.Time
	Sleep(time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time        { return time.Now() }
func (realClock) Sleep(d time.Duration) { time.Sleep(d) }

// ExitError carries a command's exit status.
type ExitError = exitcode.Error

// Exit statuses: 2 for a wrong command line, 1 for everything else.
const (
	exitFailure = 1
	exitUsage   = 2
)

func usagef(format string, args ...any) error {
	return &ExitError{Code: exitUsage, Err: fmt.Errorf(format, args...)}
}

func failure(err error) error {
	var ee *ExitError
	if err == nil || errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: exitFailure, Err: err}
}

// serviceFlags select how the service argument is read, as ipvsadm's
// -t, -u, --sctp-service and -f do.
type serviceFlags struct {
	udp, sctp, fwmark, ipv6 bool
	tcp                     bool
}

func (f *serviceFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVarP(&f.tcp, "tcp-service", "t", false, "the service is TCP ADDRESS:PORT (the default)")
	fl.BoolVarP(&f.udp, "udp-service", "u", false, "the service is UDP ADDRESS:PORT")
	fl.BoolVar(&f.sctp, "sctp-service", false, "the service is SCTP ADDRESS:PORT")
	fl.BoolVarP(&f.fwmark, "fwmark-service", "f", false, "the service is a firewall mark")
	fl.BoolVarP(&f.ipv6, "ipv6", "6", false, "the firewall-mark service is IPv6 (with -f)")
}

// target is the service and real server named on the command line.
type target struct {
	key    ipvs.ServiceKey
	server netip.AddrPort
}

func (t target) String() string {
	return "real server " + desired.AddrPort(t.server.Addr(), t.server.Port()) + " of " + desired.Describe(t.key)
}

// parse reads SERVICE and SERVER with ipvsadm's parser: addresses, [v6]
// brackets, host and service names, firewall marks and the real server's
// port defaulting to the service's, exactly as ipvsadm -e reads them.
func (f *serviceFlags) parse(p compat.Parser, service, server string) (target, error) {
	n := 0
	opt := "-t"
	for _, o := range []struct {
		set  bool
		name string
	}{{f.tcp, "-t"}, {f.udp, "-u"}, {f.sctp, "--sctp-service"}, {f.fwmark, "-f"}} {
		if o.set {
			n++
			opt = o.name
		}
	}
	if n > 1 {
		return target{}, usagef("give only one of -t, -u, --sctp-service and -f")
	}
	if f.ipv6 && !f.fwmark {
		return target{}, usagef("-6 goes with -f only: an address says its own family")
	}
	args := []string{"-e", opt, service, "-r", server, "-m"}
	if f.ipv6 {
		args = append(args, "-6")
	}
	inv, err := p.Parse("lvsadm", args)
	if err != nil {
		return target{}, usagef("%v", err)
	}
	k := desired.Key(inv.Service.ServiceKey)
	return target{key: k, server: netip.AddrPortFrom(inv.Dest.Addr, inv.Dest.Port)}, nil
}

// Commands returns drain and enable, built afresh.
func Commands(e Env) []*cobra.Command {
	cmds := []*cobra.Command{drainCommand(e), enableCommand(e)}
	for _, c := range cmds {
		c.SilenceErrors, c.SilenceUsage = true, true
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("%s: expected a service and a real server (see 'lvsadm %s --help')", cmd.Name(), cmd.Name())
			}
			return nil
		}
		c.ValidArgsFunction = e.Complete
	}
	return cmds
}

func (e Env) store() (Store, error) {
	id := e.NetNS
	if id == nil {
		id = netnsid.Current
	}
	ns, err := id()
	if err != nil {
		return Store{}, err
	}
	dir := e.Dir
	if dir == "" {
		dir = DefaultDir
	}
	return Store{Dir: dir, NetNS: ns, Owner: e.Owner}, nil
}

// find returns the real server's current entry.
func find(c *ipvs.Client, t target) (ipvs.DestinationEntry, error) {
	if _, err := c.Service(t.key); errors.Is(err, ipvs.ErrServiceNotFound) {
		return ipvs.DestinationEntry{}, fmt.Errorf("no service %s", desired.Describe(t.key))
	} else if err != nil {
		return ipvs.DestinationEntry{}, err
	}
	dests, err := c.Destinations(t.key)
	if err != nil {
		return ipvs.DestinationEntry{}, err
	}
	for _, d := range dests {
		if d.Addr == t.server.Addr() && d.Port == t.server.Port() {
			return d, nil
		}
	}
	return ipvs.DestinationEntry{}, fmt.Errorf("service %s has no real server %s", desired.Describe(t.key),
		desired.AddrPort(t.server.Addr(), t.server.Port()))
}

// setWeight edits the real server with weight w, keeping all else.
func setWeight(c *ipvs.Client, t target, d ipvs.Destination, w uint32) error {
	d.Weight = w
	if err := c.EditDestination(t.key, d); err != nil {
		return fmt.Errorf("set weight of %s: %w", t, err)
	}
	return nil
}

const drainLong = `drain sets a real server's weight to 0, so that the scheduler gives it no
new connections while those it has go on, and records the weight it had so
that 'lvsadm enable' can give it back. SERVICE and SERVER are read as
ipvsadm reads -t/-u/--sctp-service/-f and -r: ADDRESS:PORT, [IPv6]:PORT,
host and service names, and a real server without a port takes the
service's. The service is TCP unless -u, --sctp-service or -f says
otherwise.

The record lives in /run/lvsadm (which must be root's and not writable by
group or others), one file per network namespace, service and real server.
Draining a server that is drained already keeps the weight first recorded.

With --wait, drain returns once the real server has no active or inactive
connections, printing their counts on stderr as they change; with
--timeout too, it gives up after that long (status 1), leaving the server
drained.`

func drainCommand(e Env) *cobra.Command {
	var sf serviceFlags
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "drain [-t|-u|--sctp-service|-f] SERVICE SERVER [--wait [--timeout D]]",
		Short: "Give a real server no new connections (weight 0), remembering its weight",
		Long:  drainLong,
		Example: `  lvsadm drain 192.0.2.10:80 198.51.100.1:80 --wait --timeout 5m
  lvsadm drain -u '[2001:db8::10]:53' 2001:db8::1
  lvsadm drain -f 7 198.51.100.1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := sf.parse(e.Parser, args[0], args[1])
			if err != nil {
				return err
			}
			if timeout < 0 {
				return usagef("drain: --timeout must not be negative")
			}
			if timeout > 0 {
				wait = true
			}
			return failure(e.drain(t, wait, timeout))
		},
	}
	sf.add(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "return only once the real server has no connections")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --wait: give up after this long (e.g. 90s, 5m; 0 waits for ever)")
	return cmd
}

// open reads the records' store, dials the kernel and finds t's real
// server; the caller closes the client.
func (e Env) open(t target) (Store, *ipvs.Client, ipvs.DestinationEntry, error) {
	st, err := e.store()
	if err != nil {
		return Store{}, nil, ipvs.DestinationEntry{}, err
	}
	c, err := e.Dial()
	if err != nil {
		return Store{}, nil, ipvs.DestinationEntry{}, err
	}
	d, err := find(c, t)
	if err != nil {
		c.Close()
		return Store{}, nil, ipvs.DestinationEntry{}, err
	}
	return st, c, d, nil
}

func (e Env) drain(t target, wait bool, timeout time.Duration) error {
	st, c, d, err := e.open(t)
	if err != nil {
		return err
	}
	defer c.Close()
	switch kept, err := st.Load(t.key, t.server); {
	case err != nil:
		return err
	case kept != nil:
		fmt.Fprintf(e.Stderr, "lvsadm: %s is drained already; enable will restore weight %d\n", t, kept.Weight)
	case d.Weight == 0:
		fmt.Fprintf(e.Stderr, "lvsadm: %s has weight 0 already; no weight recorded (enable will need --weight)\n", t)
	default:
		rec := Record{Service: desired.Describe(t.key), Server: desired.AddrPort(t.server.Addr(), t.server.Port()),
			Weight: d.Weight, Drained: time.Now().UTC()}
		// Recorded before the weight changes, so that a failure
		// after it never loses the weight.
		if kept, err := st.Create(t.key, t.server, rec); err != nil {
			return err
		} else if kept != nil {
			fmt.Fprintf(e.Stderr, "lvsadm: %s is drained already; enable will restore weight %d\n", t, kept.Weight)
		}
	}
	if d.Weight != 0 {
		if err := setWeight(c, t, d.Destination, 0); err != nil {
			return err
		}
	}
	if !wait {
		return nil
	}
	return e.waitIdle(c, t, timeout)
}

// waitIdle polls the real server's connection counts until both are 0,
// the server is deleted, or timeout (if not 0) has passed.
func (e Env) waitIdle(c *ipvs.Client, t target, timeout time.Duration) error {
	clock := e.Clock
	if clock == nil {
		clock = realClock{}
	}
	poll := e.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	start := clock.Now()
	last := [2]uint32{^uint32(0), ^uint32(0)}
	for {
		if _, err := c.Service(t.key); errors.Is(err, ipvs.ErrServiceNotFound) {
			fmt.Fprintf(e.Stderr, "lvsadm: %s: the service was deleted\n", t)
			return nil
		}
		dests, err := c.Destinations(t.key)
		if err != nil {
			return fmt.Errorf("draining %s: %w", t, err)
		}
		var d *ipvs.DestinationEntry
		for i := range dests {
			if dests[i].Addr == t.server.Addr() && dests[i].Port == t.server.Port() {
				d = &dests[i]
			}
		}
		if d == nil {
			fmt.Fprintf(e.Stderr, "lvsadm: %s: the real server was deleted\n", t)
			return nil
		}
		now := [2]uint32{d.ActiveConns, d.InactiveConns}
		if now[0]+now[1] == 0 {
			fmt.Fprintf(e.Stderr, "lvsadm: %s drained after %s\n", t, clock.Now().Sub(start).Round(time.Second))
			return nil
		}
		elapsed := clock.Now().Sub(start)
		if timeout > 0 && elapsed >= timeout {
			return fmt.Errorf("%s still has %d active, %d inactive connections after %s; it stays drained",
				t, now[0], now[1], timeout)
		}
		if now != last {
			fmt.Fprintf(e.Stderr, "lvsadm: draining %s: %d active, %d inactive connections\n", t, now[0], now[1])
			last = now
		}
		step := poll
		if timeout > 0 {
			step = min(step, timeout-elapsed)
		}
		clock.Sleep(step)
	}
}

func enableCommand(e Env) *cobra.Command {
	var sf serviceFlags
	var weight int64
	cmd := &cobra.Command{
		Use:   "enable [-t|-u|--sctp-service|-f] SERVICE SERVER [--weight N]",
		Short: "Give a drained real server back the weight it had",
		Long: `enable sets the weight of a real server drained with 'lvsadm drain' back to
the weight recorded then, and removes the record. --weight N sets N instead
and is needed for a server that has no record (drained by other means, or
before a reboot). SERVICE and SERVER are read as for drain.`,
		Example: `  lvsadm enable 192.0.2.10:80 198.51.100.1:80
  lvsadm enable 192.0.2.10:80 198.51.100.1:80 --weight 5`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := sf.parse(e.Parser, args[0], args[1])
			if err != nil {
				return err
			}
			given := cmd.Flags().Changed("weight")
			if given && (weight < 0 || weight > 2147483647) {
				return usagef("enable: --weight must be between 0 and 2147483647")
			}
			return failure(e.enable(t, given, uint32(weight)))
		},
	}
	sf.add(cmd)
	cmd.Flags().Int64Var(&weight, "weight", 0, "set this weight instead of the recorded one")
	return cmd
}

func (e Env) enable(t target, given bool, weight uint32) error {
	st, c, d, err := e.open(t)
	if err != nil {
		return err
	}
	defer c.Close()
	rec, err := st.Load(t.key, t.server)
	if err != nil {
		return err
	}
	if !given {
		if rec == nil {
			return fmt.Errorf("no weight recorded for %s (it was not drained with lvsadm drain in this network namespace "+
				"since boot); give --weight N", t)
		}
		weight = rec.Weight
	}
	if err := setWeight(c, t, d.Destination, weight); err != nil {
		return err
	}
	return st.Remove(t.key, t.server)
}
