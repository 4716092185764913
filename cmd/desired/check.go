package desired

import (
	"net/netip"
	"regexp"
	"time"
)

// CheckType is the kind of a health check.
type CheckType string

// Check types.
const (
	CheckNone  CheckType = "none"  // always up
	CheckTCP   CheckType = "tcp"   // a TCP connection is accepted
	CheckHTTP  CheckType = "http"  // an HTTP request gets an expected answer
	CheckHTTPS CheckType = "https" // the same over TLS
	CheckUDP   CheckType = "udp"   // a datagram is answered (or at least not refused)
	CheckExec  CheckType = "exec"  // a command exits 0 (or 2-255: up with weight code-2)
)

// What a failed real server becomes.
const (
	OnFailureQuiesce = "quiesce" // weight 0: existing connections go on, no new ones
	OnFailureRemove  = "remove"  // deleted (drained first if apply's drain timeout is set)
)

// Check is a real server's health check, with every default filled in.
// A service's health_check is the default for its real servers; a real
// server's own health_check overrides it key by key.
type Check struct {
	Type CheckType

	// Interval is the time from the start of one check to the start of
	// the next; Timeout bounds one check. RetryInterval replaces Interval
	// after a failure that has not yet made an up server down (keepalived's
	// delay_before_retry); default Interval.
	Interval, Timeout, RetryInterval time.Duration
	// Rise consecutive successes make a down server up; Fall consecutive
	// failures make an up server down.
	Rise, Fall int
	// Warmup: the first check runs at a random time within it, so that
	// many checks do not start together.
	Warmup time.Duration

	// ConnectAddr and ConnectPort, when set, are where the check goes
	// instead of the real server's address and port.
	ConnectAddr netip.Addr
	ConnectPort uint16
	// ViaVIP sends the check to the service's address through the
	// forwarding path to the real server (direct routing and tunnel real
	// servers), so that it proves what clients use.
	ViaVIP bool

	// HTTP and HTTPS.
	Method string         // default GET
	Path   string         // default /
	Host   string         // the Host header; default the address checked
	Status []StatusRange  // acceptable status codes; default 200-299
	Body   *regexp.Regexp // the body must match, if set
	SNI    string         // TLS server name; default Host
	Verify bool           // verify the server's certificate (default false: most real servers present certificates for the VIP's name)

	// UDP: Send is sent; if Expect is set the answer must match it, else
	// any answer or silence until Timeout is up, and an ICMP refusal is down.
	Send   []byte
	Expect *regexp.Regexp

	// Exec: Command runs with the real server's address and port in its
	// environment (LVSADM_ADDRESS, LVSADM_PORT, LVSADM_VIP, LVSADM_VPORT).
	// Exit status 0 is up and 1 down; with DynamicWeight (the default, as
	// keepalived's misc_dynamic) 2-255 is up with weight status-2, without
	// it every status but 0 is down.
	Command       []string
	DynamicWeight bool

	// OnFailure is OnFailureQuiesce (default) or OnFailureRemove.
	OnFailure string
	// InitialUp is the state before the first results (initial_state: up,
	// the default; down needs Rise successes before traffic).
	InitialUp bool
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Min, Max int }

// Contains reports whether code is in the range.
func (r StatusRange) Contains(code int) bool { return r.Min <= code && code <= r.Max }

// Check defaults.
const (
	DefaultInterval = 5 * time.Second
	DefaultTimeout  = 2 * time.Second
	DefaultRise     = 2
	DefaultFall     = 3
)
