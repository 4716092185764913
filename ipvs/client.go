package ipvs

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mdlayher/netlink"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// Client talks to the kernel's IPVS over one generic-netlink socket. It is
// not safe for concurrent use.
type Client struct {
	nl      *netlink.Conn
	family  uint16
	timeout time.Duration // 0: none
	ns      *os.File      // the namespace named by Config.NetNSPath

	// A request whose replies were not all read (a timeout, a lost reply)
	// leaves the socket out of step; the next request first reads up to an
	// acknowledged no-op. overrun says the receive buffer overflowed, after
	// which the kernel drops every reply until the queue has been emptied.
	stale, overrun bool

	batch batchSocket
}

// Config selects where a Client operates and how it waits. The zero value
// (or nil) means the calling thread's network namespace and the defaults.
type Config struct {
	// NetNSPath names a network namespace file (/run/netns/NAME,
	// /proc/PID/ns/net). It wins over NetNSFD.
	NetNSPath string
	// NetNSFD is an open network namespace file descriptor, still owned by
	// the caller, who must keep it open until Close.
	NetNSFD int

	// ReceiveTimeout bounds the wait for each reply from the kernel; a
	// request that gets none in time fails instead of hanging. 0 means
	// 30 seconds; a negative value means no limit.
	ReceiveTimeout time.Duration

	// ReceiveBuffer, when positive, is the receive buffer a batch asks for
	// with SO_RCVBUF (Linux grants up to net.core.rmem_max, doubled), as in
	// a container where SO_RCVBUFFORCE is refused. 0 means a batch first
	// tries to force a buffer large enough for its windows. Batches size
	// their windows by the buffer they get either way.
	ReceiveBuffer int

	// Conn, when set, is an open generic-netlink connection to use instead
	// of dialing one (a fake kernel from package ipvstest, for instance);
	// the namespace fields are then ignored. The Client owns it from then
	// on.
	Conn *netlink.Conn
}

const defaultReceiveTimeout = 30 * time.Second

// New opens a client in the calling thread's network namespace.
func New() (*Client, error) { return Dial(nil) }

// Dial opens a client as cfg says. The socket is created inside the chosen
// namespace on a temporarily locked thread (mdlayher/netlink does this), so
// the calling goroutine's thread does not move.
//
// If the kernel has no IPVS family, or the system is not Linux, the error
// matches ErrNotAvailable.
func Dial(cfg *Config) (*Client, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Conn != nil {
		return newClient(c.Conn, &c, nil)
	}
	nl, ns, err := dialSocket(&c)
	if err != nil {
		return nil, &Error{Op: OpDial, Err: err}
	}
	return newClient(nl, &c, ns)
}

// NewFromConn builds a client with the default settings on an open
// generic-netlink connection and takes ownership of it (it is closed on
// failure and by Close). It is the seam for tests, e.g. with a fake kernel
// from package ipvstest; it is Dial(&Config{Conn: nl}).
func NewFromConn(nl *netlink.Conn) (*Client, error) {
	return Dial(&Config{Conn: nl})
}

func newClient(nl *netlink.Conn, cfg *Config, ns *os.File) (*Client, error) {
	c := &Client{nl: nl, timeout: cfg.ReceiveTimeout, ns: ns}
	switch {
	case c.timeout == 0:
		c.timeout = defaultReceiveTimeout
	case c.timeout < 0:
		c.timeout = 0
	}
	c.batch.fixedBuffer = cfg.ReceiveBuffer
	if err := c.lookupFamily(); err != nil {
		c.Close()
		return nil, &Error{Op: OpDial, Err: err}
	}
	return c, nil
}

// lookupFamily asks the generic-netlink controller for the IPVS family's ID.
func (c *Client) lookupFamily() error {
	ae := netlink.NewAttributeEncoder()
	ae.String(uapi.CtrlAttrFamilyName, uapi.FamilyName)
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	msgs, err := c.execute(netlink.Message{
		Header: netlink.Header{Type: uapi.GenlIDCtrl, Flags: netlink.Request},
		Data:   append([]byte{uapi.CtrlCmdGetFamily, 1, 0, 0}, attrs...),
	})
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("generic netlink family %q not found: %w", uapi.FamilyName, err)
		}
		return err
	}
	var id uint16
	err = decodeAttrs(genlPayload(msgs[0]), func(ad *netlink.AttributeDecoder) {
		if ad.Type() == uapi.CtrlAttrFamilyID {
			id = ad.Uint16()
		}
	})
	if err == nil && id == 0 {
		err = errors.New("no family ID")
	}
	if err != nil {
		return invalid("family", err)
	}
	c.family = id
	return nil
}

// Close releases the socket.
func (c *Client) Close() error {
	if c.ns != nil {
		c.ns.Close()
	}
	return c.nl.Close()
}

// message builds a request of command cmd with the attributes attrs names.
func (c *Client) message(cmd uint8, flags netlink.HeaderFlags, attrs *requestAttrs) (netlink.Message, error) {
	data, err := encodeRequest(cmd, attrs)
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: netlink.Request | flags},
		Data:   data,
	}, err
}

// get sends a request that the kernel answers with one message, a doit's
// reply, and returns that message's attributes.
func (c *Client) get(op Op, cmd uint8, attrs requestAttrs) ([]byte, error) {
	m, err := c.message(cmd, 0, &attrs)
	if err == nil {
		var msgs []netlink.Message
		if msgs, err = c.execute(m); err == nil {
			return genlPayload(msgs[0]), nil
		}
	}
	return nil, &Error{Op: op, Subject: attrs.subject(op), Err: err}
}

// mutate sends a change and waits for its acknowledgement.
func (c *Client) mutate(op Op, cmd uint8, attrs requestAttrs) error {
	m, err := c.message(cmd, netlink.Acknowledge, &attrs)
	if err == nil {
		_, err = c.execute(m)
	}
	if err != nil {
		return &Error{Op: op, Subject: attrs.subject(op), Err: err}
	}
	return nil
}

// dumpAll sends a dump request and passes the attributes of every reply to fn.
func (c *Client) dumpAll(op Op, cmd uint8, attrs requestAttrs, fn func(payload []byte) error) error {
	m, err := c.message(cmd, netlink.Dump, &attrs)
	if err == nil {
		err = c.dump(m, fn)
	}
	if err != nil {
		return &Error{Op: op, Subject: attrs.subject(op), Err: err}
	}
	return nil
}

// Info returns the kernel's IPVS version and connection table size.
func (c *Client) Info() (Info, error) {
	payload, err := c.get(OpInfo, uapi.CmdGetInfo, requestAttrs{})
	if err != nil {
		return Info{}, err
	}
	var info Info
	err = decodeAttrs(payload, func(ad *netlink.AttributeDecoder) {
		switch ad.Type() {
		case uapi.InfoAttrVersion:
			info.Version = ad.Uint32()
		case uapi.InfoAttrConnTabSize:
			info.ConnTableSize = ad.Uint32()
		}
	})
	if err != nil {
		return Info{}, &Error{Op: OpInfo, Err: invalid("info", err)}
	}
	return info, nil
}

// Services lists every virtual service, in the kernel's order. An empty
// table is an empty slice, not an error.
func (c *Client) Services() ([]ServiceEntry, error) {
	svcs := []ServiceEntry{}
	err := c.dumpAll(OpServices, uapi.CmdGetService, requestAttrs{}, func(payload []byte) error {
		var err error
		svcs, err = decodeNests(svcs, payload, uapi.CmdAttrService, decodeService)
		return err
	})
	if err != nil {
		return nil, err
	}
	return dropRepeats(svcs), nil
}

// dropRepeats keeps the first of services listed twice. The kernel resumes a
// service dump by position in its table, which is shared by all network
// namespaces, so changes in another namespace between two dump chunks can
// make it list a service again.
func dropRepeats(svcs []ServiceEntry) []ServiceEntry {
	seen := make(map[ServiceKey]bool, len(svcs))
	out := svcs[:0]
	for _, s := range svcs {
		if !seen[s.ServiceKey] {
			seen[s.ServiceKey] = true
			out = append(out, s)
		}
	}
	return out
}

// Service fetches one service. A missing one matches ErrServiceNotFound.
func (c *Client) Service(k ServiceKey) (ServiceEntry, error) {
	payload, err := c.get(OpService, uapi.CmdGetService, requestAttrs{key: &k})
	if err != nil {
		return ServiceEntry{}, err
	}
	svcs, err := decodeNests(nil, payload, uapi.CmdAttrService, decodeService)
	if err == nil && len(svcs) != 1 {
		err = fmt.Errorf("%w: %d services in the reply, want 1", errInvalidReply, len(svcs))
	}
	if err != nil {
		return ServiceEntry{}, &Error{Op: OpService, Subject: k.describe(), Err: err}
	}
	return svcs[0], nil
}

// AddService creates a service. Errors match ErrServiceExists and
// ErrSchedulerNotFound.
func (c *Client) AddService(s Service) error {
	return c.mutate(OpAddService, uapi.CmdNewService, requestAttrs{service: &s})
}

// EditService replaces every setting of an existing service (scheduler,
// persistence engine, flags, timeout, netmask). Errors match
// ErrServiceNotFound and ErrSchedulerNotFound.
func (c *Client) EditService(s Service) error {
	return c.mutate(OpEditService, uapi.CmdSetService, requestAttrs{service: &s})
}

// DeleteService removes a service and its destinations.
func (c *Client) DeleteService(k ServiceKey) error {
	return c.mutate(OpDeleteService, uapi.CmdDelService, requestAttrs{key: &k})
}

// Destinations lists a service's destinations in the kernel's order. The
// kernel answers an unknown service with an empty list, not an error.
func (c *Client) Destinations(k ServiceKey) ([]DestinationEntry, error) {
	dests := []DestinationEntry{}
	family := k.family()
	decode := func(b []byte) (DestinationEntry, error) { return decodeDestination(b, family) }
	err := c.dumpAll(OpDestinations, uapi.CmdGetDest, requestAttrs{key: &k}, func(payload []byte) error {
		var err error
		dests, err = decodeNests(dests, payload, uapi.CmdAttrDest, decode)
		return err
	})
	if err != nil {
		return nil, err
	}
	return dests, nil
}

// AddDestination adds a real server to a service. Errors match
// ErrServiceNotFound and ErrDestinationExists; the kernel answers ERANGE for
// a weight >= 2^31 or a lower threshold above the upper one.
func (c *Client) AddDestination(k ServiceKey, d Destination) error {
	return c.mutate(OpAddDestination, uapi.CmdNewDest, requestAttrs{key: &k, dest: &d})
}

// EditDestination replaces every setting of a destination. Errors match
// ErrServiceNotFound and ErrDestinationNotFound.
func (c *Client) EditDestination(k ServiceKey, d Destination) error {
	return c.mutate(OpEditDestination, uapi.CmdSetDest, requestAttrs{key: &k, dest: &d})
}

// DeleteDestination removes the destination with d's family, address and port.
func (c *Client) DeleteDestination(k ServiceKey, d Destination) error {
	return c.mutate(OpDeleteDestination, uapi.CmdDelDest, requestAttrs{key: &k, destKey: &d})
}

// Daemons lists the running synchronisation daemons (at most a master and a
// backup).
func (c *Client) Daemons() ([]Daemon, error) {
	daemons := []Daemon{}
	err := c.dumpAll(OpDaemons, uapi.CmdGetDaemon, requestAttrs{}, func(payload []byte) error {
		var err error
		daemons, err = decodeNests(daemons, payload, uapi.CmdAttrDaemon, decodeDaemon)
		return err
	})
	if err != nil {
		return nil, err
	}
	return daemons, nil
}

// StartDaemon starts a synchronisation daemon. Errors match ErrDaemonRunning;
// an unknown interface gives ENODEV.
func (c *Client) StartDaemon(d Daemon) error {
	return c.mutate(OpStartDaemon, uapi.CmdNewDaemon, requestAttrs{daemon: &d})
}

// StopDaemon stops the daemon in d.State. Errors match ErrDaemonNotRunning.
func (c *Client) StopDaemon(d Daemon) error {
	return c.mutate(OpStopDaemon, uapi.CmdDelDaemon, stopDaemonAttrs(d))
}

// Timeouts returns the TCP, TCP-FIN and UDP connection timeouts.
func (c *Client) Timeouts() (Timeouts, error) {
	payload, err := c.get(OpTimeouts, uapi.CmdGetConfig, requestAttrs{})
	if err != nil {
		return Timeouts{}, err
	}
	var t Timeouts
	err = decodeAttrs(payload, func(ad *netlink.AttributeDecoder) {
		switch ad.Type() {
		case uapi.CmdAttrTimeoutTCP:
			t.TCP = ad.Uint32()
		case uapi.CmdAttrTimeoutTCPFin:
			t.TCPFin = ad.Uint32()
		case uapi.CmdAttrTimeoutUDP:
			t.UDP = ad.Uint32()
		}
	})
	if err != nil {
		return Timeouts{}, &Error{Op: OpTimeouts, Err: invalid("timeouts", err)}
	}
	return t, nil
}

// SetTimeouts sets the connection timeouts; a zero field is left unchanged.
func (c *Client) SetTimeouts(t Timeouts) error {
	return c.mutate(OpSetTimeouts, uapi.CmdSetConfig, requestAttrs{timeouts: &t})
}

// ZeroAll zeroes the counters of every service and destination.
func (c *Client) ZeroAll() error { return c.mutate(OpZero, uapi.CmdZero, requestAttrs{}) }

// ZeroService zeroes the counters of one service and its destinations.
func (c *Client) ZeroService(k ServiceKey) error {
	return c.mutate(OpZero, uapi.CmdZero, requestAttrs{key: &k})
}

// Flush removes every service.
func (c *Client) Flush() error { return c.mutate(OpFlush, uapi.CmdFlush, requestAttrs{}) }
