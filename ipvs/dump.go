package ipvs

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
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
	// dump chunk by the largest read the socket has made, so reads of this
	// size never truncate one.
	bufs [2][]byte
	req  wire // the request being built, reused

	// One recvmmsg reads up to two datagrams: a destination dump is two, its
	// entries and then the end-of-dump message, which the kernel makes while
	// the first is read. One syscall per dump less.
	iovs [2]unix.Iovec
	hdrs [2]mmsghdr
	got  int   // datagrams the last read returned
	err  error // the last syscall's error

	send, recv func(fd uintptr) bool
}

// mmsghdr is struct mmsghdr (Go pads it to the C size on every
// architecture, as C does).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

func newDumpSocket(nl *netlink.Conn, readSize int) *dumpSocket {
	s := &dumpSocket{nl: nl}
	for i := range s.bufs {
		s.bufs[i] = make([]byte, readSize)
		s.iovs[i].Base = &s.bufs[i][0]
		s.iovs[i].SetLen(readSize)
		s.hdrs[i].hdr.Iov = &s.iovs[i]
		s.hdrs[i].hdr.SetIovlen(1)
	}
	if raw, err := nl.SyscallConn(); err == nil {
		s.raw = raw
	}
	// Without an address a netlink socket sends to the kernel.
	s.send = func(fd uintptr) bool {
		_, s.err = unix.Write(int(fd), s.req.b)
		return s.err != unix.EAGAIN
	}
	s.recv = func(fd uintptr) bool {
		n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&s.hdrs[0])), uintptr(len(s.hdrs)), unix.MSG_WAITFORONE, 0, 0)
		s.got, s.err = int(n), nil
		if errno != 0 {
			s.got, s.err = 0, errno
		}
		return s.err != unix.EAGAIN
	}
	return s
}

// dump sends one dump request of command cmd with the attributes attrs
// appends, then passes the attributes of every reply to fn until the
// kernel's end-of-dump message.
func (c *Client) dump(s *dumpSocket, cmd uint8, attrs func(*wire), fn func(payload []byte) error) error {
	c.seq++
	seq := c.seq
	w := &s.req
	w.b = append(w.b[:0], make([]byte, nlmsgHeaderLen)...)
	w.b = append(w.b, cmd, uapi.FamilyVersion, 0, 0)
	if attrs != nil {
		attrs(w)
	}
	binary.NativeEndian.PutUint32(w.b[0:], uint32(len(w.b)))
	binary.NativeEndian.PutUint16(w.b[4:], c.family)
	binary.NativeEndian.PutUint16(w.b[6:], uint16(netlink.Request|netlink.Dump))
	binary.NativeEndian.PutUint32(w.b[8:], seq)

	if s.raw == nil {
		return c.dumpParsed(s.nl, w.b, fn)
	}
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
	for {
		if err := s.raw.Read(s.recv); err != nil {
			return err
		}
		if s.err != nil {
			return s.err
		}
		for i := range s.got {
			h := &s.hdrs[i]
			if h.hdr.Flags&unix.MSG_TRUNC != 0 {
				return fmt.Errorf("%w: a reply did not fit the %d-byte buffer", errInvalidReply, len(s.bufs[i]))
			}
			done, err := walkDumpReplies(s.bufs[i][:h.len], seq, consume)
			if err != nil {
				return err
			}
			if done {
				return decodeErr
			}
		}
	}
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
