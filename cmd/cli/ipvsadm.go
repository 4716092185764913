package cli

import (
	"errors"
	"fmt"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/internal/kerneltable"
	"github.com/lvsadm/lvsadm/format"
	"github.com/lvsadm/lvsadm/ipvs"
)

// outcome is the result of one ipvsadm command line. ipvsadm ends the whole
// process on some failures (its fail() and exit() calls) and merely returns
// a status on others; the difference shows in restore, which goes on to the
// next line only after the latter.
type outcome struct {
	status int
	exit   bool
}

func done(status int) outcome    { return outcome{status: status} }
func exitNow(status int) outcome { return outcome{status: status, exit: true} }

// minimumIPVSVersion is the oldest kernel IPVS that ipvsadm 1.31 accepts
// without a warning (1.1.4).
const minimumIPVSVersion = 0x010104

// runIpvsadm runs one ipvsadm command line (args without the program name).
func runIpvsadm(e *env, prog string, args []string) int {
	inv, perr := e.parser().Parse(prog, args)
	// Deliberate difference: help and version work without IPVS.
	if perr == nil && (inv.Command == compat.Help || inv.Command == compat.Version) {
		return e.execute(prog, inv, false).status
	}
	if status, ok := e.init(); !ok {
		return status
	}
	if perr != nil {
		return e.parseFailure(prog, perr).status
	}
	return e.execute(prog, inv, false).status
}

// parser parses as ipvsadm does in this environment: popt stops at the
// first plain word when POSIXLY_CORRECT or POSIX_ME_HARDER is set.
func (e *env) parser() compat.Parser {
	return compat.Parser{Resolver: e.names, PosixlyCorrect: e.posixlyCorrect}
}

// init connects as ipvsadm's main does: on failure it runs modprobe once and
// retries, then gives up with ipvsadm's message and status 2.
func (e *env) init() (int, bool) {
	err := e.connect()
	if err != nil {
		e.stdout.Flush() // modprobe writes to stderr
	}
	if err != nil && e.modprobe(e.stderr) == nil {
		err = e.connect()
	}
	if err != nil {
		reason := kernelMessage(ipvs.OpDial, err)
		if errors.Is(err, ipvs.ErrNotAvailable) {
			// libipvs falls back to the old socket options, which
			// answer ENOPROTOOPT without the module.
			reason = "Protocol not available"
		}
		e.errorln("Can't initialize ipvs: " + reason + "\nAre you sure that IP Virtual Server is built in the kernel or as module?")
		return 2, false
	}
	if e.info.Version < minimumIPVSVersion {
		e.stdout.Flush()
		fmt.Fprintf(e.stderr, "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version %s\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n", e.info.VersionString())
	}
	return 0, true
}

func (e *env) connect() error {
	c, err := e.dial()
	if err != nil {
		return err
	}
	info, err := c.Info()
	if err != nil {
		c.Close()
		return err
	}
	e.client, e.info = c, info
	return nil
}

// parseFailure prints a rejected command line.
func (e *env) parseFailure(prog string, err error) outcome {
	e.errorln(err.Error())
	return e.classifyParseError(prog, err)
}

// classifyParseError: status 2 (ipvsadm's fail()) and the "Try ..." line end
// the process; popt's own errors (status 255) do not.
func (e *env) classifyParseError(prog string, err error) outcome {
	var perr *compat.Error
	if !errors.As(err, &perr) {
		return exitNow(2)
	}
	if perr.Status == 2 || perr.Message == compat.TryHelp(prog).Message {
		return exitNow(perr.Status)
	}
	return done(perr.Status)
}

// execute carries out a parsed command line.
func (e *env) execute(prog string, inv *compat.Invocation, inRestore bool) outcome {
	switch inv.Command {
	case compat.Help:
		e.stdout.WriteString(helpText(prog))
		return exitNow(0)
	case compat.Version:
		e.stdout.WriteString(versionLine())
		return exitNow(0)
	case compat.List:
		return e.list(inv)
	case compat.Save:
		return e.listAll(inv, true)
	case compat.Restore:
		if inRestore {
			// ipvsadm refuses to recurse.
			e.errorln(compat.TryHelp(prog).Message)
			return exitNow(255)
		}
		return e.restore(prog)
	}
	b := e.client.NewBatch()
	op, ok := queueChange(b, inv)
	if !ok {
		e.errorln(fmt.Sprintf("lvsadm: internal error: command %v not handled", inv.Command))
		return exitNow(2)
	}
	results, _ := b.Send()
	if results[0] != nil {
		e.errorln(kernelMessage(op, results[0]))
		return done(255)
	}
	return done(0)
}

// queueChange adds the kernel request of a command that changes the table
// to b, and returns the operation for error messages; ok is false for
// commands that are not changes.
func queueChange(b *ipvs.Batch, inv *compat.Invocation) (op ipvs.Op, ok bool) {
	svc := inv.Service
	switch inv.Command {
	case compat.Flush:
		b.Flush()
		return ipvs.OpFlush, true
	case compat.AddService:
		b.AddService(svc)
		return ipvs.OpAddService, true
	case compat.EditService:
		b.EditService(svc)
		return ipvs.OpEditService, true
	case compat.DeleteService:
		b.DeleteService(svc.ServiceKey)
		return ipvs.OpDeleteService, true
	case compat.Zero:
		if zeroMeansAll(svc.ServiceKey) {
			b.ZeroAll()
		} else {
			b.ZeroService(svc.ServiceKey)
		}
		return ipvs.OpZero, true
	case compat.AddServer:
		b.AddDestination(svc.ServiceKey, inv.Dest)
		return ipvs.OpAddDestination, true
	case compat.EditServer:
		b.EditDestination(svc.ServiceKey, inv.Dest)
		return ipvs.OpEditDestination, true
	case compat.DeleteServer:
		b.DeleteDestination(svc.ServiceKey, inv.Dest)
		return ipvs.OpDeleteDestination, true
	case compat.SetTimeouts:
		b.SetTimeouts(inv.Timeouts)
		return ipvs.OpSetTimeouts, true
	case compat.StartDaemon:
		b.StartDaemon(inv.Daemon)
		return ipvs.OpStartDaemon, true
	case compat.StopDaemon:
		b.StopDaemon(inv.Daemon)
		return ipvs.OpStopDaemon, true
	}
	return 0, false
}

// zeroMeansAll is libipvs's rule: a zero request names a service only if it
// has a fwmark, a non-zero address or a port; otherwise it zeroes everything
// (so -Z -t 0.0.0.0:0 zeroes all services).
func zeroMeansAll(k ipvs.ServiceKey) bool {
	return k.FWMark == 0 && k.Port == 0 && (!k.Addr.IsValid() || k.Addr.IsUnspecified())
}

func formatOptions(inv *compat.Invocation) format.Options {
	return format.Options{
		Numeric:        inv.Numeric(),
		Stats:          inv.Stats(),
		Rate:           inv.Rate(),
		Thresholds:     inv.Thresholds(),
		PersistentConn: inv.PersistentConn(),
		TunInfo:        inv.TunInfo(),
		NoSort:         inv.NoSort(),
		Exact:          inv.Exact(),
	}
}

func (e *env) list(inv *compat.Invocation) outcome {
	c := e.client
	switch {
	case inv.Connection():
		return e.listConnections(inv)
	case inv.ServiceGiven():
		se, err := c.Service(inv.Service.ServiceKey)
		if err != nil {
			e.errorln(kernelMessage(ipvs.OpService, err))
			return exitNow(1)
		}
		o := formatOptions(inv)
		format.Title(e.stdout, o)
		return e.printService(se, o)
	case inv.ListTimeout():
		t, err := c.Timeouts()
		if err != nil {
			return exitNow(1) // ipvsadm exits silently here
		}
		format.Timeouts(e.stdout, t)
		return done(0)
	case inv.ListDaemon():
		ds, err := c.Daemons()
		if err != nil {
			return exitNow(1)
		}
		format.Daemons(e.stdout, ds)
		return done(0)
	}
	return e.listAll(inv, false)
}

// listAll prints the whole table (rules for -S), service by service, read
// as package kerneltable reads it: the destinations for the default view
// and -S from /proc/net/ip_vs where it serves; for --stats, --rate,
// --thresholds, --persistent-conn and --tun-info from one netlink dump per
// service, as ipvsadm does, since /proc lacks counters, thresholds and the
// rest.
func (e *env) listAll(inv *compat.Invocation, rules bool) outcome {
	o := formatOptions(inv)
	if !rules {
		format.Header(e.stdout, e.info)
	}
	openProc := e.procIPVS
	if !rules && (o.Stats || o.Rate || o.Thresholds || o.PersistentConn || o.TunInfo) {
		openProc = nil
	}
	tbl, err := kerneltable.Read(e.client, openProc)
	if err != nil {
		e.errorln(kernelMessage(ipvs.OpServices, err))
		return exitNow(1)
	}
	return e.printAll(tbl, o, rules, inv.Numeric())
}

// printAll prints the table's services, in order unless o.NoSort, with
// their destinations.
func (e *env) printAll(tbl *kerneltable.Table, o format.Options, rules, numeric bool) outcome {
	svcs := tbl.Services
	order := make([]int, len(svcs))
	if o.NoSort {
		for i := range order {
			order[i] = i
		}
	} else {
		order = format.ServiceOrder(svcs)
	}
	if !rules {
		format.Title(e.stdout, o)
	}
	var dests []ipvs.DestinationEntry // reused from service to service
	for _, i := range order {
		var err error
		if dests, err = tbl.Dests(dests[:0], i); err != nil {
			e.errorln(kernelMessage(ipvs.OpDestinations, err))
			return exitNow(1)
		}
		e.printTable(format.Table{Service: svcs[i], Dests: dests}, o, rules, numeric)
	}
	return done(0)
}

func (e *env) printService(se ipvs.ServiceEntry, o format.Options) outcome {
	dests, err := e.client.Destinations(se.ServiceKey)
	if err != nil {
		e.errorln(kernelMessage(ipvs.OpDestinations, err))
		return exitNow(1)
	}
	e.printTable(format.Table{Service: se, Dests: dests}, o, false, o.Numeric)
	return done(0)
}

// printTable prints one service with its destinations.
func (e *env) printTable(t format.Table, o format.Options, rules, numeric bool) {
	if rules {
		format.Save(e.stdout, t, e.names, numeric)
	} else {
		format.ServiceRows(e.stdout, t, o, e.names)
	}
}

func (e *env) listConnections(inv *compat.Invocation) outcome {
	f, err := e.procConn()
	if err != nil {
		err = format.CannotOpenConnections(err)
	} else {
		defer f.Close()
		err = format.Connections(e.stdout, f, formatOptions(inv), e.names)
	}
	var cerr *format.ConnectionsError
	if errors.As(err, &cerr) {
		e.errorln(cerr.Message())
		return exitNow(1)
	}
	if err != nil {
		e.errorln(err.Error())
		return exitNow(1)
	}
	return done(0)
}
