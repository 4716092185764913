package health

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// connectResult runs one connection through c, reaping it as the
// scheduler's loop does, and returns how long it took and its error.
func connectResult(t *testing.T, c *connector, addr string, timeout time.Duration) (time.Duration, error) {
	t.Helper()
	var got error
	done := false
	start := time.Now()
	c.start(netip.MustParseAddrPort(addr), timeout, func(err error) { got, done = err, true })
	for !done {
		if time.Since(start) > timeout+5*time.Second {
			t.Fatalf("no result for %s after %v", addr, timeout+5*time.Second)
		}
		time.Sleep(time.Millisecond)
		c.reap(time.Now())
	}
	return time.Since(start), got
}

func newTestConnector(t *testing.T) *connector {
	t.Helper()
	c, err := newConnector()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

func TestConnector(t *testing.T) {
	c := newTestConnector(t)
	const timeout = 300 * time.Millisecond

	if _, err := connectResult(t, c, listen(t).String(), timeout); err != nil {
		t.Errorf("listening: %v", err)
	}
	if _, err := connectResult(t, c, closedPort(t, "tcp"), timeout); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("closed port: %v, want connection refused", err)
	}
	took, err := connectResult(t, c, blackhole(t), timeout)
	if !errors.Is(err, errConnectTimeout) {
		t.Errorf("blackhole: %v, want a timeout", err)
	}
	if took < timeout || took > timeout+time.Second {
		t.Errorf("blackhole: timed out after %v, want %v", took, timeout)
	}

	// IPv6, where the host has it.
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		go acceptAndClose(l)
		defer l.Close()
		if _, err := connectResult(t, c, l.Addr().String(), timeout); err != nil {
			t.Errorf("[::1]: %v", err)
		}
	}
}

// TestConnectorMany: many connections at once, a timeout among them, each
// gets its own result once.
func TestConnectorMany(t *testing.T) {
	c := newTestConnector(t)
	up, refused, hole := listen(t), netip.MustParseAddrPort(closedPort(t, "tcp")), netip.MustParseAddrPort(blackhole(t))
	const n = 300
	got := map[int]error{}
	for i := range n {
		addr := up
		switch {
		case i%10 == 3:
			addr = refused
		case i == 150:
			addr = hole
		}
		c.start(addr, 500*time.Millisecond, func(err error) {
			if _, twice := got[i]; twice {
				t.Errorf("connection %d finished twice", i)
			}
			got[i] = err
		})
	}
	for deadline := time.Now().Add(5 * time.Second); c.underWay(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still under way after 5 s", len(c.pending))
		}
		c.reap(time.Now())
	}
	for i := range n {
		err, ok := got[i]
		switch {
		case !ok:
			t.Errorf("%d: no result", i)
		case i == 150:
			if !errors.Is(err, errConnectTimeout) {
				t.Errorf("%d (blackhole): %v, want a timeout", i, err)
			}
		case i%10 == 3:
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("%d (closed): %v, want connection refused", i, err)
			}
		case err != nil:
			t.Errorf("%d (listening): %v", i, err)
		}
	}
}

// TestConnectorClose: connections under way at close end as canceled.
func TestConnectorClose(t *testing.T) {
	c, err := newConnector()
	if err != nil {
		t.Fatal(err)
	}
	var got error
	c.start(netip.MustParseAddrPort(blackhole(t)), time.Hour, func(err error) { got = err })
	c.reap(time.Now())
	if got != nil {
		t.Fatalf("a blackhole connection finished: %v", got)
	}
	c.close()
	if !errors.Is(got, errConnectorClosed) {
		t.Errorf("under way at close: %v, want %v", got, errConnectorClosed)
	}
}

// TestConnectorReusesSockets: a made connection is reset, its socket serves
// the next check, and a reused socket reports each connection's own result.
func TestConnectorReusesSockets(t *testing.T) {
	c := newTestConnector(t)
	const timeout = 300 * time.Millisecond

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ends := make(chan error, 4)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_, err = conn.Read(make([]byte, 1))
			ends <- err
			conn.Close()
		}
	}()
	up := l.Addr().String()

	if _, err := connectResult(t, c, up, timeout); err != nil {
		t.Fatalf("listening: %v", err)
	}
	if err := <-ends; !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the server read %v at the check's end, want a reset", err)
	}
	if len(c.idle[familyIPv4]) != 1 {
		t.Fatalf("%d idle sockets after a made connection, want 1", len(c.idle[familyIPv4]))
	}

	// A refused connection on the reused socket is refused, and the
	// socket, whose state is then unknown, is closed.
	if _, err := connectResult(t, c, closedPort(t, "tcp"), timeout); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("closed port on a reused socket: %v, want connection refused", err)
	}
	if len(c.idle[familyIPv4]) != 0 {
		t.Errorf("%d idle sockets after a refused connection, want 0", len(c.idle[familyIPv4]))
	}

	// Made connections in turn use one socket.
	for i := range 3 {
		if _, err := connectResult(t, c, up, timeout); err != nil {
			t.Fatalf("listening, %d: %v", i, err)
		}
		if err := <-ends; !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%d: the server read %v at the check's end, want a reset", i, err)
		}
	}
	if idle := c.idle[familyIPv4]; len(idle) != 1 {
		t.Errorf("%d idle sockets after 3 connections in turn, want 1", len(idle))
	}
	took, err := connectResult(t, c, blackhole(t), timeout)
	if !errors.Is(err, errConnectTimeout) || took < timeout {
		t.Errorf("blackhole on a reused socket: %v after %v, want a timeout after %v", err, took, timeout)
	}
}
