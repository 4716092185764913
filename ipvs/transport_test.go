package ipvs

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// kernelErrno is returned by a test Func to make the fake answer with errno.
type kernelErrno unix.Errno

func (e kernelErrno) Error() string { return unix.Errno(e).Error() }

// dialKernelLike is genltest.Dial with the kernel's framing: an ack for an
// acknowledged request without reply, NLMSG_ERROR replies whose flags do not
// echo the request's (genltest copies them, and a dump's NLM_F_MATCH bit then
// reads as NLM_F_ACK_TLVS), and dump replies terminated by NLMSG_DONE.
// Several requests in one send are answered in order, as the kernel does,
// and each reply arrives by its own read, like the kernel's datagrams.
func dialKernelLike(fn genltest.Func) *netlink.Conn {
	var queue [][]netlink.Message
	return nltest.Dial(func(reqs []netlink.Message) ([]netlink.Message, error) {
		for _, req := range reqs {
			replies, err := serveOne(fn, req)
			if err != nil {
				return nil, err
			}
			if len(replies) > 0 {
				queue = append(queue, replies)
			}
		}
		// After a multi-message send, replies wait for reads: nltest would
		// otherwise append them to unread ones and a reader stopping at the
		// first error would lose the rest.
		if len(reqs) > 1 {
			return nil, nil
		}
		if len(queue) == 0 {
			return nil, io.EOF
		}
		next := queue[0]
		queue = queue[1:]
		return next, nil
	})
}

func serveOne(fn genltest.Func, req netlink.Message) ([]netlink.Message, error) {
	{
		var greq genetlink.Message
		if err := greq.UnmarshalBinary(req.Data); err != nil {
			return nil, err
		}
		replies, err := fn(greq, req)
		var errno kernelErrno
		switch {
		case errors.As(err, &errno):
			return []netlink.Message{errorMessage(req, unix.Errno(errno))}, nil
		case err != nil:
			return nil, err
		}
		out := make([]netlink.Message, 0, len(replies)+1)
		for _, r := range replies {
			b, err := r.MarshalBinary()
			if err != nil {
				return nil, err
			}
			h := netlink.Header{Sequence: req.Header.Sequence, PID: req.Header.PID}
			if req.Header.Flags&netlink.Dump == netlink.Dump {
				h.Flags = netlink.Multi
			}
			out = append(out, netlink.Message{Header: h, Data: b})
		}
		switch {
		case req.Header.Flags&netlink.Dump == netlink.Dump:
			out = append(out, netlink.Message{
				Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi, Sequence: req.Header.Sequence, PID: req.Header.PID},
				Data:   binary.NativeEndian.AppendUint32(nil, 0),
			})
		case len(out) == 0 && req.Header.Flags&netlink.Acknowledge != 0:
			out = append(out, errorMessage(req, 0))
		}
		return out, nil
	}
}

// errorMessage is an NLMSG_ERROR carrying errno (0 = ack) and the request header.
func errorMessage(req netlink.Message, errno unix.Errno) netlink.Message {
	hdr, _ := (netlink.Message{Header: req.Header}).MarshalBinary()
	return netlink.Message{
		Header: netlink.Header{Type: netlink.Error, Flags: netlink.Capped, Sequence: req.Header.Sequence, PID: req.Header.PID},
		Data:   append(binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno))), hdr[:16]...),
	}
}
