package cli

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs"
)

// opMessages are ipvsadm's texts for errnos that mean something particular
// to one operation (libipvs's ipvs_strerror table).
var opMessages = map[ipvs.Op]map[unix.Errno]string{
	ipvs.OpAddService:        {unix.EEXIST: "Service already exists", unix.ENOENT: "Scheduler or persistence engine not found"},
	ipvs.OpEditService:       {unix.ESRCH: "No such service", unix.ENOENT: "Scheduler or persistence engine not found"},
	ipvs.OpDeleteService:     {unix.ESRCH: "No such service"},
	ipvs.OpZero:              {unix.ESRCH: "No such service"},
	ipvs.OpAddDestination:    {unix.ESRCH: "Service not defined", unix.EEXIST: "Destination already exists"},
	ipvs.OpEditDestination:   {unix.ESRCH: "Service not defined", unix.ENOENT: "No such destination"},
	ipvs.OpDeleteDestination: {unix.ESRCH: "Service not defined", unix.ENOENT: "No such destination"},
	ipvs.OpStartDaemon:       {unix.EEXIST: "Daemon has already run"},
	ipvs.OpStopDaemon:        {unix.ESRCH: "No daemon is running"},
	ipvs.OpServices:          {unix.ESRCH: "No such service"},
	ipvs.OpDestinations:      {unix.ESRCH: "No such service"},
	ipvs.OpService:           {unix.ESRCH: "No such service"},
}

// commonMessages apply to every operation.
var commonMessages = map[unix.Errno]string{
	unix.EPERM:        "Permission denied (you must be root)",
	unix.EINVAL:       "Invalid operation.  Possibly wrong module version, address not unicast, ...",
	unix.ENOPROTOOPT:  "Protocol not available",
	unix.ENOMEM:       "Memory allocation problem",
	unix.EOPNOTSUPP:   "Operation not supported with IPv6",
	unix.EAFNOSUPPORT: "Operation not supported with specified address family",
	unix.EMSGSIZE:     "Module is wrong version",
}

// kernelMessage is the line ipvsadm prints when op fails with err.
func kernelMessage(op ipvs.Op, err error) string {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return err.Error() // not a kernel answer: say what really failed
	}
	if msg, ok := opMessages[op][errno]; ok {
		return msg
	}
	if msg, ok := commonMessages[errno]; ok {
		return msg
	}
	return strerror(errno)
}

// strerror is glibc's text for errno. Go's table has glibc's wording in
// lower case.
func strerror(errno unix.Errno) string {
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
