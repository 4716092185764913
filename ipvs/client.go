package ipvs

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// Client talks to the kernel's IPVS over a generic-netlink socket (and a
// second one for the service dump, see Services). It is not safe for
// concurrent use.
type Client struct {
	nl     *netlink.Conn // the socket, for batches
	conn   *genetlink.Conn
	family uint16
	main   *dumpSocket // nl as a dump socket, made on first use when there is no dumpDial

	// dumpDial opens a socket for dumps that reads size bytes at a time;
	// nil means dumps use main. The service dump and the destination dumps
	// each get a socket of their own, opened on first use: the kernel sizes
	// every dump chunk by the largest read its socket has made, and the two
	// want opposite sizes.
	dumpDial func(size int) (*netlink.Conn, error)
	svcDump  *dumpSocket
	destDump *dumpSocket
	ns       *os.File // the namespace named by Config.NetNSPath, for dumpDial

	readBufferGrown bool
	seq             uint32 // sequence numbers of batched requests
}

// Config selects where a Client operates. The zero value (or nil) means the
// calling thread's network namespace.
type Config struct {
	// NetNSPath names a network namespace file (/run/netns/NAME,
	// /proc/PID/ns/net). It wins over NetNSFD.
	NetNSPath string
	// NetNSFD is an open network namespace file descriptor, still owned by
	// the caller, who must keep it open until Close.
	NetNSFD int
}

// New opens a client in the calling thread's network namespace.
func New() (*Client, error) { return Dial(nil) }

// Dial opens a client as cfg says. The socket is created inside the chosen
// namespace on a temporarily locked thread (mdlayher/netlink does this), so
// the calling goroutine's thread does not move.
//
// If the kernel has no IPVS family, the error matches ErrNotAvailable.
func Dial(cfg *Config) (*Client, error) {
	var (
		netns int
		ns    *os.File
	)
	if cfg != nil {
		netns = cfg.NetNSFD
		if cfg.NetNSPath != "" {
			f, err := os.Open(cfg.NetNSPath)
			if err != nil {
				return nil, &Error{Op: OpDial, Err: fmt.Errorf("network namespace: %w", err)}
			}
			ns, netns = f, int(f.Fd())
		}
	}
	// A fixed read buffer spares a peek before every read. 8 KiB holds any
	// reply on this socket: the kernel's dump chunks (it sizes them by the
	// largest read the socket has made) and every single reply.
	nl, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{NetNS: netns, MessageBufferSize: mainReadSize})
	if err == nil {
		var c *Client
		if c, err = NewFromConn(nl); err == nil {
			c.ns = ns
			c.dumpDial = func(size int) (*netlink.Conn, error) {
				return netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{NetNS: netns, MessageBufferSize: size})
			}
			return c, nil
		}
	}
	if ns != nil {
		ns.Close()
	}
	if _, ok := err.(*Error); !ok {
		err = &Error{Op: OpDial, Err: err}
	}
	return nil, err
}

// NewFromConn builds a client on an open generic-netlink socket and takes
// ownership of it (it is closed on failure and by Close). It is the seam
// for tests, e.g. with a fake kernel from package ipvstest; most programs
// should use New or Dial.
func NewFromConn(nl *netlink.Conn) (*Client, error) {
	conn := genetlink.NewConn(nl)
	fam, err := conn.GetFamily(uapi.FamilyName)
	if err != nil {
		conn.Close()
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("generic netlink family %q not found: %w", uapi.FamilyName, err)
		}
		return nil, &Error{Op: OpDial, Err: err}
	}
	return &Client{nl: nl, conn: conn, family: fam.ID}, nil
}

const (
	mainReadSize = 8 << 10
	// maxReadSize holds the largest dump chunk the kernel builds: it caps
	// the size it takes from earlier reads at 32 KiB. Reads of this size
	// make the service dump of a large table several times faster than
	// page-sized chunks.
	maxReadSize = 32 << 10
	// smallReadSize is for destination dumps, a few hundred bytes each: a
	// page less the kernel's skb overhead (NLMSG_GOODSIZE, 3776 on x86-64),
	// so that each chunk is one page. In the VM 10,000 destination dumps
	// took 3.7 s with 8 KiB reads, 2.5-3.2 s with 4 KiB and 2.2-2.5 s with
	// this. A kernel with larger chunks makes dump grow the buffers.
	smallReadSize = 3776
)

// yield is called between the system calls of long exchanges (batches,
// dumps). The Go runtime preempts a goroutine that has gone 10 ms without
// being rescheduled, time in system calls included, by signalling its
// thread; under a tracer (strace, a benchmark's ptrace) every such signal
// stops the whole process, and in an emulated VM a restore or listing of
// 100,000 entries took 90-350 of them, up to a tenth of its time. Yielding keeps
// the scheduler seeing progress and costs far less.
func yield() { runtime.Gosched() }

// Close releases the sockets.
func (c *Client) Close() error {
	for _, s := range []*dumpSocket{c.svcDump, c.destDump} {
		if s != nil {
			s.nl.Close()
		}
	}
	if c.ns != nil {
		c.ns.Close()
	}
	return c.conn.Close()
}

// request is the one place that builds, sends and receives. Mutations ask
// for an acknowledgement so success is observable; GET requests must not,
// or an extra ack message would follow the reply.
func (c *Client) request(op Op, cmd uint8, flags netlink.HeaderFlags, attrs requestAttrs) ([]genetlink.Message, error) {
	msg := genetlink.Message{Header: genetlink.Header{Command: cmd, Version: uapi.FamilyVersion}}
	var w wire
	w.request(&attrs)
	msg.Data = w.b
	msgs, err := c.conn.Execute(msg, c.family, netlink.Request|flags)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	return msgs, nil
}

func (c *Client) mutate(op Op, cmd uint8, attrs requestAttrs) error {
	_, err := c.request(op, cmd, netlink.Acknowledge, attrs)
	return err
}

// decodeReplies runs fn over the attributes of every reply.
func decodeReplies(op Op, msgs []genetlink.Message, fn func(attrReader) error) error {
	for _, m := range msgs {
		if err := fn(attrReader{b: m.Data}); err != nil {
			return &Error{Op: op, Err: err}
		}
	}
	return nil
}

// appendNests decodes each top-level attribute of type attr in one reply's
// attributes and adds it to dst, or to more once dst is full.
func appendNests[T any](dst []T, more *overflow[T], payload []byte, attr uint16, decode func(attrReader) (T, error)) ([]T, error) {
	r := attrReader{b: payload}
	for r.next() {
		if r.typ != attr {
			continue
		}
		v, err := decode(r.nested())
		if err != nil {
			return dst, err
		}
		dst = more.add(dst, v)
	}
	return dst, r.err
}

// decodeNests collects, from every reply, each top-level attribute of type
// attr decoded by decode.
func decodeNests[T any](op Op, msgs []genetlink.Message, attr uint16, decode func(attrReader) (T, error)) ([]T, error) {
	out := make([]T, 0, len(msgs))
	var more overflow[T]
	var err error
	for _, m := range msgs {
		if out, err = appendNests(out, &more, m.Data, attr, decode); err != nil {
			return more.appendTo(out), &Error{Op: op, Err: err}
		}
	}
	return more.appendTo(out), nil
}

// Info returns the kernel's IPVS version and connection table size.
func (c *Client) Info() (Info, error) {
	msgs, err := c.request(OpInfo, uapi.CmdGetInfo, 0, requestAttrs{})
	if err != nil {
		return Info{}, err
	}
	var info Info
	err = decodeReplies(OpInfo, msgs, func(r attrReader) error {
		for r.next() {
			switch r.typ {
			case uapi.InfoAttrVersion:
				info.Version = r.u32("version")
			case uapi.InfoAttrConnTabSize:
				info.ConnTableSize = r.u32("connection table size")
			}
		}
		return r.err
	})
	return info, err
}

func decodeServiceReplies(op Op, msgs []genetlink.Message) ([]ServiceEntry, error) {
	return decodeNests(op, msgs, uapi.CmdAttrService, decodeService)
}

// Services lists every virtual service, in the kernel's order. An empty
// table is an empty slice, not an error. The dump goes over a second socket
// that reads in 32 KiB pieces, opened on first use.
func (c *Client) Services() ([]ServiceEntry, error) {
	svcs, err := c.AppendServices(nil)
	if svcs == nil && err == nil {
		svcs = []ServiceEntry{}
	}
	return svcs, err
}

// AppendServices appends every service to dst, as Services lists them.
// Services that do not fit in dst's capacity are collected in chunks, and
// dst grows once, to its final size, at the end of the dump.
func (c *Client) AppendServices(dst []ServiceEntry) ([]ServiceEntry, error) {
	sock, err := c.dumpSocket(&c.svcDump, maxReadSize)
	if err != nil {
		return dst, &Error{Op: OpServices, Err: err}
	}
	start := len(dst)
	var more overflow[ServiceEntry]
	err = c.dump(sock, uapi.CmdGetService, requestAttrs{}, func(payload []byte) error {
		var err error
		dst, err = appendNests(dst, &more, payload, uapi.CmdAttrService, decodeService)
		return err
	}, func() { dst, more = dst[:start], overflow[ServiceEntry]{} })
	if err != nil {
		return dst[:start], &Error{Op: OpServices, Err: err}
	}
	dst = more.appendTo(dst)
	return dst[:start+len(dropRepeats(dst[start:]))], nil
}

// overflow holds what a dump decodes past its destination slice's
// capacity, in chunks that double up to overflowChunkMax entries. A dump's
// size is known only at its end; append would grow the slice a quarter at a
// time once it is large, allocating about five times its final size (8 MB
// for 10,000 services), where chunks and one final copy allocate two.
type overflow[T any] struct {
	chunks [][]T
	n      int
}

const overflowChunkMax = 4096

// add appends v to dst while dst has room, otherwise to the chunks.
func (o *overflow[T]) add(dst []T, v T) []T {
	if o.n == 0 && len(dst) < cap(dst) {
		return append(dst, v)
	}
	k := len(o.chunks) - 1
	if k < 0 || len(o.chunks[k]) == cap(o.chunks[k]) {
		o.chunks = append(o.chunks, make([]T, 0, min(max(16, len(dst)+o.n), overflowChunkMax)))
		k++
	}
	o.chunks[k] = append(o.chunks[k], v)
	o.n++
	return dst
}

// appendTo appends the chunks to dst, growing it at most once.
func (o *overflow[T]) appendTo(dst []T) []T {
	if o.n == 0 {
		return dst
	}
	dst = slices.Grow(dst, o.n)
	for _, c := range o.chunks {
		dst = append(dst, c...)
	}
	*o = overflow[T]{}
	return dst
}

// dumpSocket returns *sock, dialing it with reads of size first if the
// client dials dump sockets; otherwise the main socket.
func (c *Client) dumpSocket(sock **dumpSocket, size int) (*dumpSocket, error) {
	if c.dumpDial == nil {
		if c.main == nil {
			// The caller's socket may have read with any size up to the
			// kernel's cap on dump chunks, so dumps read with the cap.
			c.main = newDumpSocket(c.nl, maxReadSize)
		}
		return c.main, nil
	}
	if *sock == nil {
		nl, err := c.dumpDial(size)
		if err != nil {
			return nil, err
		}
		*sock = newDumpSocket(nl, size)
	}
	return *sock, nil
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
	msgs, err := c.request(OpService, uapi.CmdGetService, 0, requestAttrs{key: &k})
	if err != nil {
		return ServiceEntry{}, err
	}
	svcs, err := decodeServiceReplies(OpService, msgs)
	if err != nil {
		return ServiceEntry{}, err
	}
	if len(svcs) != 1 {
		return ServiceEntry{}, &Error{Op: OpService, Err: fmt.Errorf("%w: %d services in reply, want 1", errInvalidReply, len(svcs))}
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
	return c.AppendDestinations(nil, k)
}

// AppendDestinations appends a service's destinations to dst, as
// Destinations lists them, and returns the extended slice; on error, dst
// unchanged. Listing many services into one reused slice allocates nothing
// per service.
func (c *Client) AppendDestinations(dst []DestinationEntry, k ServiceKey) ([]DestinationEntry, error) {
	n := len(dst)
	sock, err := c.dumpSocket(&c.destDump, smallReadSize)
	if err != nil {
		return dst, &Error{Op: OpDestinations, Err: err}
	}
	err = c.dump(sock, uapi.CmdGetDest, requestAttrs{key: &k}, func(payload []byte) error {
		var err error
		dst, err = appendDestinations(dst, payload, k.Family)
		return err
	}, func() { dst = dst[:n] })
	if err != nil {
		return dst[:n], &Error{Op: OpDestinations, Err: err}
	}
	if dst == nil {
		dst = []DestinationEntry{}
	}
	return dst, nil
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
	msgs, err := c.request(OpDaemons, uapi.CmdGetDaemon, netlink.Dump, requestAttrs{})
	if err != nil {
		return nil, err
	}
	return decodeNests(OpDaemons, msgs, uapi.CmdAttrDaemon, decodeDaemon)
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
	msgs, err := c.request(OpTimeouts, uapi.CmdGetConfig, 0, requestAttrs{})
	if err != nil {
		return Timeouts{}, err
	}
	var t Timeouts
	err = decodeReplies(OpTimeouts, msgs, func(r attrReader) error {
		for r.next() {
			switch r.typ {
			case uapi.CmdAttrTimeoutTCP:
				t.TCP = r.u32("TCP timeout")
			case uapi.CmdAttrTimeoutTCPFin:
				t.TCPFin = r.u32("TCP FIN timeout")
			case uapi.CmdAttrTimeoutUDP:
				t.UDP = r.u32("UDP timeout")
			}
		}
		return r.err
	})
	return t, err
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
