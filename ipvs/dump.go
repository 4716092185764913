package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Dumps skip mdlayher/netlink's receive path: a listing with counters makes
// one destination dump per service, 10,000 for a large table, and through
// that path (message slices, validation, allocation per attribute) they
// took 17.6 s in the VM against 5.0 s with plain syscalls. dump writes the
// request and reads the replies with plain syscalls on the connection's
// socket into reused buffers, and hands each reply's attributes to the
// caller, who decodes them in place.

// dumpSocket is a netlink socket that dumps go over, with its read buffers.
// Its syscall callbacks are made once, so a dump allocates nothing.
type dumpSocket struct {
	nl  *netlink.Conn
	raw syscall.RawConn // nil for connections without a socket (fakes)
	// Each buffer is sized to the socket's read size: the kernel sizes each
	// dump chunk by the largest read the socket has made, or its minimum
	// chunk if that is larger (which then makes dump grow the buffers).
	bufs [2][]byte
	req  []byte // the request being sent, its buffer reused

	// One recvmmsg reads up to two datagrams: a destination dump is two, its
	// entries and then the end-of-dump message, which the kernel makes while
	// the first is read. One syscall per dump less.
	iovs [2]unix.Iovec
	hdrs [2]mmsghdr
	got  int   // datagrams the last read returned
	err  error // the last syscall's error

	send, recv, recvNow func(fd uintptr) bool
}

// mmsghdr is struct mmsghdr (Go pads it to the C size on every
// architecture, as C does).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

func newDumpSocket(nl *netlink.Conn, readSize int) *dumpSocket {
	s := &dumpSocket{nl: nl}
	if raw, err := nl.SyscallConn(); err == nil {
		s.raw = raw
	}
	// Without an address a netlink socket sends to the kernel.
	s.send = func(fd uintptr) bool {
		_, s.err = unix.Write(int(fd), s.req)
		return s.err != unix.EAGAIN
	}
	// MSG_TRUNC makes each length the datagram's real one, to size the
	// buffers after a cut.
	s.recv = func(fd uintptr) bool {
		s.recvmmsg(fd, unix.MSG_WAITFORONE|unix.MSG_TRUNC)
		return s.err != unix.EAGAIN
	}
	s.recvNow = func(fd uintptr) bool {
		s.recvmmsg(fd, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		return true
	}
	s.setBuffers(readSize)
	return s
}

func (s *dumpSocket) setBuffers(size int) {
	for i := range s.bufs {
		s.bufs[i] = make([]byte, size)
		s.iovs[i].Base = &s.bufs[i][0]
		s.iovs[i].SetLen(size)
		s.hdrs[i].hdr.Iov = &s.iovs[i]
		s.hdrs[i].hdr.SetIovlen(1)
	}
}

func (s *dumpSocket) recvmmsg(fd uintptr, flags int) {
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&s.hdrs[0])), uintptr(len(s.hdrs)), uintptr(flags), 0, 0)
	s.got, s.err = int(n), nil
	if errno != 0 {
		s.got, s.err = 0, errno
	}
}

// errReadTooSmall reports a dump chunk cut by a read buffer that was too
// small, after which the buffers were grown.
var errReadTooSmall = errors.New("dump chunk larger than the read buffer")

// dump sends one dump request of command cmd with the attributes attrs
// appends, then passes the attributes of every reply to fn until the
// kernel's end-of-dump message. If a chunk did not fit the buffers it grows
// them, calls restart (which must undo what fn did) and dumps again.
func (c *Client) dump(s *dumpSocket, cmd uint8, attrs requestAttrs, fn func(payload []byte) error, restart func()) error {
	req := appendRequest(s.req[:0], c.family, cmd, &attrs)
	s.req = req
	binary.NativeEndian.PutUint16(req[6:], uint16(netlink.Request|netlink.Dump))
	for attempt := 0; ; attempt++ {
		c.seq++
		binary.NativeEndian.PutUint32(req[8:], c.seq)
		if s.raw == nil {
			return c.dumpParsed(s.nl, req, fn) // fakes have no socket
		}
		err := c.dumpOnce(s, c.seq, fn)
		if err != errReadTooSmall || attempt == 2 {
			return err
		}
		restart()
	}
}

// dumpOnce sends the request in s.req (sequence number seq) and reads its
// replies.
func (c *Client) dumpOnce(s *dumpSocket, seq uint32, fn func(payload []byte) error) error {
	if err := s.raw.Write(s.send); err != nil {
		return err
	}
	if s.err != nil {
		return s.err
	}
	// After a decode error the rest of the dump is still read, so that no
	// reply is left in the socket for the next request.
	var decodeErr error
	consume := func(payload []byte) error {
		if decodeErr == nil {
			decodeErr = fn(payload)
		}
		return nil
	}
	ignore := func([]byte) error { return nil }
	// cut is the size of the largest datagram that did not fit. Once one
	// did not, the rest of the dump is drained without waiting (each read
	// makes the kernel queue the next chunk, so an empty socket means the
	// end, which may have been in the part cut off), then the buffers grow.
	cut := 0
	for {
		read := s.recv
		if cut > 0 {
			read = s.recvNow
		}
		yield()
		if err := s.raw.Read(read); err != nil {
			return err
		}
		if s.err == unix.EAGAIN && cut > 0 {
			break
		}
		if s.err != nil {
			return s.err
		}
		for i := range s.got {
			h := &s.hdrs[i]
			if h.hdr.Flags&unix.MSG_TRUNC != 0 {
				cut = max(cut, int(h.len))
				continue
			}
			use := consume
			if cut > 0 {
				use = ignore
			}
			done, err := walkDumpReplies(s.bufs[i][:h.len], seq, use)
			if err != nil && cut == 0 {
				return err
			}
			if done && cut == 0 {
				return decodeErr
			}
			if done {
				s.setBuffers(max(cut, 2*len(s.bufs[0])))
				return errReadTooSmall
			}
		}
	}
	s.setBuffers(max(cut, 2*len(s.bufs[0])))
	return errReadTooSmall
}

// walkDumpReplies passes the attributes of each reply to request seq in b
// (one datagram) to fn; done reports the end of the dump. Messages for other
// requests, which cannot be outstanding here, are skipped.
func walkDumpReplies(b []byte, seq uint32, fn func(payload []byte) error) (done bool, err error) {
	const genlHeaderLen = 4
	for len(b) > 0 {
		if len(b) < nlmsgHeaderLen {
			return true, fmt.Errorf("%w: %d stray bytes after the messages", errInvalidReply, len(b))
		}
		n := int(binary.NativeEndian.Uint32(b))
		if n < nlmsgHeaderLen || n > len(b) {
			return true, fmt.Errorf("%w: message length %d with %d bytes left", errInvalidReply, n, len(b))
		}
		msg := b[:n]
		b = b[min(nlAlign(n), len(b)):]
		if binary.NativeEndian.Uint32(msg[8:]) != seq {
			continue
		}
		switch typ := binary.NativeEndian.Uint16(msg[4:]); typ {
		case unix.NLMSG_NOOP:
		case unix.NLMSG_DONE, unix.NLMSG_ERROR:
			// Both carry an errno (negated; 0 for none) first. A dump that
			// fails to start is answered with NLMSG_ERROR.
			if len(msg) < nlmsgHeaderLen+4 {
				if typ == unix.NLMSG_DONE {
					return true, nil
				}
				return true, fmt.Errorf("%w: short error message", errInvalidReply)
			}
			if code := int32(binary.NativeEndian.Uint32(msg[nlmsgHeaderLen:])); code < 0 {
				return true, &netlink.OpError{Op: "receive", Err: unix.Errno(-code), Sequence: seq}
			}
			return true, nil
		default:
			if len(msg) < nlmsgHeaderLen+genlHeaderLen {
				return true, fmt.Errorf("%w: short generic netlink message", errInvalidReply)
			}
			if err := fn(msg[nlmsgHeaderLen+genlHeaderLen:]); err != nil {
				return true, err
			}
		}
	}
	return false, nil
}

// dumpParsed runs a prepared dump request through netlink.Conn.Execute, for
// connections without a socket (the fake kernel of package ipvstest).
func (c *Client) dumpParsed(nl *netlink.Conn, req []byte, fn func(payload []byte) error) error {
	var m netlink.Message
	if err := m.UnmarshalBinary(req); err != nil {
		return err
	}
	msgs, err := nl.Execute(m)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.Header.Type == netlink.Done || m.Header.Type == netlink.Error {
			continue
		}
		if len(m.Data) < 4 {
			return fmt.Errorf("%w: short generic netlink message", errInvalidReply)
		}
		if err := fn(m.Data[4:]); err != nil {
			return err
		}
	}
	return nil
}
