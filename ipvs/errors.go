package ipvs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/mdlayher/netlink"
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
	// is not loaded or not built), or the system is not Linux.
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
	// ErrReplyLost: the kernel handled the request but its answer was
	// dropped because the socket's receive buffer was full (ENOBUFS), so
	// whether the request succeeded is unknown. Errors that match it also
	// match unix.ENOBUFS.
	ErrReplyLost = errors.New("ipvs: reply lost in a full receive buffer; the request may or may not have been applied")
)

// sentinels are the errors Error.Is maps errnos to, in the order its
// message prefers them.
var sentinels = []error{
	ErrNotAvailable, ErrServiceExists, ErrServiceNotFound, ErrDestinationExists, ErrDestinationNotFound,
	ErrSchedulerNotFound, ErrDaemonRunning, ErrDaemonNotRunning, ErrPermission,
}

// Error is the error every Client method returns, and each failed request
// of a Batch. Its message is a sentence: "ipvs: add destination
// 198.51.100.1:80 to 192.0.2.10:80/tcp: destination already exists".
type Error struct {
	Op Op
	// Subject is what the request was about, as it appears in the message
	// ("192.0.2.10:80/tcp", "198.51.100.1:80 to 192.0.2.10:80/tcp"); empty
	// for requests about nothing in particular.
	Subject string
	// Err is the cause: for an answer from the kernel a *netlink.OpError
	// wrapping a unix.Errno.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ipvs: ")
	b.WriteString(e.Op.String())
	if e.Subject != "" {
		b.WriteByte(' ')
		b.WriteString(e.Subject)
	}
	b.WriteString(": ")
	b.WriteString(e.cause())
	return b.String()
}

// cause says what went wrong: the sentinel's words when one matches, the
// errno's when the kernel answered with another, else the cause itself.
func (e *Error) cause() string {
	if e.Err == nil {
		return "unknown error"
	}
	for _, s := range sentinels {
		if e.Is(s) {
			return strings.TrimPrefix(s.Error(), "ipvs: ")
		}
	}
	if errors.Is(e.Err, ErrReplyLost) {
		return strings.TrimPrefix(ErrReplyLost.Error(), "ipvs: ")
	}
	var oerr *netlink.OpError
	if errors.As(e.Err, &oerr) && oerr.Sequence != 0 {
		if errno, ok := oerr.Err.(unix.Errno); ok {
			return errno.Error() // the kernel's answer
		}
	}
	return e.Err.Error()
}

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
		// A missing file (a network namespace) is not a missing family.
		var pathErr *fs.PathError
		return e.Op == OpDial && errors.Is(e.Err, os.ErrNotExist) && !errors.As(e.Err, &pathErr)
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

// replyLost is the cause of a request whose reply the receive buffer
// dropped; err is the read that reported it (ENOBUFS).
func replyLost(err error) error { return fmt.Errorf("%w: %w", ErrReplyLost, err) }

// needsLinux is the error Dial returns where there is no netlink.
type needsLinux struct{ goos string }

func (e needsLinux) Error() string {
	return "IP Virtual Server needs Linux; this is " + e.goos
}

func (needsLinux) Is(target error) bool { return target == ErrNotAvailable }
