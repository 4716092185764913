package ipvs

import (
	"errors"
	"fmt"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// A Batch queues changes and sends them with few system calls and no
// per-request round trip: the kernel handles the requests of one send in
// order and answers only failures, each naming its request by sequence
// number. The last request of every window asks for an acknowledgement, so
// the client knows when the kernel is done. The kernel state afterwards is
// the same as if each change had been made by its own method call.
//
// A Batch is not safe for concurrent use; the Client must not be used for
// other requests while Send runs.
type Batch struct {
	c    *Client
	reqs []batchRequest
}

type batchRequest struct {
	op  Op
	msg genetlink.Message
	err error // an encoding failure, reported without sending
}

// Batch windows: requests per acknowledged window, and bytes per send
// (one sendmsg must fit the socket's send buffer, about 208 KiB by default).
const (
	batchWindow    = 1000
	batchSendBytes = 128 << 10
	// batchReadBuffer holds a whole window of error replies; forcing it
	// needs CAP_NET_ADMIN, which IPVS changes need anyway.
	batchReadBuffer = 8 << 20
	// batchSmall needs no bigger buffer: its replies fit the default one.
	batchSmall = 200
)

// NewBatch starts an empty batch.
func (c *Client) NewBatch() *Batch { return &Batch{c: c} }

// Len is the number of queued requests.
func (b *Batch) Len() int { return len(b.reqs) }

func (b *Batch) add(op Op, cmd uint8, attrs func(*netlink.AttributeEncoder)) {
	msg, err := buildMessage(cmd, attrs)
	b.reqs = append(b.reqs, batchRequest{op: op, msg: msg, err: err})
}

// AddService queues Client.AddService.
func (b *Batch) AddService(s Service) { b.add(OpAddService, uapi.CmdNewService, serviceAttr(s)) }

// EditService queues Client.EditService.
func (b *Batch) EditService(s Service) { b.add(OpEditService, uapi.CmdSetService, serviceAttr(s)) }

// DeleteService queues Client.DeleteService.
func (b *Batch) DeleteService(k ServiceKey) {
	b.add(OpDeleteService, uapi.CmdDelService, serviceKeyAttr(k))
}

// AddDestination queues Client.AddDestination.
func (b *Batch) AddDestination(k ServiceKey, d Destination) {
	b.add(OpAddDestination, uapi.CmdNewDest, destAttrs(k, d, true))
}

// EditDestination queues Client.EditDestination.
func (b *Batch) EditDestination(k ServiceKey, d Destination) {
	b.add(OpEditDestination, uapi.CmdSetDest, destAttrs(k, d, true))
}

// DeleteDestination queues Client.DeleteDestination.
func (b *Batch) DeleteDestination(k ServiceKey, d Destination) {
	b.add(OpDeleteDestination, uapi.CmdDelDest, destAttrs(k, d, false))
}

// StartDaemon queues Client.StartDaemon.
func (b *Batch) StartDaemon(d Daemon) { b.add(OpStartDaemon, uapi.CmdNewDaemon, daemonAttr(d)) }

// StopDaemon queues Client.StopDaemon.
func (b *Batch) StopDaemon(d Daemon) {
	b.add(OpStopDaemon, uapi.CmdDelDaemon, daemonAttr(Daemon{State: d.State, Interface: d.Interface, SyncID: d.SyncID}))
}

// SetTimeouts queues Client.SetTimeouts.
func (b *Batch) SetTimeouts(t Timeouts) {
	b.add(OpSetTimeouts, uapi.CmdSetConfig, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(uapi.CmdAttrTimeoutTCP, t.TCP)
		ae.Uint32(uapi.CmdAttrTimeoutTCPFin, t.TCPFin)
		ae.Uint32(uapi.CmdAttrTimeoutUDP, t.UDP)
	})
}

// ZeroAll queues Client.ZeroAll.
func (b *Batch) ZeroAll() { b.add(OpZero, uapi.CmdZero, nil) }

// ZeroService queues Client.ZeroService.
func (b *Batch) ZeroService(k ServiceKey) { b.add(OpZero, uapi.CmdZero, serviceKeyAttr(k)) }

// Flush queues Client.Flush.
func (b *Batch) Flush() { b.add(OpFlush, uapi.CmdFlush, nil) }

// Send sends every queued request and empties the batch. results[i] is the
// outcome of the i-th request: nil, or an *Error like the one the
// corresponding Client method returns. A non-nil err means the exchange
// itself failed (for example the socket lost replies); requests whose
// outcome is unknown then carry that error too, and the caller must not
// assume they were applied or not.
func (b *Batch) Send() (results []error, err error) {
	reqs := b.reqs
	b.reqs = nil
	results = make([]error, len(reqs))
	if len(reqs) == 0 {
		return results, nil
	}
	if len(reqs) > batchSmall {
		b.c.growReadBuffer()
	}
	for start := 0; start < len(reqs); {
		end := min(start+batchWindow, len(reqs))
		if err := b.c.sendWindow(reqs[start:end], results[start:end]); err != nil {
			for i := start; i < len(reqs); i++ {
				if results[i] == nil {
					results[i] = &Error{Op: reqs[i].op, Err: err}
				}
			}
			return results, err
		}
		start = end
	}
	return results, nil
}

// growReadBuffer makes room for a window of error replies; the default
// buffer holds only about 250 (performance-facts: replies past it are
// dropped and the next read fails with ENOBUFS).
func (c *Client) growReadBuffer() {
	if c.readBufferGrown {
		return
	}
	c.readBufferGrown = true
	raw, err := c.nl.SyscallConn()
	if err != nil {
		return // fakes have no socket; nothing to grow
	}
	raw.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, batchReadBuffer) != nil {
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, batchReadBuffer)
		}
	})
}

// sendWindow sends reqs (the last one acknowledged) in sends of at most
// batchSendBytes, then reads replies until the acknowledgement.
func (c *Client) sendWindow(reqs []batchRequest, results []error) error {
	seqIndex := make(map[uint32]int, len(reqs))
	var pending []netlink.Message
	var pendingIdx []int
	pendingBytes := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		sent, err := c.nl.SendMessages(pending)
		if err != nil {
			return err
		}
		for i, m := range sent {
			seqIndex[m.Header.Sequence] = pendingIdx[i]
		}
		pending, pendingIdx, pendingBytes = pending[:0], pendingIdx[:0], 0
		return nil
	}
	last := -1
	for i := range reqs {
		if reqs[i].err != nil {
			results[i] = &Error{Op: reqs[i].op, Err: reqs[i].err}
			continue
		}
		last = i
	}
	if last < 0 {
		return nil
	}
	for i := range reqs {
		if results[i] != nil {
			continue
		}
		data, err := reqs[i].msg.MarshalBinary()
		if err != nil {
			results[i] = &Error{Op: reqs[i].op, Err: err}
			continue
		}
		flags := netlink.Request
		if i == last {
			flags |= netlink.Acknowledge
		}
		m := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: flags}, Data: data}
		if pendingBytes+len(data)+16 > batchSendBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		pending = append(pending, m)
		pendingIdx = append(pendingIdx, i)
		pendingBytes += len(data) + 16
	}
	if err := flush(); err != nil {
		return err
	}
	lastSeq := uint32(0)
	for seq, i := range seqIndex {
		if i == last {
			lastSeq = seq
		}
	}
	return c.awaitAck(reqs, results, seqIndex, lastSeq)
}

// awaitAck reads error replies, assigning each to its request, until the
// reply to lastSeq (its error or its acknowledgement) arrives.
func (c *Client) awaitAck(reqs []batchRequest, results []error, seqIndex map[uint32]int, lastSeq uint32) error {
	for {
		msgs, err := c.nl.Receive()
		if err != nil {
			var oerr *netlink.OpError
			if !errors.As(err, &oerr) || oerr.Sequence == 0 {
				return err // lost replies (ENOBUFS) or a socket failure
			}
			i, ok := seqIndex[oerr.Sequence]
			if !ok {
				return fmt.Errorf("%w: error for unknown sequence %d", errInvalidReply, oerr.Sequence)
			}
			results[i] = &Error{Op: reqs[i].op, Err: err}
			if oerr.Sequence == lastSeq {
				return nil
			}
			continue
		}
		for _, m := range msgs {
			if m.Header.Type == netlink.Error && m.Header.Sequence == lastSeq {
				return nil // the acknowledgement
			}
		}
	}
}
