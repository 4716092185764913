// Package compat parses ipvsadm 1.31 command lines exactly as Debian's
// ipvsadm 1.31 (built with popt 1.19) does: which argument vectors are
// accepted, the values they set, and for rejected ones the exact message and
// exit status.
//
// It only parses and validates. It talks to no kernel, prints nothing and
// touches no file; host and service names are looked up through a Resolver.
package compat

import (
	"fmt"
	"strings"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Command is the operation an invocation asks for.
type Command int

// Commands, in ipvsadm's order (their names are those used in its messages).
const (
	NoCommand Command = iota
	AddService
	EditService
	DeleteService
	Flush
	List
	AddServer
	DeleteServer
	EditServer
	SetTimeouts
	StartDaemon
	StopDaemon
	Restore
	Save
	Zero
	Help
	Version
)

var commandNames = [...]string{
	NoCommand:     "none",
	AddService:    "add-service",
	EditService:   "edit-service",
	DeleteService: "delete-service",
	Flush:         "flush",
	List:          "list",
	AddServer:     "add-server",
	DeleteServer:  "delete-server",
	EditServer:    "edit-server",
	SetTimeouts:   "set",
	StartDaemon:   "start-daemon",
	StopDaemon:    "stop-daemon",
	Restore:       "restore",
	Save:          "save",
	Zero:          "zero",
	Help:          "help",
	Version:       "version",
}

// String returns the name ipvsadm uses for the command in its messages.
func (c Command) String() string {
	if c >= 0 && int(c) < len(commandNames) {
		return commandNames[c]
	}
	return fmt.Sprintf("command(%d)", int(c))
}

// Options is the set of options given on a command line, one bit per entry
// of ipvsadm's option list (same order, same names). -6 and --sort are not
// recorded, as in ipvsadm.
type Options uint64

// Options, in ipvsadm's column order.
const (
	OptNumeric        Options = 1 << iota // -n
	OptConnection                         // -c
	OptService                            // -t, -u, --sctp-service, -f
	OptScheduler                          // -s
	OptPersistent                         // -p
	OptNetmask                            // -M
	OptServer                             // -r
	OptForward                            // -g, -i, -m
	OptWeight                             // -w
	OptUThreshold                         // -x
	OptLThreshold                         // -y
	OptMcastInterface                     // --mcast-interface
	OptTimeout                            // --timeout
	OptDaemon                             // --daemon
	OptStats                              // --stats
	OptRate                               // --rate
	OptThresholds                         // --thresholds
	OptPersistentConn                     // --persistent-conn
	OptNoSort                             // --nosort
	OptSyncID                             // --syncid
	OptExact                              // -X, --exact
	OptOnePacket                          // -o
	OptPE                                 // --pe
	OptSchedFlags                         // -b
	OptMcastGroup                         // --mcast-group
	OptMcastPort                          // --mcast-port
	OptMcastTTL                           // --mcast-ttl
	OptSyncMaxLen                         // --sync-maxlen
	OptTunInfo                            // --tun-info
	OptTunType                            // --tun-type
	OptTunPort                            // --tun-port
	OptTunNoCsum                          // --tun-nocsum
	OptTunCsum                            // --tun-csum
	OptTunRemCsum                         // --tun-remcsum
)

// numberOfOptions is the number of columns in ipvsadm's option list.
const numberOfOptions = 34

var optionNames = [numberOfOptions]string{
	"numeric", "connection", "service-address", "scheduler", "persistent",
	"netmask", "real-server", "forwarding-method", "weight", "u-threshold",
	"l-threshold", "mcast-interface", "timeout", "daemon", "stats", "rate",
	"thresholds", "persistent-conn", "nosort", "syncid", "exact", "ops", "pe",
	"sched-flags", "mcast-group", "mcast-port", "mcast-ttl", "sync-maxlen",
	"tun-info", "tun-type", "tun-port", "tun-nocsum", "tun-csum", "tun-remcsum",
}

// Has reports whether every option in o2 is in o.
func (o Options) Has(o2 Options) bool { return o&o2 == o2 }

// String lists the options by ipvsadm's names, separated by '|'.
func (o Options) String() string {
	var names []string
	for i, name := range optionNames {
		if o&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if rest := o &^ (1<<numberOfOptions - 1); rest != 0 {
		names = append(names, fmt.Sprintf("%#x", uint64(rest)))
	}
	return strings.Join(names, "|")
}

// Invocation is one parsed ipvsadm command line: the command and the state
// ipvsadm would act on, defaults included.
type Invocation struct {
	Command Command
	// Options holds every option given (see Options).
	Options Options
	// Service is the virtual service exactly as ipvsadm would send it: the
	// key, and for -A/-E the scheduler (default "wlc"), persistence engine,
	// flags, timeout (-p alone means 360) and netmask (0xffffffff for IPv4,
	// 128 for IPv6 unless -M). Other commands leave Scheduler empty.
	Service ipvs.Service
	// Dest is the real server exactly as ipvsadm would send it: weight 1,
	// direct routing and the ipip tunnel type unless given; for -a/-e on a
	// non-fwmark service with DR or tunnelling the port is the service's.
	// Every command carries these defaults; only -a/-e/-d use them.
	Dest ipvs.Destination
	// Daemon is the sync daemon for --start-daemon (interface default
	// "eth0") and --stop-daemon.
	Daemon ipvs.Daemon
	// Timeouts are the --set values (0 = leave unchanged).
	Timeouts ipvs.Timeouts

	lastService serviceMemo // kept from line to line by ParseInto
}

// ServiceGiven reports whether a service (-t, -u, --sctp-service, -f) was
// given; -Z and -L act on every service without one.
func (inv *Invocation) ServiceGiven() bool { return inv.Options.Has(OptService) }

// Numeric reports -n: print addresses and ports as numbers.
func (inv *Invocation) Numeric() bool { return inv.Options.Has(OptNumeric) }

// Connection reports -c: list connections.
func (inv *Invocation) Connection() bool { return inv.Options.Has(OptConnection) }

// ListTimeout reports --timeout: list the timeouts.
func (inv *Invocation) ListTimeout() bool { return inv.Options.Has(OptTimeout) }

// ListDaemon reports --daemon: list the sync daemons.
func (inv *Invocation) ListDaemon() bool { return inv.Options.Has(OptDaemon) }

// Stats reports --stats.
func (inv *Invocation) Stats() bool { return inv.Options.Has(OptStats) }

// Rate reports --rate.
func (inv *Invocation) Rate() bool { return inv.Options.Has(OptRate) }

// Thresholds reports --thresholds.
func (inv *Invocation) Thresholds() bool { return inv.Options.Has(OptThresholds) }

// PersistentConn reports --persistent-conn.
func (inv *Invocation) PersistentConn() bool { return inv.Options.Has(OptPersistentConn) }

// TunInfo reports --tun-info.
func (inv *Invocation) TunInfo() bool { return inv.Options.Has(OptTunInfo) }

// NoSort reports --nosort.
func (inv *Invocation) NoSort() bool { return inv.Options.Has(OptNoSort) }

// Exact reports -X/--exact.
func (inv *Invocation) Exact() bool { return inv.Options.Has(OptExact) }

// Error is a rejected command line: ipvsadm's exact stderr text without the
// final newline (print Message followed by "\n") and its exit status, 2 for
// ipvsadm's own checks and 255 for popt errors and the "Try" line.
type Error struct {
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Message }

// TryHelp is the error for a command line that does not start with a
// command. Restore also reports it for a -R line inside its input.
func TryHelp(prog string) *Error {
	return &Error{
		Message: fmt.Sprintf("Try `%s -h' or '%s --help' for more information.", prog, prog),
		Status:  255,
	}
}

func failf(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Status: 2}
}
