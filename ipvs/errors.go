package ipvs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Op names the client operation that failed, because the same kernel errno
// means different things for different operations (ESRCH is "no such
// service" for a service edit but "service not defined" for a destination
// add).
type Op uint8

// Operations, one per client method that talks to the kernel.
const (
	OpDial Op = iota + 1
	OpInfo
	OpServices
	OpService
	OpAddService
	OpEditService
	OpDeleteService
	OpDestinations
	OpAddDestination
	OpEditDestination
	OpDeleteDestination
	OpDaemons
	OpStartDaemon
	OpStopDaemon
	OpTimeouts
	OpSetTimeouts
	OpZero
	OpFlush
)

var opNames = [...]string{
	OpDial:              "dial",
	OpInfo:              "get info",
	OpServices:          "list services",
	OpService:           "get service",
	OpAddService:        "add service",
	OpEditService:       "edit service",
	OpDeleteService:     "delete service",
	OpDestinations:      "list destinations",
	OpAddDestination:    "add destination",
	OpEditDestination:   "edit destination",
	OpDeleteDestination: "delete destination",
	OpDaemons:           "list daemons",
	OpStartDaemon:       "start daemon",
	OpStopDaemon:        "stop daemon",
	OpTimeouts:          "get timeouts",
	OpSetTimeouts:       "set timeouts",
	OpZero:              "zero counters",
	OpFlush:             "flush",
}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Sentinel errors. Match them with errors.Is; the raw errno stays reachable
// too (errors.Is(err, unix.ESRCH)).
var (
	// ErrNotAvailable: the kernel has no IPVS generic-netlink family (ip_vs
	// is not loaded or not built).
	ErrNotAvailable = errors.New("ipvs: IP Virtual Server is not available in this kernel")
	// ErrPermission: the caller lacks CAP_NET_ADMIN. Also matches os.ErrPermission.
	ErrPermission          = errors.New("ipvs: permission denied")
	ErrServiceExists       = errors.New("ipvs: service already exists")
	ErrServiceNotFound     = errors.New("ipvs: no such service")
	ErrDestinationExists   = errors.New("ipvs: destination already exists")
	ErrDestinationNotFound = errors.New("ipvs: no such destination")
	// ErrSchedulerNotFound: the kernel has no scheduler or persistence engine
	// of the requested name (ENOENT when adding or editing a service).
	ErrSchedulerNotFound = errors.New("ipvs: scheduler or persistence engine not found")
	ErrDaemonRunning     = errors.New("ipvs: sync daemon already running")
	ErrDaemonNotRunning  = errors.New("ipvs: no sync daemon is running")
)

// Error is the error every Client method returns. Err is the underlying
// error, usually a *netlink.OpError wrapping a unix.Errno.
type Error struct {
	Op  Op
	Err error
}

func (e *Error) Error() string { return "ipvs: " + e.Op.String() + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Errno returns the kernel's error number, or 0 when the failure carried none.
func (e *Error) Errno() unix.Errno {
	var errno unix.Errno
	if errors.As(e.Err, &errno) {
		return errno
	}
	return 0
}

// Is maps an (operation, errno) pair to the package's sentinel errors.
func (e *Error) Is(target error) bool {
	errno := e.Errno()
	switch target {
	case ErrNotAvailable:
		return e.Op == OpDial && errors.Is(e.Err, os.ErrNotExist)
	case ErrPermission:
		return errno == unix.EPERM || errno == unix.EACCES
	case ErrServiceExists:
		return errno == unix.EEXIST && e.Op == OpAddService
	case ErrDestinationExists:
		return errno == unix.EEXIST && e.Op == OpAddDestination
	case ErrDaemonRunning:
		return errno == unix.EEXIST && e.Op == OpStartDaemon
	case ErrServiceNotFound:
		return errno == unix.ESRCH && e.Op != OpStopDaemon
	case ErrDaemonNotRunning:
		return errno == unix.ESRCH && e.Op == OpStopDaemon
	case ErrSchedulerNotFound:
		return errno == unix.ENOENT && (e.Op == OpAddService || e.Op == OpEditService)
	case ErrDestinationNotFound:
		return errno == unix.ENOENT && (e.Op == OpEditDestination || e.Op == OpDeleteDestination)
	}
	return false
}

// errInvalidReply marks a kernel reply the client cannot decode.
var errInvalidReply = errors.New("ipvs: invalid reply from kernel")
