// Package health runs the health checks of real servers (lvsadm run): it
// probes each one as its desired.Check says (tcp, http, https, udp, exec or
// none), counts consecutive results against rise and fall, and reports when
// a real server goes up or down (or an exec check changes its weight).
//
// A Checker runs one probe. A Scheduler runs many checks, each at a fixed
// rate after a random warmup, and keeps every real server's state:
//
//	s := health.New(health.Config{OnEvent: func(ev health.Event) {
//		// ev.Up, ev.Weight/ev.Weighted, ev.Reason: change the IPVS destination
//	}})
//	defer s.Close()
//	st, err := s.Set(key, check, health.Target{Addr: rs, Port: rport, VIP: vip, VPort: vport})
//	// st.Up is the initial state (initial_state); events report changes from then on
//	...
//	s.Remove(key)       // a real server left the configuration
//	all := s.Statuses() // for /status and metrics
//
// On a reload the caller calls Set again for every real server with a check
// and Remove for the keys that are gone: a check that has not changed keeps
// its schedule, counts and state; a changed one keeps its state (up or down,
// weight) but counts anew from its own warmup.
package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
)

// Target is what a check is about: a real server and its service.
type Target struct {
	// Addr and Port are the real server's. A check goes there unless its
	// ConnectAddr or ConnectPort say otherwise.
	Addr netip.Addr
	Port uint16
	// VIP and VPort are the service's address and port (VIP is the zero
	// Addr for a firewall-mark service).
	VIP   netip.Addr
	VPort uint16
	// Forward is the real server's forwarding method; a via_vip check
	// needs direct routing or a tunnel.
	Forward ipvs.ForwardMethod
}

// Result is the outcome of one check.
type Result struct {
	Up bool
	// Weighted is set when an exec check with DynamicWeight exited 2-255:
	// Weight is then the real server's new weight (status - 2).
	Weighted bool
	Weight   int
	// Reason says what happened in a few words: "tcp connect refused",
	// "http 503", "exec exit 1", "udp answer".
	Reason string
	// Time is when the check started and Latency how long it took; the
	// Scheduler sets both.
	Time    time.Time
	Latency time.Duration
}

// Checker runs one kind of check against one target.
type Checker interface {
	// Check probes once, within the check's timeout (and ctx); it never
	// blocks longer than the timeout plus the time to stop an exec check.
	Check(ctx context.Context) Result
}

// ViaVIPDialFunc dials vip, the service's address and the check's port, so
// that the packets reach the real server t.Addr through the load
// balancer's forwarding path (t.Forward: direct routing or tunnel), for
// checks with ViaVIP.
type ViaVIPDialFunc func(ctx context.Context, network string, vip netip.AddrPort, t Target) (net.Conn, error)

// Options are the settings of checkers that are not part of a check.
type Options struct {
	// ViaVIPDial makes the connections of checks with ViaVIP; while it is
	// nil such checks are refused with ErrViaVIP. lvsadm run's routes them
	// through IPVS itself (cmd/daemon).
	ViaVIPDial ViaVIPDialFunc
	// RootCAs verifies https servers' certificates when a check's Verify is
	// set; nil means the system's roots.
	RootCAs *x509.CertPool
}

// ErrViaVIP is the error of a check with ViaVIP when no Options.ViaVIPDial
// is given.
var ErrViaVIP = errors.New("via_vip checks need a dialer of the forwarding path (Options.ViaVIPDial)")

// bodyLimit is how much of an HTTP body a body regexp sees.
const bodyLimit = 64 << 10

// NewChecker returns the Checker of check c against t. It fails, saying
// why, if c cannot be run: an unknown type, a negative duration, an
// address or port missing, a bad path, an exec check without a command,
// or ViaVIP without Options.ViaVIPDial.
func NewChecker(c *desired.Check, t Target, opts Options) (Checker, error) {
	if err := validate(c); err != nil {
		return nil, err
	}
	if c.Type == desired.CheckNone {
		return noneChecker{}, nil
	}
	if c.Type == desired.CheckExec {
		if c.ViaVIP {
			return nil, errors.New("via_vip applies to tcp, http, https and udp checks, not exec")
		}
		return newExecChecker(c, t)
	}

	addr, port := t.Addr, t.Port
	if c.ConnectAddr.IsValid() {
		addr = c.ConnectAddr
	}
	if c.ConnectPort != 0 {
		port = c.ConnectPort
	}
	if port == 0 {
		switch c.Type {
		case desired.CheckHTTP:
			port = 80
		case desired.CheckHTTPS:
			port = 443
		}
	}
	if !addr.IsValid() {
		return nil, fmt.Errorf("%s check: no address to check", c.Type)
	}
	if port == 0 {
		return nil, fmt.Errorf("%s check of %s: no port to check (set connect_to's port)", c.Type, addr)
	}
	dst := netip.AddrPortFrom(addr, port)
	d := dialer{timeout: timeoutOf(c), addr: dst.String()}
	if c.ViaVIP {
		vip, err := viaVIPAddr(c, t, port)
		if err != nil {
			return nil, err
		}
		if opts.ViaVIPDial == nil {
			return nil, ErrViaVIP
		}
		d.via = func(ctx context.Context, network string) (net.Conn, error) {
			return opts.ViaVIPDial(ctx, network, vip, t)
		}
		dst = vip // for the Host header and SNI defaults
	}

	switch c.Type {
	case desired.CheckTCP:
		return &tcpChecker{d: d, addr: dst}, nil
	case desired.CheckUDP:
		return &udpChecker{d: d, send: c.Send, expect: c.Expect}, nil
	}
	return newHTTPChecker(c, dst, d, opts)
}

// validate refuses what cannot be run. Zero values that have an obvious
// default are taken as that default where they are used.
func validate(c *desired.Check) error {
	if c == nil {
		return errors.New("no check")
	}
	switch c.Type {
	case desired.CheckNone, desired.CheckTCP, desired.CheckHTTP, desired.CheckHTTPS, desired.CheckUDP, desired.CheckExec:
	default:
		return fmt.Errorf("unknown check type %q", c.Type)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"interval", c.Interval}, {"timeout", c.Timeout}, {"retry_interval", c.RetryInterval}, {"warmup", c.Warmup}} {
		if d.v < 0 {
			return fmt.Errorf("%s check: negative %s %v", c.Type, d.name, d.v)
		}
	}
	if c.Rise < 0 || c.Fall < 0 {
		return fmt.Errorf("%s check: negative rise or fall", c.Type)
	}
	if c.Type == desired.CheckExec && len(c.Command) == 0 {
		return errors.New("exec check: no command")
	}
	return nil
}

// viaVIPAddr is where a via_vip check connects: the service's address,
// with connect_to's port, else the service's, else (a service of every
// port) the check's port. The packets carry the VIP, so connect_to may not
// name another address.
func viaVIPAddr(c *desired.Check, t Target, port uint16) (netip.AddrPort, error) {
	if !t.VIP.IsValid() {
		return netip.AddrPort{}, errors.New("via_vip needs the service's address (not a firewall-mark service)")
	}
	if t.Forward != ipvs.Route && t.Forward != ipvs.Tunnel {
		return netip.AddrPort{}, fmt.Errorf("via_vip needs a real server with direct routing or a tunnel (-g or -i); %s forwards by %s", t.Addr, t.Forward)
	}
	if c.ConnectAddr.IsValid() {
		return netip.AddrPort{}, errors.New("via_vip sends the check to the service's address: connect_to may give a port, not an address")
	}
	vport := t.VPort
	if c.ConnectPort != 0 || vport == 0 {
		vport = port
	}
	return netip.AddrPortFrom(t.VIP, vport), nil
}

func timeoutOf(c *desired.Check) time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return desired.DefaultTimeout
}

// dialer opens a check's connection: directly, or through the via_vip hook.
type dialer struct {
	timeout time.Duration
	addr    string // host:port
	via     func(ctx context.Context, network string) (net.Conn, error)
}

// netDialer has no keep-alive: a check's connection lives for one probe.
var netDialer = net.Dialer{KeepAlive: -1}

func (d *dialer) dial(ctx context.Context, network string) (net.Conn, error) {
	if d.via != nil {
		return d.via(ctx, network)
	}
	return netDialer.DialContext(ctx, network, d.addr)
}

// noneChecker is always up.
type noneChecker struct{}

func (noneChecker) Check(context.Context) Result { return Result{Up: true, Reason: "none"} }

// tcpChecker connects and closes: on a Scheduler's connector where it has
// one and the check is not via_vip, else with package net.
type tcpChecker struct {
	d    dialer
	addr netip.AddrPort
}

// startChecker is a Checker that a Scheduler can start on its connector,
// without a goroutine of its own waiting for the result.
type startChecker interface {
	Checker
	// start begins a probe on c and reports true, and finish is called
	// once with its result (from c's reap or close, or from start itself);
	// or it reports false, and Check has to be used.
	start(c *connector, finish func(Result)) bool
}

func (c *tcpChecker) start(conn *connector, finish func(Result)) bool {
	if conn == nil || c.d.via != nil {
		return false
	}
	conn.start(c.addr, c.d.timeout, func(err error) {
		if err != nil {
			finish(Result{Reason: "tcp connect " + describe(context.Background(), err)})
			return
		}
		finish(Result{Up: true, Reason: "tcp connect ok"})
	})
	return true
}

func (c *tcpChecker) Check(ctx context.Context) Result {
	ctx, cancel := context.WithTimeout(ctx, c.d.timeout)
	defer cancel()
	conn, err := c.d.dial(ctx, "tcp")
	if err != nil {
		return Result{Reason: "tcp connect " + describe(ctx, err)}
	}
	// A reset instead of FIN leaves no TIME_WAIT socket behind for each
	// check on the load balancer.
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
	return Result{Up: true, Reason: "tcp connect ok"}
}

// describe says in a few words why a probe failed.
func describe(ctx context.Context, err error) string {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		recErr    tls.RecordHeaderError
		ne        net.Error
		ue        *url.Error
		oe        *net.OpError
	)
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() == context.Canceled:
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.As(err, &unknownCA):
		return "certificate signed by unknown authority"
	case errors.As(err, &hostname):
		return "certificate name mismatch: " + hostname.Error()
	case errors.As(err, &invalid):
		return "certificate invalid: " + invalid.Error()
	case errors.As(err, &recErr):
		return "no TLS answer"
	case errors.As(err, &oe):
		err = oe.Err
	case errors.As(err, &ue):
		err = ue.Err
	}
	return strings.TrimPrefix(err.Error(), "http: ")
}

// weightReason is an exec result's reason with its dynamic weight.
func weightReason(code, weight int) string {
	return "exec exit " + strconv.Itoa(code) + " (weight " + strconv.Itoa(weight) + ")"
}
