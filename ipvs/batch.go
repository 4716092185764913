package ipvs

import (
	"fmt"

	"github.com/mdlayher/netlink"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// A Batch queues changes and sends them with few system calls and no
// per-request round trip: the kernel handles the requests of one send in
// order and answers only failures, each naming its request by sequence
// number. The requests go out in windows; the last request of every window
// asks for an acknowledgement, so the client knows when the kernel is done
// with it. The kernel state afterwards is the same as if each change had
// been made by its own method call.
//
// A Batch is not safe for concurrent use; the Client must not be used for
// other requests while Send runs.
type Batch struct {
	c    *Client
	msgs []netlink.Message // the requests; Send fills in flags and sequence numbers
	reqs []batchRequest
}

// batchRequest says what a queued request is, for its error.
type batchRequest struct {
	op    Op
	attrs requestAttrs
	bad   error // why it could not be encoded
}

// batchSocket is what the client knows about its socket's buffers.
type batchSocket struct {
	fixedBuffer int  // Config.ReceiveBuffer
	prepared    bool // capAck, window and sendLimit are set
	grown       bool // the receive buffer was enlarged
	capAck      bool // error replies carry only the request's header
	window      int  // requests whose error replies fit the receive buffer
	sendLimit   int  // bytes per sendmsg
}

const (
	// replyBudget is what one error reply is assumed to take from the
	// receive buffer. The kernel charges an skb's truesize: about 768 bytes
	// for a small error message on x86-64, more when the reply carries the
	// request (no NETLINK_CAP_ACK) or the skb is larger.
	replyBudget         = 1024
	replyBudgetUncapped = 2048
	// maxWindow bounds a window however large the buffer.
	maxWindow = 1024
	// growBuffer is the receive buffer asked for when a batch is larger
	// than the default buffer's window: room for a maxWindow window.
	growBuffer = (maxWindow + 1) * replyBudgetUncapped
	// maxSendBytes bounds one sendmsg, which must fit the socket's send
	// buffer (about 208 KiB by default; the kernel refuses longer sends).
	maxSendBytes = 128 << 10
	// defaultBuffer is Linux's default socket buffer, assumed when the
	// connection cannot tell its own.
	defaultBuffer = 212992
)

// NewBatch starts an empty batch.
func (c *Client) NewBatch() *Batch { return &Batch{c: c} }

// Len is the number of queued requests.
func (b *Batch) Len() int { return len(b.reqs) }

// Reset discards the queued requests without sending them.
func (b *Batch) Reset() { b.msgs, b.reqs = b.msgs[:0], b.reqs[:0] }

// add queues one request.
func (b *Batch) add(op Op, cmd uint8, attrs requestAttrs) {
	m, err := b.c.message(cmd, 0, &attrs)
	b.msgs = append(b.msgs, m)
	b.reqs = append(b.reqs, batchRequest{op: op, attrs: attrs, bad: err})
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
func (b *Batch) ZeroService(k ServiceKey) {
	b.add(OpZero, uapi.CmdZero, requestAttrs{key: &k})
}

// Flush queues Client.Flush.
func (b *Batch) Flush() { b.add(OpFlush, uapi.CmdFlush, requestAttrs{}) }

// Send sends every queued request and empties the batch. results[i] is the
// outcome of the i-th request: nil, or an *Error like the one the
// corresponding Client method returns.
//
// The windows are sized so that their error replies fit the socket's
// receive buffer. If the kernel drops replies all the same (ENOBUFS), the
// requests whose outcome is therefore unknown get an error matching
// ErrReplyLost, later windows are smaller, and Send returns an error
// matching ErrReplyLost too. A non-nil err otherwise means the exchange
// itself failed (the socket, or a kernel that stopped answering): the
// requests whose outcome is unknown, or that were not sent, carry that
// error, and the caller must not assume they were applied or not.
func (b *Batch) Send() (results []error, err error) {
	defer b.Reset()
	results = make([]error, len(b.reqs))
	s := &b.c.batch
	for start := 0; start < len(b.reqs); {
		if r := b.reqs[start]; r.bad != nil {
			results[start] = b.error(start, r.bad)
			start++
			continue
		}
		b.c.prepareBatch(len(b.reqs) - start)
		end, size := start, 0
		for end < len(b.reqs) && end-start < s.window && b.reqs[end].bad == nil {
			n := len(b.msgs[end].Data) + 16
			if end > start && size+n > s.sendLimit {
				break
			}
			end, size = end+1, size+n
		}
		lost, lostErr, werr := b.sendWindow(start, end, results)
		if werr != nil {
			for i := end; i < len(b.reqs); i++ {
				results[i] = b.error(i, fmt.Errorf("not sent: %w", werr))
			}
			return results, werr
		}
		if lost > 0 && err == nil {
			err = fmt.Errorf("ipvs: send batch: the outcome of %d requests is unknown: %w", lost, lostErr)
		}
		start = end
	}
	return results, err
}

func (b *Batch) error(i int, err error) error {
	r := &b.reqs[i]
	return &Error{Op: r.op, Subject: r.attrs.subject(r.op), Err: err}
}

// prepareBatch sets up the socket for batches the first time one is sent:
// capped acknowledgements, and the window its receive buffer allows. For a
// batch larger than that window, it tries to enlarge the buffer once.
func (c *Client) prepareBatch(n int) {
	s := &c.batch
	if !s.prepared {
		s.prepared = true
		s.capAck = c.nl.SetOption(netlink.CapAcknowledge, true) == nil
		s.sendLimit = maxSendBytes
		if wb, err := c.nl.WriteBuffer(); err == nil {
			s.sendLimit = min(maxSendBytes, wb/2)
		}
		if s.fixedBuffer > 0 {
			c.nl.SetReadBuffer(s.fixedBuffer)
			s.grown = true
		}
		s.window = c.windowForBuffer()
	}
	if n > s.window && !s.grown {
		s.grown = true
		if forceReadBuffer(c.nl, growBuffer) != nil {
			c.nl.SetReadBuffer(growBuffer)
		}
		s.window = c.windowForBuffer()
	}
}

// windowForBuffer is the number of requests whose error replies, and the
// final acknowledgement, fit the socket's receive buffer.
func (c *Client) windowForBuffer() int {
	size, err := c.nl.ReadBuffer()
	if err != nil {
		size = defaultBuffer
	}
	budget := replyBudget
	if !c.batch.capAck {
		budget = replyBudgetUncapped
	}
	return min(max(size/budget-1, 1), maxWindow)
}

// sendWindow sends requests [start, end) in one sendmsg, the last asking
// for an acknowledgement, and reads the replies up to that
// acknowledgement. It returns how many requests' outcomes were lost to a
// receive buffer overrun, and the overrun's error; an error err means the
// exchange failed, and the window's requests without a known outcome carry
// it.
func (b *Batch) sendWindow(start, end int, results []error) (lost int, lostErr, err error) {
	c := b.c
	if err := c.resync(); err != nil {
		return 0, nil, err
	}
	msgs := b.msgs[start:end]
	for i := range msgs {
		msgs[i].Header.Flags = netlink.Request
		msgs[i].Header.Sequence = 0 // numbered by the connection
	}
	msgs[len(msgs)-1].Header.Flags |= netlink.Acknowledge
	if _, err := c.nl.SendMessages(msgs); err != nil {
		for i := start; i < end; i++ {
			results[i] = b.error(i, fmt.Errorf("not sent: %w", err))
		}
		return 0, nil, err
	}
	index := make(map[uint32]int, len(msgs))
	for i, m := range msgs {
		index[m.Header.Sequence] = start + i
	}
	last := msgs[len(msgs)-1].Header.Sequence
	answered := start - 1 // the last request known to have been answered
	record := func(seq uint32, err error) {
		if i, ok := index[seq]; ok {
			results[i] = b.error(i, err)
			answered = max(answered, i)
		}
	}
	for {
		replies, rerr := c.receive()
		if rerr == nil {
			for _, m := range replies {
				if m.Header.Type == netlink.Error && m.Header.Sequence == last {
					return 0, nil, nil // the acknowledgement
				}
			}
			continue
		}
		if seq, ok := replyError(rerr); ok {
			record(seq, rerr)
			if seq == last {
				return 0, nil, nil
			}
			continue
		}
		if c.overrun {
			// Replies were dropped: the ones still queued are read up to a
			// no-op's acknowledgement. Everything after the last one read
			// was dropped, so the outcome of the requests after it is
			// unknown. Later windows are halved.
			if _, derr := c.drain(record); derr != nil {
				rerr = derr
			} else {
				for i := answered + 1; i < end; i++ {
					results[i] = b.error(i, rerr)
				}
				c.batch.window = max(1, c.batch.window/2)
				return end - answered - 1, rerr, nil
			}
		}
		for i := answered + 1; i < end; i++ {
			results[i] = b.error(i, rerr)
		}
		return 0, nil, rerr
	}
}
