package ipvs

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// The transport: every request goes through the client's one
// *netlink.Conn, sent with Send or SendMessages and answered through
// Receive or ReceiveIter. Replies are matched to requests by sequence
// number; a reply to an earlier request (left in the socket when that
// request was abandoned) is skipped.

// genlPayload returns the attributes of a generic-netlink message.
func genlPayload(m netlink.Message) []byte {
	if len(m.Data) < 4 {
		return nil
	}
	return m.Data[4:]
}

// send sends one request and returns its sequence number.
func (c *Client) send(m netlink.Message) (uint32, error) {
	if err := c.resync(); err != nil {
		return 0, err
	}
	sent, err := c.nl.Send(m)
	if err != nil {
		return 0, err
	}
	return sent.Header.Sequence, nil
}

// armDeadline bounds the next receive by the client's timeout. A
// connection that cannot have deadlines waits as long as it takes.
func (c *Client) armDeadline() {
	var t time.Time
	if c.timeout > 0 {
		t = time.Now().Add(c.timeout)
	}
	c.nl.SetReadDeadline(t)
}

// receive reads the next datagram's messages.
func (c *Client) receive() ([]netlink.Message, error) {
	c.armDeadline()
	msgs, err := c.nl.Receive()
	if err != nil {
		return nil, c.receiveError(err)
	}
	return msgs, nil
}

// receiveError classifies a failed read. A kernel error reply passes
// unchanged (see replyError); anything else leaves replies unread, so the
// socket must be brought back in step before the next request.
func (c *Client) receiveError(err error) error {
	if _, ok := replyError(err); ok {
		return err
	}
	c.stale = true
	switch {
	case errors.Is(err, unix.ENOBUFS):
		c.overrun = true
		return replyLost(err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("no reply from the kernel within %v: %w", c.timeout, err)
	}
	return err
}

// replyError returns the sequence number of the request a kernel error
// reply answers, if err is one.
func replyError(err error) (uint32, bool) {
	var oerr *netlink.OpError
	if errors.As(err, &oerr) && oerr.Sequence != 0 {
		return oerr.Sequence, true
	}
	return 0, false
}

// execute sends a request that is answered by one datagram (a doit's reply,
// an error or an acknowledgement) and returns its messages.
func (c *Client) execute(m netlink.Message) ([]netlink.Message, error) {
	seq, err := c.send(m)
	if err != nil {
		return nil, err
	}
	for {
		msgs, err := c.receive()
		if err != nil {
			if s, ok := replyError(err); ok && s != seq {
				continue // an earlier request's
			}
			return nil, err
		}
		// A datagram holds the replies to one request, but the parts of
		// an abandoned dump may surround another reply.
		ours := msgs[:0]
		for _, r := range msgs {
			if r.Header.Sequence == seq {
				ours = append(ours, r)
			}
		}
		if len(ours) > 0 {
			return ours, nil
		}
	}
}

// dump sends a dump request and passes the attributes of each reply to fn.
// After an error from fn the rest of the dump is read and discarded.
func (c *Client) dump(m netlink.Message, fn func(payload []byte) error) error {
	seq, err := c.send(m)
	if err != nil {
		return err
	}
	for {
		c.armDeadline()
		var (
			read, ours bool
			fnErr      error
		)
		for r, err := range c.nl.ReceiveIter() {
			if err != nil {
				if s, ok := replyError(err); ok && s != seq {
					read = true
					break // an earlier request's: read on
				}
				return c.receiveError(err)
			}
			read = true
			if r.Header.Sequence != seq {
				continue
			}
			ours = true
			if fnErr == nil {
				fnErr = fn(genlPayload(r))
			}
		}
		// ReceiveIter ends at the dump's NLMSG_DONE, which it does not
		// pass on; a read of nothing else was an empty dump.
		if ours || !read {
			return fnErr
		}
	}
}

// resync brings the socket back in step after a request was abandoned: it
// sends a no-op that asks for an acknowledgement and reads up to it. After
// an overrun the kernel drops every reply until a read empties the queue,
// so then each read is preceded by a new no-op, and the first no-op
// acknowledged marks the end of what was queued.
func (c *Client) resync() error {
	if !c.stale {
		return nil
	}
	_, err := c.drain(nil)
	return err
}

// drain reads up to the acknowledgement of a no-op (see resync), passing
// the kernel error replies it meets to onError. It reports whether it met
// another overrun.
func (c *Client) drain(onError func(seq uint32, err error)) (overrun bool, err error) {
	probes := make(map[uint32]bool)
	for sendProbe := true; ; {
		if sendProbe {
			probe, err := c.nl.Send(netlink.Message{Header: netlink.Header{
				Type: uapi.NlmsgNoop, Flags: netlink.Request | netlink.Acknowledge,
			}})
			if err != nil {
				return overrun, err
			}
			probes[probe.Header.Sequence] = true
			sendProbe = c.overrun
		}
		c.armDeadline()
		msgs, err := c.nl.Receive()
		switch s, isReply := replyError(err); {
		case isReply:
			if onError != nil {
				onError(s, err)
			}
			continue
		case errors.Is(err, unix.ENOBUFS):
			overrun, c.overrun, sendProbe = true, true, true
			continue
		case err != nil:
			return overrun, c.receiveError(err)
		}
		for _, m := range msgs {
			if m.Header.Type == netlink.Error && probes[m.Header.Sequence] {
				c.stale, c.overrun = false, false
				return overrun, nil
			}
		}
	}
}
