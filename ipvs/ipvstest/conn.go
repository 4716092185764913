package ipvstest

import (
	"encoding/binary"
	"errors"
	"io"
	"sync/atomic"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// Conn returns a fake *genetlink.Conn served by k. Many Conns may share one
// Kernel.
func (k *Kernel) Conn() *genetlink.Conn {
	return genetlink.NewConn(k.NetlinkConn())
}

// NetlinkConn is Conn one layer down, for code that builds its
// *genetlink.Conn itself (such as ipvs.NewFromConn). It is Dial(nil): the
// socket ipvs.Dial opens on a default Linux host.
func (k *Kernel) NetlinkConn() *netlink.Conn { return k.Dial(nil) }

// Dial returns a *netlink.Conn over a fake socket (see SocketConfig) served
// by k: the nlctrl family lookup ("IPVS", FamilyID, version 1; other names
// are ENOENT), error messages that carry the request, ACKs, and dumps as
// NLM_F_MULTI parts ended by NLMSG_DONE, in chunks sized by the reads.
// Several requests in one send (netlink.Conn.SendMessages) are handled in
// order, each reply a datagram of its own, as by the kernel.
func (k *Kernel) Dial(cfg *SocketConfig) *netlink.Conn {
	pid := nextPID()
	sock := newSocket(cfg, k.answer, k.isUnresponsive, pid)
	sock.sends = &k.sends
	return netlink.NewConn(sock, pid)
}

// Sends is the number of sends (sendmsg calls) made so far on the
// connections dialed to k, each carrying one or more requests.
func (k *Kernel) Sends() int64 { return k.sends.Load() }

// DialFunc is Dial with fn answering the IPVS requests instead of a Kernel,
// for tests that want particular replies (fn may wrap Kernel.Handle). fn
// gets every request of family FamilyID; the socket, the family lookup and
// the framing are the same as Dial's. fn's replies to a dump request are
// the dump's entries; an error that is or wraps a unix.Errno is answered as
// the kernel answers a failure; io.EOF means no reply data; any other error
// fails the next read, like a broken socket.
func DialFunc(fn genltest.Func, cfg *SocketConfig) *netlink.Conn {
	return dialSocket(cfg, func(greq genetlink.Message, nreq netlink.Message) (reply, error) {
		if nreq.Header.Type == uapi.GenlIDCtrl {
			return controller(greq, nreq, true)
		}
		if nreq.Header.Type != netlink.HeaderType(FamilyID) {
			return reply{errno: unix.ENOENT}, nil
		}
		msgs, err := fn(greq, nreq)
		var errno unix.Errno
		switch {
		case errors.As(err, &errno):
			return reply{errno: errno}, nil
		case errors.Is(err, io.EOF):
			msgs = nil
		case err != nil:
			return reply{}, err
		}
		return reply{msgs: msgs, multi: nreq.Header.Flags&netlink.Dump == netlink.Dump}, nil
	}, nil)
}

var lastPID atomic.Uint32

func dialSocket(cfg *SocketConfig, answer answerFunc, silent func() bool) *netlink.Conn {
	pid := nextPID()
	return netlink.NewConn(newSocket(cfg, answer, silent, pid), pid)
}

// nextPID is a port ID of the socket's own, as the kernel assigns.
func nextPID() uint32 { return 4000 + lastPID.Add(1) }

// answer is the kernel's generic-netlink layer for one request: the
// controller or IPVS.
func (k *Kernel) answer(greq genetlink.Message, nreq netlink.Message) (reply, error) {
	loaded := k.isLoaded()
	switch {
	case nreq.Header.Type == uapi.GenlIDCtrl:
		return controller(greq, nreq, loaded)
	case !loaded:
		return reply{errno: unix.ENOENT}, nil // genl_rcv_msg: no such family
	}
	return k.serve(greq, nreq)
}

// errorMessage is netlink_ack for an error: the negative errno followed by
// the request's header and, unless the socket caps acknowledgements
// (NETLINK_CAP_ACK), its payload.
func errorMessage(req netlink.Message, errno unix.Errno, capped bool) netlink.Message {
	data := binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
	data = appendHeader(data, req)
	var flags netlink.HeaderFlags
	if capped {
		flags = netlink.Capped
	} else {
		data = append(data, req.Data...)
	}
	return netlink.Message{
		Header: netlink.Header{Type: netlink.Error, Flags: flags, Sequence: req.Header.Sequence, PID: req.Header.PID},
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

// controller plays nlctrl for the one family the fake has, when ip_vs is
// loaded: CTRL_CMD_GETFAMILY by name or ID, or as a dump.
func controller(greq genetlink.Message, req netlink.Message, loaded bool) (reply, error) {
	if greq.Header.Command != uapi.CtrlCmdGetFamily {
		return reply{errno: unix.EOPNOTSUPP}, nil
	}
	if !loaded {
		if req.Header.Flags&netlink.Dump == netlink.Dump {
			return reply{multi: true}, nil
		}
		return reply{errno: unix.ENOENT}, nil
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
		case uapi.CtrlAttrFamilyID:
			byID, id = true, ad.Uint16()
		case uapi.CtrlAttrFamilyName:
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
	ae.String(uapi.CtrlAttrFamilyName, uapi.FamilyName)
	ae.Uint16(uapi.CtrlAttrFamilyID, FamilyID)
	ae.Uint32(uapi.CtrlAttrVersion, uapi.FamilyVersion)
	ae.Uint32(uapi.CtrlAttrHdrSize, 0)
	ae.Uint32(uapi.CtrlAttrMaxAttr, cmdAttrMax)
	data, err := ae.Encode()
	if err != nil {
		return genetlink.Message{}, err
	}
	return genetlink.Message{
		Header: genetlink.Header{Command: uapi.CtrlCmdNewFamily, Version: 2},
		Data:   data,
	}, nil
}
