package ipvstest

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// Conn returns a fake *genetlink.Conn served by k. Many Conns may share one
// Kernel.
//
// It is built on nltest rather than genltest.Dial so that it can frame
// replies as the kernel does: the nlctrl family lookup ("IPVS", FamilyID,
// version 1; other names are ENOENT), error messages that carry the
// request, ACKs, and dumps as NLM_F_MULTI parts ended by NLMSG_DONE (which
// nltest hands out over several reads, as a real socket may).
func (k *Kernel) Conn() *genetlink.Conn {
	return genetlink.NewConn(k.NetlinkConn())
}

// NetlinkConn is Conn one layer down, for code that builds its
// *genetlink.Conn itself (such as ipvs.NewFromConn).
//
// Several requests in one send (netlink.Conn.SendMessages) are handled in
// order, as by the kernel, and each request's reply arrives by its own read,
// like the kernel's datagrams: a reader that stops at the first error
// message loses nothing.
func (k *Kernel) NetlinkConn() *netlink.Conn {
	var queue [][]netlink.Message // replies not yet read, one entry per request
	return nltest.Dial(func(reqs []netlink.Message) ([]netlink.Message, error) {
		for _, req := range reqs {
			msgs, err := k.transport(req)
			switch {
			case errors.Is(err, io.EOF): // no reply
			case err != nil:
				return nil, err
			default:
				queue = append(queue, msgs)
			}
		}
		// After a multi-message send the replies wait for reads; nltest
		// would otherwise put them all into one read.
		if len(reqs) > 1 {
			return nil, nil
		}
		if len(queue) == 0 {
			// Receive without a request: a real socket would have nothing.
			return nil, io.EOF
		}
		next := queue[0]
		queue = queue[1:]
		return next, nil
	})
}

// transport answers one request: the kernel's netlink and generic-netlink
// layers around serve. io.EOF means no reply.
func (k *Kernel) transport(req netlink.Message) ([]netlink.Message, error) {
	var greq genetlink.Message
	if err := greq.UnmarshalBinary(req.Data); err != nil {
		return []netlink.Message{errorMessage(req, unix.EINVAL)}, nil
	}
	var (
		r   reply
		err error
	)
	if req.Header.Type == unix.GENL_ID_CTRL {
		r, err = controller(greq, req)
	} else {
		r, err = k.serve(greq, req)
	}
	if err != nil {
		return nil, err
	}
	return frame(req, r)
}

// frame turns a reply into the netlink messages the kernel would send.
func frame(req netlink.Message, r reply) ([]netlink.Message, error) {
	switch {
	case r.errno != 0:
		return []netlink.Message{errorMessage(req, r.errno)}, nil
	case r.ack:
		return []netlink.Message{ackMessage(req)}, nil
	}

	header := func(typ netlink.HeaderType, flags netlink.HeaderFlags) netlink.Header {
		return netlink.Header{Type: typ, Flags: flags, Sequence: req.Header.Sequence, PID: req.Header.PID}
	}
	var flags netlink.HeaderFlags
	if r.multi {
		flags = netlink.Multi
	}
	out := make([]netlink.Message, 0, len(r.msgs)+1)
	for _, m := range r.msgs {
		b, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		out = append(out, netlink.Message{Header: header(req.Header.Type, flags), Data: b})
	}
	if r.multi {
		// NLMSG_DONE carries an int, 0.
		out = append(out, netlink.Message{Header: header(netlink.Done, netlink.Multi), Data: make([]byte, 4)})
	}
	if len(out) == 0 {
		// A doit that succeeded without reply data and asked for no ACK.
		return nil, io.EOF
	}
	return out, nil
}

// errorMessage is netlink_ack for an error: the negative errno followed by
// the whole request.
func errorMessage(req netlink.Message, errno unix.Errno) netlink.Message {
	data := binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
	data = appendHeader(data, req)
	data = append(data, req.Data...)
	return netlink.Message{
		Header: netlink.Header{Type: netlink.Error, Sequence: req.Header.Sequence, PID: req.Header.PID},
		Data:   data,
	}
}

// ackMessage is netlink_ack for success: errno 0 and only the request's
// header, flagged NLM_F_CAPPED.
func ackMessage(req netlink.Message) netlink.Message {
	data := appendHeader(make([]byte, 4), req)
	return netlink.Message{
		Header: netlink.Header{Type: netlink.Error, Flags: netlink.Capped, Sequence: req.Header.Sequence, PID: req.Header.PID},
		Data:   data,
	}
}

// appendHeader appends req's struct nlmsghdr.
func appendHeader(b []byte, req netlink.Message) []byte {
	length := req.Header.Length
	if length == 0 {
		length = uint32(16 + len(req.Data))
	}
	b = binary.NativeEndian.AppendUint32(b, length)
	b = binary.NativeEndian.AppendUint16(b, uint16(req.Header.Type))
	b = binary.NativeEndian.AppendUint16(b, uint16(req.Header.Flags))
	b = binary.NativeEndian.AppendUint32(b, req.Header.Sequence)
	return binary.NativeEndian.AppendUint32(b, req.Header.PID)
}

// controller plays nlctrl for the one family the fake has: CTRL_CMD_GETFAMILY
// by name or ID, or as a dump.
func controller(greq genetlink.Message, req netlink.Message) (reply, error) {
	if greq.Header.Command != unix.CTRL_CMD_GETFAMILY {
		return reply{errno: unix.EOPNOTSUPP}, nil
	}
	family, err := familyMessage()
	if err != nil {
		return reply{}, err
	}
	if req.Header.Flags&netlink.Dump == netlink.Dump {
		return reply{msgs: []genetlink.Message{family}, multi: true}, nil
	}

	ad, err := netlink.NewAttributeDecoder(greq.Data)
	if err != nil {
		return reply{errno: unix.EINVAL}, nil
	}
	var (
		byID, byName bool
		id           uint16
		name         string
	)
	for ad.Next() {
		switch ad.Type() {
		case unix.CTRL_ATTR_FAMILY_ID:
			byID, id = true, ad.Uint16()
		case unix.CTRL_ATTR_FAMILY_NAME:
			byName, name = true, ad.String()
		}
	}
	if ad.Err() != nil {
		return reply{errno: unix.EINVAL}, nil
	}
	switch {
	case byID && id == FamilyID, !byID && byName && name == uapi.FamilyName:
		return reply{msgs: []genetlink.Message{family}}, nil
	case byID || byName:
		return reply{errno: unix.ENOENT}, nil
	}
	return reply{errno: unix.EINVAL}, nil
}

// familyMessage is ctrl_fill_info for IPVS, without the list of operations.
func familyMessage() (genetlink.Message, error) {
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.CTRL_ATTR_FAMILY_NAME, uapi.FamilyName)
	ae.Uint16(unix.CTRL_ATTR_FAMILY_ID, FamilyID)
	ae.Uint32(unix.CTRL_ATTR_VERSION, uapi.FamilyVersion)
	ae.Uint32(unix.CTRL_ATTR_HDRSIZE, 0)
	ae.Uint32(unix.CTRL_ATTR_MAXATTR, cmdAttrMax)
	data, err := ae.Encode()
	if err != nil {
		return genetlink.Message{}, err
	}
	return genetlink.Message{
		Header: genetlink.Header{Command: unix.CTRL_CMD_NEWFAMILY, Version: 2},
		Data:   data,
	}, nil
}
