package health

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"
)

// connectResult runs one connection through c and returns how long it
// took and its error.
func connectResult(t *testing.T, c *connector, addr string, timeout time.Duration) (time.Duration, error) {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	c.start(netip.MustParseAddrPort(addr), timeout, func(err error) { done <- err })
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(timeout + 5*time.Second):
		t.Fatalf("no result for %s after %v", addr, timeout+5*time.Second)
		return 0, nil
	}
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
		go func() {
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
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
	var mu sync.Mutex
	got := map[int]error{}
	var wg sync.WaitGroup
	for i := range n {
		addr := up
		switch {
		case i%10 == 3:
			addr = refused
		case i == 150:
			addr = hole
		}
		wg.Add(1)
		c.start(addr, 500*time.Millisecond, func(err error) {
			mu.Lock()
			defer mu.Unlock()
			if _, twice := got[i]; twice {
				t.Errorf("connection %d finished twice", i)
			}
			got[i] = err
			wg.Done()
		})
	}
	wg.Wait()
	for i := range n {
		err := got[i]
		switch {
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

// TestConnectorClose: connections under way at close end as canceled, and
// later ones are refused.
func TestConnectorClose(t *testing.T) {
	c, err := newConnector()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	c.start(netip.MustParseAddrPort(blackhole(t)), time.Hour, func(err error) { done <- err })
	c.close()
	if err := <-done; !errors.Is(err, errConnectorClosed) {
		t.Errorf("under way at close: %v, want %v", err, errConnectorClosed)
	}
	c.start(listen(t), time.Second, func(err error) { done <- err })
	if err := <-done; !errors.Is(err, errConnectorClosed) {
		t.Errorf("after close: %v, want %v", err, errConnectorClosed)
	}
}
