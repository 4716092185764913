package health

import (
	"context"
	"errors"
	"os"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// udpChecker sends a datagram on a connected socket and waits for an
// answer until the timeout. With an expect regexp only a matching answer
// is up; without one, an answer or silence is up and an ICMP port
// unreachable (ECONNREFUSED on the connected socket) is down.
type udpChecker struct {
	d      dialer
	send   []byte
	expect *regexp.Regexp
}

// udpBufs holds the receive buffers: a datagram is at most 64 KiB.
var udpBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func (c *udpChecker) Check(ctx context.Context) Result {
	ctx, cancel := context.WithTimeout(ctx, c.d.timeout)
	defer cancel()
	conn, err := c.d.dial(ctx, "udp")
	if err != nil {
		return Result{Reason: "udp " + describe(ctx, err)}
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	// Cancelling ctx (the scheduler closing) ends the wait at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := conn.Write(c.send); err != nil {
		return c.failed(ctx, err)
	}
	bp := udpBufs.Get().(*[]byte)
	defer udpBufs.Put(bp)
	n, err := conn.Read(*bp)
	if err != nil {
		return c.failed(ctx, err)
	}
	if c.expect != nil && !c.expect.Match((*bp)[:n]) {
		return Result{Reason: "udp answer mismatch"}
	}
	return Result{Up: true, Reason: "udp answer"}
}

func (c *udpChecker) failed(ctx context.Context, err error) Result {
	// The socket's deadline is the context's: it may pass a moment before
	// the context says so.
	timeout := errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != context.Canceled
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Result{Reason: "udp port unreachable"}
	case timeout && c.expect == nil:
		return Result{Up: true, Reason: "udp no answer"}
	case timeout:
		return Result{Reason: "udp no answer"}
	}
	return Result{Reason: "udp " + describe(ctx, err)}
}
