package health

import (
	"container/heap"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// connector makes the TCP connections of a Scheduler's tcp checks as
// keepalived's checker thread does: a non-blocking connect per check, all
// of them in one epoll set that the scheduler's goroutine reaps without
// waiting (reap) each time it wakes, every minSleep at most while
// connections are under way. A made connection is reset by dissolving it
// (connect to AF_UNSPEC), and its socket serves a later check: a check
// that succeeds costs a connect, an epoll_ctl and the reset, and no
// goroutine, timer, context or wake-up of its own. Only the scheduler's
// goroutine uses it.
type connector struct {
	epfd       int
	pending    map[int32]*connectProbe // by socket
	byDeadline probeHeap
	events     []unix.EpollEvent
	expired    []*connectProbe
	idle       [2][]tcpSocket // by family (familyIPv4, familyIPv6)
}

// maxIdle bounds the sockets a connector keeps for reuse, per family; it
// needs as many as connections are made at once.
const maxIdle = 256

// tcpSocket is a non-blocking TCP socket of the connector's.
type tcpSocket struct {
	fd     int32
	family uint8 // familyIPv4 or familyIPv6
	polled bool  // in the epoll set (disarmed while idle)
}

// connectProbe is one connection under way.
type connectProbe struct {
	tcpSocket
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
	family, sa := familyIPv4, unix.Sockaddr(nil)
	if addr.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}
	} else {
		family = familyIPv6
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: addr.Addr().As16(), ZoneId: zoneID(addr.Addr())}
	}
	s, err := c.socket(family)
	if err != nil {
		finish(err)
		return
	}
	switch err := unix.Connect(int(s.fd), sa); err {
	case nil:
		finish(c.made(s))
		return
	case unix.EINPROGRESS:
	default:
		unix.Close(int(s.fd))
		finish(os.NewSyscallError("connect", err))
		return
	}
	op := unix.EPOLL_CTL_ADD
	if s.polled {
		op = unix.EPOLL_CTL_MOD
	}
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT, Fd: s.fd}
	if err := unix.EpollCtl(c.epfd, op, int(s.fd), &ev); err != nil {
		unix.Close(int(s.fd))
		finish(os.NewSyscallError("epoll_ctl", err))
		return
	}
	s.polled = true
	p := &connectProbe{tcpSocket: s, deadline: time.Now().Add(timeout), finish: finish}
	c.pending[p.fd] = p
	heap.Push(&c.byDeadline, p)
}

const (
	familyIPv4 uint8 = iota // index of AF_INET sockets in connector.idle
	familyIPv6
)

// socket returns an idle socket of family, or a new one that a close
// resets (SO_LINGER 0), which leaves no TIME_WAIT socket behind on the
// load balancer when a connection cannot be dissolved.
func (c *connector) socket(family uint8) (tcpSocket, error) {
	if idle := c.idle[family]; len(idle) > 0 {
		c.idle[family] = idle[:len(idle)-1]
		return idle[len(idle)-1], nil
	}
	af := unix.AF_INET
	if family == familyIPv6 {
		af = unix.AF_INET6
	}
	fd, err := unix.Socket(af, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return tcpSocket{}, os.NewSyscallError("socket", err)
	}
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1}); err != nil {
		unix.Close(fd)
		return tcpSocket{}, os.NewSyscallError("setsockopt", err)
	}
	return tcpSocket{fd: int32(fd), family: family}, nil
}

// made ends a made connection with a reset and keeps its socket for a
// later connection, or closes it (also a reset) when that cannot be done.
func (c *connector) made(s tcpSocket) error {
	if len(c.idle[s.family]) < maxIdle && dissolve(int(s.fd)) == nil {
		c.idle[s.family] = append(c.idle[s.family], s)
		return nil
	}
	return os.NewSyscallError("close", unix.Close(int(s.fd)))
}

// dissolve connects fd to AF_UNSPEC (connect(2)), which resets an
// established TCP connection and leaves the socket unconnected, free to
// connect again. golang.org/x/sys/unix has no Sockaddr for it.
func dissolve(fd int) error {
	unspec := unix.RawSockaddr{Family: unix.AF_UNSPEC}
	_, _, errno := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&unspec)), unsafe.Sizeof(unspec))
	if errno != 0 {
		return errno
	}
	return nil
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
			p.finish(c.connected(p.tcpSocket, ev.Events))
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

// connected ends the connection on s whose epoll events are events: made
// if it was made, closed with its error if not.
func (c *connector) connected(s tcpSocket, events uint32) error {
	if events&(unix.EPOLLERR|unix.EPOLLHUP) == 0 {
		return c.made(s)
	}
	errno, err := unix.GetsockoptInt(int(s.fd), unix.SOL_SOCKET, unix.SO_ERROR)
	unix.Close(int(s.fd))
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
	for _, idle := range c.idle {
		for _, s := range idle {
			unix.Close(int(s.fd))
		}
	}
	c.byDeadline, c.pending, c.idle = nil, nil, [2][]tcpSocket{}
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
