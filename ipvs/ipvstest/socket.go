package ipvstest

import (
	"errors"
	"iter"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// SocketConfig describes the netlink socket a fake connection models. The
// zero value (or nil) is the socket ipvs.Dial opens on a Linux host with
// default sysctls.
//
// The socket is modelled on net/netlink/af_netlink.c: replies wait in a
// receive queue whose size is accounted per datagram as the kernel accounts
// an skb (its data rounded up to the allocator's size, plus the skb's own
// overhead). A reply that finds the queue over the receive buffer is
// dropped, and the next read fails with ENOBUFS; after that every reply is
// dropped until a read empties the queue. Dumps are produced a chunk at a
// time, the first at the request and the next after each read that leaves
// the queue at most half full; a chunk is as large as the largest read the
// socket has made (at least NLMSG_GOODSIZE, at most 32 KiB less the skb
// overhead), and IPVS's dumps end with NLMSG_DONE in a chunk of its own.
// The socket has no file descriptor, so SO_RCVBUFFORCE cannot be set on it:
// it is refused, as in a container without CAP_NET_ADMIN over the host.
//
// Reads honour read deadlines: a read after the deadline fails with
// os.ErrDeadlineExceeded, and a read of an empty queue waits for it. Without one, a read of
// an empty queue returns no messages at once (a real socket would block for
// good), except while the kernel is unresponsive, when it waits until the
// connection is closed.
type SocketConfig struct {
	// ReadSize is the size of each read the connection makes
	// (netlink.Config.MessageBufferSize); 0 means 32 KiB, what ipvs.Dial
	// uses. A datagram longer than a read is truncated, and the read fails.
	ReadSize int
	// ReadBuffer is the initial receive buffer in bytes as SO_RCVBUF
	// reports it (net.core.rmem_default); 0 means 212992.
	ReadBuffer int
	// MaxReadBuffer is net.core.rmem_max, the largest request
	// SetReadBuffer grants (it doubles it, as Linux does); 0 means 212992.
	MaxReadBuffer int
	// WriteBuffer is the send buffer (net.core.wmem_default); a send
	// longer than it less 32 bytes fails with EMSGSIZE. 0 means 212992.
	WriteBuffer int
	// SkbExtra is added to what every datagram is charged against the
	// receive buffer, as by kernels whose struct sk_buff is larger
	// (debugging options, other architectures) than x86-64 6.1's.
	SkbExtra int
	// NoCapAck refuses NETLINK_CAP_ACK, as kernels before 4.3 do: error
	// replies then always carry the request.
	NoCapAck bool
}

// Kernel sizes the socket model uses (x86-64, 4 KiB pages, Linux 6.1).
const (
	defaultSockBuf = 212992 // net.core.{r,w}mem_{default,max}
	minSockBuf     = 4608   // SOCK_MIN_RCVBUF and SOCK_MIN_SNDBUF
	skbOverhead    = 256    // SKB_DATA_ALIGN(sizeof(struct sk_buff))
	skbSharedInfo  = 320    // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
	nlmsgGoodSize  = 4096 - skbSharedInfo
	maxDumpChunk   = 32768 - skbSharedInfo
	defaultRead    = 32 << 10
)

// answerFunc is the kernel behind a socket: its answer to one request.
type answerFunc func(greq genetlink.Message, nreq netlink.Message) (reply, error)

// datagram is one skb in the receive queue.
type datagram struct {
	msgs     []netlink.Message
	length   int // bytes a read returns
	truesize int // bytes charged to the receive buffer
}

// dumpState is a running dump: the entries not yet sent.
type dumpState struct {
	req     netlink.Message
	entries []netlink.Message
}

// socket implements netlink.Socket (the seam netlink.NewConn offers), with
// the deadline, buffer and option methods netlink.Conn looks for.
type socket struct {
	answer   answerFunc
	silent   func() bool   // whether the kernel is unresponsive; may be nil
	sends    *atomic.Int64 // counts sends if not nil
	pid      uint32
	readSize int
	rmemMax  int
	skbExtra int
	noCapAck bool

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced whenever the state changes
	queue     []datagram
	rmem      int // truesize of the queued datagrams
	rcvbuf    int
	sndbuf    int
	maxRecv   int  // nlk->max_recvmsg_len
	congested bool // NETLINK_S_CONGESTED
	sockErr   error
	failure   error // a non-errno error from the answer function
	capAck    bool
	noENOBUFS bool
	dump      *dumpState
	deadline  time.Time
	closed    bool
}

//lint:ignore SA1019 netlink.NewConn's Socket is the seam a fake socket plugs into; nltest uses it too.
var _ netlink.Socket = (*socket)(nil)

func newSocket(cfg *SocketConfig, answer answerFunc, silent func() bool, pid uint32) *socket {
	var c SocketConfig
	if cfg != nil {
		c = *cfg
	}
	orDefault := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	return &socket{
		answer:   answer,
		silent:   silent,
		pid:      pid,
		readSize: orDefault(c.ReadSize, defaultRead),
		rmemMax:  orDefault(c.MaxReadBuffer, defaultSockBuf),
		skbExtra: max(c.SkbExtra, 0),
		noCapAck: c.NoCapAck,
		rcvbuf:   orDefault(c.ReadBuffer, defaultSockBuf),
		sndbuf:   orDefault(c.WriteBuffer, defaultSockBuf),
		changed:  make(chan struct{}),
	}
}

// notify wakes readers waiting for a change. s.mu must be held.
func (s *socket) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *socket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return os.NewSyscallError("close", unix.EBADF)
	}
	s.closed = true
	s.notify()
	return nil
}

func (s *socket) Send(m netlink.Message) error { return s.SendMessages([]netlink.Message{m}) }

// SendMessages is netlink_sendmsg: the whole send is handled, in order,
// before it returns.
func (s *socket) SendMessages(msgs []netlink.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return os.NewSyscallError("sendmsg", unix.EBADF)
	}
	size := 0
	for i := range msgs {
		if msgs[i].Header.Length == 0 {
			msgs[i].Header.Length = uint32(16 + len(msgs[i].Data))
		}
		size += align4(int(msgs[i].Header.Length))
	}
	if size > s.sndbuf-32 {
		return os.NewSyscallError("sendmsg", unix.EMSGSIZE)
	}
	if s.sends != nil {
		s.sends.Add(1)
	}
	for _, m := range msgs {
		if err := s.handle(m); err != nil {
			s.failure = err
			break
		}
	}
	s.notify()
	return nil
}

// handle is netlink_rcv_skb and genetlink for one message.
func (s *socket) handle(req netlink.Message) error {
	ack := req.Header.Flags&netlink.Acknowledge != 0
	if req.Header.Flags&netlink.Request == 0 || req.Header.Type < uapi.NlmsgMinType {
		// Not a request, or a control message: only acknowledged.
		if ack {
			s.unicast(ackMessage(req))
		}
		return nil
	}
	var greq genetlink.Message
	if err := greq.UnmarshalBinary(req.Data); err != nil {
		s.unicast(errorMessage(req, unix.EINVAL, s.capAck))
		return nil
	}
	if s.silent != nil && s.silent() {
		return nil
	}
	r, err := s.answer(greq, req)
	switch {
	case err != nil:
		return err
	case r.errno != 0:
		s.unicast(errorMessage(req, r.errno, s.capAck))
	case r.multi:
		// netlink_dump_start: no ACK, even when asked for.
		if s.dump != nil {
			s.unicast(errorMessage(req, unix.EBUSY, s.capAck))
			return nil
		}
		entries, err := frame(req, r.msgs, netlink.Multi)
		if err != nil {
			return err
		}
		s.dump = &dumpState{req: req, entries: entries}
		s.dumpChunk()
	default:
		if len(r.msgs) > 0 {
			msgs, err := frame(req, r.msgs, 0)
			if err != nil {
				return err
			}
			s.unicast(msgs...)
		}
		if ack {
			s.unicast(ackMessage(req))
		}
	}
	return nil
}

// frame makes the netlink messages of generic-netlink replies to req.
func frame(req netlink.Message, replies []genetlink.Message, flags netlink.HeaderFlags) ([]netlink.Message, error) {
	out := make([]netlink.Message, 0, len(replies))
	for _, m := range replies {
		b, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		out = append(out, netlink.Message{
			Header: netlink.Header{
				Length: uint32(16 + len(b)), Type: req.Header.Type, Flags: flags,
				Sequence: req.Header.Sequence, PID: req.Header.PID,
			},
			Data: b,
		})
	}
	return out, nil
}

func wireLength(msgs []netlink.Message) int {
	n := 0
	for _, m := range msgs {
		n += align4(16 + len(m.Data))
	}
	return n
}

// truesize is what an skb allocated for size bytes of data costs the
// receive buffer: __alloc_skb rounds the data and its shared info up to a
// kmalloc size, and adds the struct sk_buff.
func truesize(size int) int {
	data := (size+63)&^63 + skbSharedInfo
	slab := 32
	for slab < data {
		switch slab {
		case 64:
			slab = 96
		case 96:
			slab = 128
		case 128:
			slab = 192
		case 192:
			slab = 256
		default:
			slab *= 2
		}
	}
	return slab + skbOverhead
}

// unicast is netlink_unicast of one reply datagram from the kernel: it is
// dropped when the queue is over the receive buffer or congested, and the
// first drop makes the next read fail with ENOBUFS (netlink_overrun).
func (s *socket) unicast(msgs ...netlink.Message) {
	n := wireLength(msgs)
	if s.rmem > s.rcvbuf || s.congested {
		if !s.noENOBUFS && !s.congested {
			s.congested = true
			s.sockErr = unix.ENOBUFS
		}
		return
	}
	s.enqueue(datagram{msgs: msgs, length: n, truesize: truesize(n) + s.skbExtra})
}

func (s *socket) enqueue(d datagram) {
	s.queue = append(s.queue, d)
	s.rmem += d.truesize
}

// dumpChunk is netlink_dump: the next chunk of the running dump, unless the
// queue is full. IPVS's dump callbacks return the chunk's length, so the
// end of the dump is found by a further call that adds no entry, and
// NLMSG_DONE travels alone.
func (s *socket) dumpChunk() {
	d := s.dump
	if d == nil || s.rmem >= s.rcvbuf {
		return
	}
	size := max(nlmsgGoodSize, s.maxRecv)
	n, length := 0, 0
	for n < len(d.entries) {
		l := align4(16 + len(d.entries[n].Data))
		if n > 0 && length+l > size {
			break
		}
		n, length = n+1, length+l
	}
	msgs := d.entries[:n]
	d.entries = d.entries[n:]
	if n == 0 {
		msgs = []netlink.Message{{
			Header: netlink.Header{
				Length: 20, Type: netlink.Done, Flags: netlink.Multi,
				Sequence: d.req.Header.Sequence, PID: d.req.Header.PID,
			},
			Data: make([]byte, 4), // the dump's status, 0
		}}
		length = 20
		s.dump = nil
	}
	s.enqueue(datagram{msgs: msgs, length: length, truesize: truesize(size) + s.skbExtra})
}

func (s *socket) Receive() ([]netlink.Message, error) {
	var msgs []netlink.Message
	for m, err := range s.ReceiveIter() {
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// ReceiveIter reads one datagram, as one recvmsg does.
func (s *socket) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		d, err := s.read()
		if err != nil {
			yield(netlink.Message{}, err)
			return
		}
		for _, m := range d.msgs {
			if !yield(m, nil) {
				return
			}
		}
	}
}

var errTruncated = errors.New("message truncated")

// read is netlink_recvmsg: a pending socket error first, then the oldest
// datagram.
func (s *socket) read() (datagram, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.closed:
			return datagram{}, os.NewSyscallError("recvmsg", unix.EBADF)
		case !s.deadline.IsZero() && !time.Now().Before(s.deadline):
			// Go's poller checks the deadline before it reads.
			return datagram{}, os.ErrDeadlineExceeded
		case s.sockErr != nil:
			err := s.sockErr
			s.sockErr = nil
			s.rcvWake()
			return datagram{}, os.NewSyscallError("recvmsg", err)
		case s.failure != nil:
			err := s.failure
			s.failure = nil
			return datagram{}, err
		case len(s.queue) > 0:
			d := s.queue[0]
			s.queue = s.queue[1:]
			s.rmem -= d.truesize
			s.maxRecv = min(max(s.maxRecv, s.readSize), maxDumpChunk)
			if s.dump != nil && s.rmem <= s.rcvbuf/2 {
				s.dumpChunk()
			}
			s.rcvWake()
			if d.length > s.readSize {
				return datagram{}, errTruncated
			}
			return d, nil
		}
		var timeout <-chan time.Time
		if !s.deadline.IsZero() {
			timer := time.NewTimer(time.Until(s.deadline))
			defer timer.Stop()
			timeout = timer.C
		} else if s.silent == nil || !s.silent() {
			return datagram{}, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timeout:
		}
		s.mu.Lock()
	}
}

// rcvWake is netlink_rcv_wake: an empty queue ends the congestion.
func (s *socket) rcvWake() {
	if len(s.queue) == 0 {
		s.congested = false
	}
}

func (s *socket) SetDeadline(t time.Time) error { return s.SetReadDeadline(t) }

func (s *socket) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadline = t
	s.notify()
	return nil
}

// SetWriteDeadline is accepted; sends never wait.
func (s *socket) SetWriteDeadline(time.Time) error { return nil }

// SetReadBuffer is SO_RCVBUF: the request, capped at rmem_max, doubled.
func (s *socket) SetReadBuffer(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcvbuf = sockBuf(n, s.rmemMax)
	return nil
}

// SetWriteBuffer is SO_SNDBUF, with wmem_max at its default.
func (s *socket) SetWriteBuffer(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sndbuf = sockBuf(n, defaultSockBuf)
	return nil
}

func sockBuf(n, limit int) int {
	if n < 0 || n > limit {
		n = limit
	}
	return max(2*n, minSockBuf)
}

func (s *socket) ReadBuffer() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcvbuf, nil
}

func (s *socket) WriteBuffer() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sndbuf, nil
}

// SetOption models NETLINK_CAP_ACK (unless refused, see SocketConfig) and
// NETLINK_NO_ENOBUFS, and accepts the other options without effect.
func (s *socket) SetOption(option netlink.ConnOption, enable bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch option {
	case netlink.CapAcknowledge:
		if s.noCapAck {
			return os.NewSyscallError("setsockopt", unix.ENOPROTOOPT)
		}
		s.capAck = enable
	case netlink.NoENOBUFS:
		s.noENOBUFS = enable
	}
	return nil
}
