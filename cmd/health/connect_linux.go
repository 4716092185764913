package health

import (
	"container/heap"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// connector makes the TCP connections of tcp checks as keepalived's checker
// thread does: a non-blocking connect per check, all of them in one epoll
// set, and one goroutine that reaps them and enforces their timeouts. A
// check costs its system calls (socket, connect, epoll_ctl, close) and no
// goroutine, timer, context or poller registration of its own. The
// goroutine waits for the epoll set in Go's poller (an epoll descriptor is
// readable while it has events), with a read deadline at the earliest
// timeout, rather than in a blocking epoll_wait that would hold a thread.
type connector struct {
	epfd int
	set  *os.File // epfd, for the poller
	rc   syscall.RawConn

	mu         sync.Mutex
	closed     bool
	pending    map[int32]*connectProbe // by socket
	byDeadline probeHeap
	seq        uint32
	sleepUntil time.Time // the read deadline of the loop's wait; zero: none
	done       chan struct{}
}

// connectProbe is one connection under way.
type connectProbe struct {
	fd       int32
	seq      uint32 // tells a reused descriptor number from this probe's
	deadline time.Time
	index    int // in byDeadline
	finish   func(error)
}

// errConnectTimeout is a connection not made within its timeout.
var errConnectTimeout = os.ErrDeadlineExceeded

// errConnectorClosed ends the connections under way at Close.
var errConnectorClosed = errors.New("canceled")

func newConnector() (*connector, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	// Non-blocking, so that os.NewFile hands it to the poller.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	set := os.NewFile(uintptr(epfd), "epoll")
	rc, err := set.SyscallConn()
	if err != nil {
		set.Close()
		return nil, err
	}
	c := &connector{epfd: epfd, set: set, rc: rc, pending: map[int32]*connectProbe{}, done: make(chan struct{})}
	go c.loop()
	return c, nil
}

// start connects to addr and calls finish, from the connector's goroutine
// or (when the connection cannot even be started) from start's, with nil
// once the connection is made (and reset at once), the connect's error,
// errConnectTimeout after timeout, or errConnectorClosed.
func (c *connector) start(addr netip.AddrPort, timeout time.Duration, finish func(error)) {
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	if addr.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: addr.Addr().As16(), ZoneId: zoneID(addr.Addr())}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		finish(os.NewSyscallError("socket", err))
		return
	}
	switch err := unix.Connect(fd, sa); err {
	case nil:
		finish(reset(fd))
		return
	case unix.EINPROGRESS:
	default:
		unix.Close(fd)
		finish(os.NewSyscallError("connect", err))
		return
	}

	p := &connectProbe{fd: int32(fd), deadline: time.Now().Add(timeout), finish: finish}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		unix.Close(fd)
		finish(errConnectorClosed)
		return
	}
	c.seq++
	p.seq = c.seq
	// Registered under the lock, so that the loop neither sees an event of
	// a probe it does not know nor times one out before it is registered.
	// The sequence number rides in the event's data beside the descriptor.
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT, Fd: p.fd, Pad: int32(p.seq)}
	if err := unix.EpollCtl(c.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		c.mu.Unlock()
		unix.Close(fd)
		finish(os.NewSyscallError("epoll_ctl", err))
		return
	}
	c.pending[p.fd] = p
	heap.Push(&c.byDeadline, p)
	if c.sleepUntil.IsZero() || p.deadline.Before(c.sleepUntil) {
		c.sleepUntil = p.deadline
		c.set.SetReadDeadline(p.deadline)
	}
	c.mu.Unlock()
}

// reset ends a made connection with a reset, which leaves no TIME_WAIT
// socket behind on the load balancer for every check.
func reset(fd int) error {
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
	return os.NewSyscallError("close", unix.Close(fd))
}

func zoneID(a netip.Addr) uint32 {
	if a.Zone() == "" {
		return 0
	}
	if iface, err := net.InterfaceByName(a.Zone()); err == nil {
		return uint32(iface.Index)
	}
	return 0
}

// take removes the probe of fd if it is still the one numbered seq.
func (c *connector) take(fd int32, seq uint32) *connectProbe {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending[fd]
	if p == nil || p.seq != seq {
		return nil
	}
	delete(c.pending, fd)
	heap.Remove(&c.byDeadline, p.index)
	return p
}

func (c *connector) loop() {
	defer close(c.done)
	events := make([]unix.EpollEvent, 256)
	var expired []*connectProbe
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		c.sleepUntil = time.Time{}
		if len(c.byDeadline) > 0 {
			c.sleepUntil = c.byDeadline[0].deadline
		}
		c.set.SetReadDeadline(c.sleepUntil)
		c.mu.Unlock()

		// Reap what is ready; wait in the poller while nothing is, until
		// the deadline (the error then says so, and the timeouts run).
		n := 0
		c.rc.Read(func(fd uintptr) bool {
			var err error
			n, err = unix.EpollWait(int(fd), events, 0)
			return err != unix.EINTR && n != 0
		})
		for _, ev := range events[:max(n, 0)] {
			p := c.take(ev.Fd, uint32(ev.Pad))
			if p == nil {
				continue
			}
			fd := int(p.fd)
			if ev.Events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
				errno, gerr := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
				unix.Close(fd)
				switch {
				case gerr != nil:
					p.finish(os.NewSyscallError("getsockopt", gerr))
				case errno != 0:
					p.finish(os.NewSyscallError("connect", unix.Errno(errno)))
				default:
					p.finish(os.NewSyscallError("connect", unix.ECONNRESET))
				}
				continue
			}
			p.finish(reset(fd))
		}

		now := time.Now()
		c.mu.Lock()
		for len(c.byDeadline) > 0 && !c.byDeadline[0].deadline.After(now) {
			p := heap.Pop(&c.byDeadline).(*connectProbe)
			delete(c.pending, p.fd)
			expired = append(expired, p)
		}
		c.mu.Unlock()
		for i, p := range expired {
			unix.Close(int(p.fd))
			p.finish(errConnectTimeout)
			expired[i] = nil
		}
		expired = expired[:0]
	}
}

// close ends the connections under way with errConnectorClosed and stops
// the loop.
func (c *connector) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.set.SetReadDeadline(time.Unix(1, 0)) // ends the loop's wait
	c.mu.Unlock()
	<-c.done
	c.mu.Lock()
	probes := c.byDeadline
	c.byDeadline, c.pending = nil, nil
	c.mu.Unlock()
	for _, p := range probes {
		unix.Close(int(p.fd))
		p.finish(errConnectorClosed)
	}
	c.set.Close()
}

// probeHeap orders probes by deadline.
type probeHeap []*connectProbe

func (h probeHeap) Len() int           { return len(h) }
func (h probeHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h probeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *probeHeap) Push(x any) {
	p := x.(*connectProbe)
	p.index = len(*h)
	*h = append(*h, p)
}
func (h *probeHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return p
}
