package health

import (
	"container/heap"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// connector makes the TCP connections of a Scheduler's tcp checks as
// keepalived's checker thread does: a non-blocking connect per check, all
// of them in one epoll set that the scheduler's goroutine reaps without
// waiting (reap) each time it wakes, every minSleep at most while
// connections are under way. A check thus costs its system calls (socket,
// connect, epoll_ctl, setsockopt, close) and no goroutine, timer, context
// or wake-up of its own. Only the scheduler's goroutine uses it.
type connector struct {
	epfd       int
	pending    map[int32]*connectProbe // by socket
	byDeadline probeHeap
	events     []unix.EpollEvent
	expired    []*connectProbe
}

// connectProbe is one connection under way.
type connectProbe struct {
	fd       int32
	deadline time.Time
	index    int // in byDeadline
	finish   func(error)
}

// errConnectTimeout is a connection not made within its timeout.
var errConnectTimeout = os.ErrDeadlineExceeded

// errConnectorClosed ends the connections under way at close.
var errConnectorClosed = errors.New("canceled")

func newConnector() (*connector, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	return &connector{epfd: epfd, pending: map[int32]*connectProbe{}, events: make([]unix.EpollEvent, 256)}, nil
}

// start connects to addr. finish is called once, from reap or close, or
// from start itself when the connection is made or fails at once: with
// nil once the connection is made (and reset), the connect's error,
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
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT, Fd: int32(fd)}
	if err := unix.EpollCtl(c.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		finish(os.NewSyscallError("epoll_ctl", err))
		return
	}
	p := &connectProbe{fd: int32(fd), deadline: time.Now().Add(timeout), finish: finish}
	c.pending[p.fd] = p
	heap.Push(&c.byDeadline, p)
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

// underWay reports whether connections are under way, which reap must
// then see within minSleep.
func (c *connector) underWay() bool { return len(c.pending) > 0 }

// reap finishes the connections that are made or failed, and then those
// whose timeout has passed by now. It does not wait.
func (c *connector) reap(now time.Time) {
	for len(c.pending) > 0 {
		n, err := unix.EpollWait(c.epfd, c.events, 0)
		if err == unix.EINTR {
			continue
		}
		for _, ev := range c.events[:max(n, 0)] {
			p := c.pending[ev.Fd]
			if p == nil {
				continue
			}
			delete(c.pending, ev.Fd)
			heap.Remove(&c.byDeadline, p.index)
			p.finish(connected(int(p.fd), ev.Events))
		}
		if n < len(c.events) {
			break
		}
	}
	for len(c.byDeadline) > 0 && !c.byDeadline[0].deadline.After(now) {
		p := heap.Pop(&c.byDeadline).(*connectProbe)
		delete(c.pending, p.fd)
		c.expired = append(c.expired, p)
	}
	for i, p := range c.expired {
		unix.Close(int(p.fd))
		p.finish(errConnectTimeout)
		c.expired[i] = nil
	}
	c.expired = c.expired[:0]
}

// connected ends the connection whose epoll events are events: reset if it
// was made, closed with its error if not.
func connected(fd int, events uint32) error {
	if events&(unix.EPOLLERR|unix.EPOLLHUP) == 0 {
		return reset(fd)
	}
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	unix.Close(fd)
	switch {
	case err != nil:
		return os.NewSyscallError("getsockopt", err)
	case errno != 0:
		return os.NewSyscallError("connect", unix.Errno(errno))
	}
	return os.NewSyscallError("connect", unix.ECONNRESET)
}

// close ends the connections under way with errConnectorClosed.
func (c *connector) close() {
	for _, p := range c.byDeadline {
		unix.Close(int(p.fd))
		p.finish(errConnectorClosed)
	}
	c.byDeadline, c.pending = nil, nil
	unix.Close(c.epfd)
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
