package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"

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
	buf  []byte // the requests as complete netlink messages, back to back
	reqs []batchRequest
}

type batchRequest struct {
	op         Op
	start, end int // the message in buf
}

// Batch windows: requests per acknowledged window, and bytes per send. One
// sendmsg must fit the socket's send buffer (about 208 KiB by default), and
// is kept short enough that the kernel applies it in a few milliseconds even
// under emulation (see yield): 16 KiB is about 130 requests.
const (
	batchWindow    = 1000
	batchSendBytes = 16 << 10
	// batchReadBuffer holds a whole window of error replies; forcing it
	// needs CAP_NET_ADMIN, which IPVS changes need anyway.
	batchReadBuffer = 8 << 20
	// batchSmall needs no bigger buffer: its replies fit the default one.
	batchSmall = 200
)

const nlmsgHeaderLen = 16

// NewBatch starts an empty batch.
func (c *Client) NewBatch() *Batch { return &Batch{c: c} }

// Len is the number of queued requests.
func (b *Batch) Len() int { return len(b.reqs) }

// Reset discards the queued requests without sending them; the batch keeps
// its memory for the next ones.
func (b *Batch) Reset() { b.reqs, b.buf = b.reqs[:0], b.buf[:0] }

// add appends one request (flags and sequence number are set at send time).
func (b *Batch) add(op Op, cmd uint8, attrs requestAttrs) {
	start := len(b.buf)
	b.buf = appendRequest(b.buf, b.c.family, cmd, &attrs)
	b.reqs = append(b.reqs, batchRequest{op: op, start: start, end: len(b.buf)})
}

// appendRequest appends one complete request to buf: netlink header with
// length and family filled in (flags and sequence number left zero),
// generic-netlink header, the attributes attrs names.
func appendRequest(buf []byte, family uint16, cmd uint8, attrs *requestAttrs) []byte {
	start := len(buf)
	w := wire{b: append(buf, make([]byte, nlmsgHeaderLen)...)}
	w.b = append(w.b, cmd, uapi.FamilyVersion, 0, 0)
	w.request(attrs)
	binary.NativeEndian.PutUint32(w.b[start:], uint32(len(w.b)-start))
	binary.NativeEndian.PutUint16(w.b[start+4:], family)
	return w.b
}

// AddService queues Client.AddService.
func (b *Batch) AddService(s Service) {
	b.add(OpAddService, uapi.CmdNewService, requestAttrs{service: &s})
}

// EditService queues Client.EditService.
func (b *Batch) EditService(s Service) {
	b.add(OpEditService, uapi.CmdSetService, requestAttrs{service: &s})
}

// DeleteService queues Client.DeleteService.
func (b *Batch) DeleteService(k ServiceKey) {
	b.add(OpDeleteService, uapi.CmdDelService, requestAttrs{key: &k})
}

// AddDestination queues Client.AddDestination.
func (b *Batch) AddDestination(k ServiceKey, d Destination) {
	b.add(OpAddDestination, uapi.CmdNewDest, requestAttrs{key: &k, dest: &d})
}

// EditDestination queues Client.EditDestination.
func (b *Batch) EditDestination(k ServiceKey, d Destination) {
	b.add(OpEditDestination, uapi.CmdSetDest, requestAttrs{key: &k, dest: &d})
}

// DeleteDestination queues Client.DeleteDestination.
func (b *Batch) DeleteDestination(k ServiceKey, d Destination) {
	b.add(OpDeleteDestination, uapi.CmdDelDest, requestAttrs{key: &k, destKey: &d})
}

// StartDaemon queues Client.StartDaemon.
func (b *Batch) StartDaemon(d Daemon) {
	b.add(OpStartDaemon, uapi.CmdNewDaemon, requestAttrs{daemon: &d})
}

// StopDaemon queues Client.StopDaemon.
func (b *Batch) StopDaemon(d Daemon) {
	b.add(OpStopDaemon, uapi.CmdDelDaemon, stopDaemonAttrs(d))
}

// SetTimeouts queues Client.SetTimeouts.
func (b *Batch) SetTimeouts(t Timeouts) {
	b.add(OpSetTimeouts, uapi.CmdSetConfig, requestAttrs{timeouts: &t})
}

// ZeroAll queues Client.ZeroAll.
func (b *Batch) ZeroAll() { b.add(OpZero, uapi.CmdZero, requestAttrs{}) }

// ZeroService queues Client.ZeroService.
func (b *Batch) ZeroService(k ServiceKey) { b.add(OpZero, uapi.CmdZero, requestAttrs{key: &k}) }

// Flush queues Client.Flush.
func (b *Batch) Flush() { b.add(OpFlush, uapi.CmdFlush, requestAttrs{}) }

// Send sends every queued request and empties the batch. results[i] is the
// outcome of the i-th request: nil, or an *Error like the one the
// corresponding Client method returns. A non-nil err means the exchange
// itself failed (for example the socket lost replies); requests whose
// outcome is unknown then carry that error too, and the caller must not
// assume they were applied or not.
func (b *Batch) Send() (results []error, err error) {
	reqs, buf := b.reqs, b.buf
	// The batch is empty again; its memory is reused by the next requests
	// once this Send is done with it.
	defer b.Reset()
	results = make([]error, len(reqs))
	if len(reqs) == 0 {
		return results, nil
	}
	if len(reqs) > batchSmall {
		b.c.growReadBuffer()
	}
	for start := 0; start < len(reqs); {
		end := min(start+batchWindow, len(reqs))
		if err := b.c.sendWindow(buf, reqs[start:end], results[start:end]); err != nil {
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
// buffer holds only about 250 (replies past it are dropped and the next
// read fails with ENOBUFS).
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

// sendWindow numbers the window's requests, asks for an acknowledgement of
// the last one, sends them in chunks of at most batchSendBytes (straight
// from buf), then reads replies until the acknowledgement.
func (c *Client) sendWindow(buf []byte, reqs []batchRequest, results []error) error {
	seqIndex := make(map[uint32]int, len(reqs))
	var lastSeq uint32
	for i, r := range reqs {
		flags := netlink.Request
		if i == len(reqs)-1 {
			flags |= netlink.Acknowledge
		}
		c.seq++
		binary.NativeEndian.PutUint16(buf[r.start+6:], uint16(flags))
		binary.NativeEndian.PutUint32(buf[r.start+8:], c.seq)
		seqIndex[c.seq] = i
		lastSeq = c.seq
	}
	for first := 0; first < len(reqs); {
		last := first
		for last+1 < len(reqs) && reqs[last+1].end-reqs[first].start <= batchSendBytes {
			last++
		}
		yield()
		if err := c.sendRaw(buf[reqs[first].start:reqs[last].end]); err != nil {
			return err
		}
		first = last + 1
	}
	return c.awaitAck(reqs, results, seqIndex, lastSeq)
}

// sendRaw writes ready netlink messages with one sendmsg. A fake connection
// without a socket gets them through netlink.Conn.SendMessages instead.
func (c *Client) sendRaw(p []byte) error {
	raw, err := c.nl.SyscallConn()
	if err != nil {
		return c.sendParsed(p)
	}
	var serr error
	err = raw.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), p, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	return err
}

func (c *Client) sendParsed(p []byte) error {
	var msgs []netlink.Message
	for len(p) >= nlmsgHeaderLen {
		n := int(binary.NativeEndian.Uint32(p))
		var m netlink.Message
		if err := m.UnmarshalBinary(p[:n]); err != nil {
			return err
		}
		msgs = append(msgs, m)
		p = p[n:]
	}
	_, err := c.nl.SendMessages(msgs)
	return err
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
