package ipvs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// kernelClient is a client of a fresh fake kernel over a socket cfg
// describes.
func kernelClient(t *testing.T, cfg *ipvstest.SocketConfig, conf Config) (*Client, *ipvstest.Kernel) {
	t.Helper()
	k := ipvstest.New()
	conf.Conn = k.Dial(cfg)
	c, err := Dial(&conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, k
}

func destAt(i int) Destination {
	return Destination{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i%200)}), Port: uint16(1000 + i/200), Weight: 1}
}

// failingBatch queues n requests that all fail, with three different
// errors in turn, and returns the error each must get.
func failingBatch(t *testing.T, c *Client, n int) (*Batch, []error) {
	t.Helper()
	svc := Service{ServiceKey: tcpKey, Scheduler: "rr"}
	if err := c.AddService(svc); err != nil && !errors.Is(err, ErrServiceExists) {
		t.Fatal(err)
	}
	if err := c.AddDestination(tcpKey, destAt(0)); err != nil && !errors.Is(err, ErrDestinationExists) {
		t.Fatal(err)
	}
	missing := tcpKey
	missing.Port = 81
	b := c.NewBatch()
	var want []error
	for i := range n {
		switch i % 3 {
		case 0:
			b.AddService(svc)
			want = append(want, &Error{Op: OpAddService, Subject: "192.0.2.1:80/tcp", Err: unix.EEXIST})
		case 1:
			d := destAt(i)
			b.AddDestination(missing, d)
			want = append(want, &Error{Op: OpAddDestination, Subject: addrPort(d.Addr, d.Port) + " to 192.0.2.1:81/tcp", Err: unix.ESRCH})
		default:
			d := destAt(i)
			b.DeleteDestination(tcpKey, d)
			want = append(want, &Error{Op: OpDeleteDestination, Subject: addrPort(d.Addr, d.Port) + " from 192.0.2.1:80/tcp", Err: unix.ENOENT})
		}
	}
	return b, want
}

// sameResult compares a batch result with the expected *Error: operation,
// subject and errno.
func sameResult(got, want error) bool {
	if want == nil || got == nil {
		return got == want
	}
	var g *Error
	w := want.(*Error)
	return errors.As(got, &g) && g.Op == w.Op && g.Subject == w.Subject && g.Errno() == w.Err.(unix.Errno)
}

func checkResults(t *testing.T, got, want []error) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	bad := 0
	for i := range want {
		if !sameResult(got[i], want[i]) {
			if bad++; bad <= 5 {
				t.Errorf("result %d = %v, want %v", i, got[i], want[i])
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d wrong results in all", bad)
	}
}

// A restore in a container: the receive buffer cannot be forced above its
// default, yet 1,000 failing requests in one Send all get their own error,
// and the next Send works.
func TestBatchFailuresFitTheReceiveBuffer(t *testing.T) {
	for _, tc := range []struct {
		name string
		sock ipvstest.SocketConfig
		conf Config
	}{
		{name: "default buffer, force refused"},
		{name: "small fixed buffer", conf: Config{ReceiveBuffer: 8192}},
		{name: "no NETLINK_CAP_ACK", sock: ipvstest.SocketConfig{NoCapAck: true}},
		{name: "rmem_max 64 KiB", sock: ipvstest.SocketConfig{ReadBuffer: 65536, MaxReadBuffer: 32768}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := kernelClient(t, &tc.sock, tc.conf)
			b, want := failingBatch(t, c, 1000)
			results, err := b.Send()
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			checkResults(t, results, want)

			b.AddService(Service{ServiceKey: ServiceKey{Protocol: UDP, Addr: netip.MustParseAddr("192.0.2.9"), Port: 53}, Scheduler: "rr"})
			b.Flush()
			results, err = b.Send()
			if err != nil || results[0] != nil || results[1] != nil {
				t.Fatalf("next Send = %v, %v; want two successes", results, err)
			}
		})
	}
}

// Every request carries Request; the last of each window also Acknowledge,
// and the windows are no larger than the receive buffer allows.
func TestBatchWindowsAskForOneAcknowledgement(t *testing.T) {
	var acks []bool
	c := testClient(t, func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
		if nreq.Header.Flags&^netlink.Acknowledge != netlink.Request {
			return nil, fmt.Errorf("flags %v", nreq.Header.Flags)
		}
		acks = append(acks, nreq.Header.Flags&netlink.Acknowledge != 0)
		if len(acks)%2 == 0 {
			return nil, unix.EEXIST
		}
		return nil, nil
	})
	const n = 2500
	b := c.NewBatch()
	for i := range n {
		b.AddDestination(tcpKey, destAt(i))
	}
	if b.Len() != n {
		t.Fatalf("Len() = %d, want %d", b.Len(), n)
	}
	results, err := b.Send()
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 0 {
		t.Errorf("batch not emptied: Len() = %d", b.Len())
	}
	for i, r := range results {
		if failed := i%2 == 1; failed != errors.Is(r, ErrDestinationExists) || !failed && r != nil {
			t.Fatalf("result %d = %v", i, r)
		}
	}
	// The fake refuses SO_RCVBUFFORCE; SO_RCVBUF gets 2 x rmem_max.
	window := 2*212992/replyBudget - 1
	var windows []int
	last := -1
	for i, ack := range acks {
		if ack {
			windows = append(windows, i-last)
			last = i
		}
	}
	if len(acks) != n || last != n-1 || slices.Max(windows) > window {
		t.Errorf("kernel saw %d requests in windows %v; want %d requests, the last acknowledged, windows of at most %d", len(acks), windows, n, window)
	}
}

// When replies are dropped all the same (a kernel charging more per reply
// than the client assumes), no error is given to the wrong request: the
// outcome of the requests whose replies were lost is ErrReplyLost, the
// later windows shrink until they fit, and the next Send is exact.
func TestBatchReplyOverrunIsNeverMisattributed(t *testing.T) {
	c, _ := kernelClient(t, &ipvstest.SocketConfig{SkbExtra: 2048}, Config{})
	b, want := failingBatch(t, c, 3000)
	results, err := b.Send()
	if !errors.Is(err, ErrReplyLost) || !errors.Is(err, unix.ENOBUFS) {
		t.Fatalf("Send error = %v, want ErrReplyLost", err)
	}
	lost := 0
	for i, r := range results {
		switch {
		case errors.Is(r, ErrReplyLost):
			lost++
			if !errors.Is(r, unix.ENOBUFS) || r.(*Error).Op != want[i].(*Error).Op || r.(*Error).Subject != want[i].(*Error).Subject {
				t.Errorf("result %d = %v; want the lost reply of %v", i, r, want[i])
			}
		case !sameResult(r, want[i]):
			t.Errorf("result %d = %v, want %v", i, r, want[i])
		}
	}
	if lost == 0 || lost > 1500 {
		t.Errorf("%d of 3000 outcomes lost; want some, and fewer once the windows shrink", lost)
	}
	b, want = failingBatch(t, c, 1000)
	results, err = b.Send()
	if err != nil {
		t.Fatalf("next Send: %v", err)
	}
	checkResults(t, results, want)
	if _, err := c.Info(); err != nil {
		t.Errorf("Info after the overrun: %v", err)
	}
}

// Lost replies are reported only for the requests after the last reply
// read: the ones before it are known to have succeeded.
func TestBatchOverrunKeepsKnownOutcomes(t *testing.T) {
	// Only request 1 and the last ones fail: the kernel's first reply fits,
	// the ones after it overflow a tiny buffer.
	var n int
	c := testClientSocket(t, &ipvstest.SocketConfig{SkbExtra: 250000}, func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
		n++
		if n == 2 || n > 5 && n <= 10 {
			return nil, unix.EEXIST
		}
		return nil, nil
	})
	b := c.NewBatch()
	for i := range 10 {
		b.AddDestination(tcpKey, destAt(i))
	}
	results, err := b.Send()
	if !errors.Is(err, ErrReplyLost) {
		t.Fatalf("Send error = %v, want ErrReplyLost", err)
	}
	var got []string
	for _, r := range results {
		switch {
		case r == nil:
			got = append(got, "ok")
		case errors.Is(r, ErrReplyLost):
			got = append(got, "lost")
		case errors.Is(r, ErrDestinationExists):
			got = append(got, "exists")
		default:
			got = append(got, r.Error())
		}
	}
	want := []string{"ok", "exists", "lost", "lost", "lost", "lost", "lost", "lost", "lost", "lost"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestBatchLastRequestFails(t *testing.T) {
	c := testClient(t, func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
		if greq.Header.Command == uapi.CmdFlush {
			return nil, unix.EPERM
		}
		return nil, nil
	})
	b := c.NewBatch()
	b.ZeroAll()
	b.Flush()
	results, err := b.Send()
	if err != nil {
		t.Fatal(err)
	}
	if results[0] != nil || !errors.Is(results[1], ErrPermission) {
		t.Errorf("results = %v, want [nil, permission]", results)
	}
	if results, err := c.NewBatch().Send(); err != nil || len(results) != 0 {
		t.Errorf("empty Send() = %v, %v", results, err)
	}
}

func TestBatchResetDiscardsRequests(t *testing.T) {
	var got []uint8
	c := testClient(t, func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
		got = append(got, greq.Header.Command)
		return nil, nil
	})
	b := c.NewBatch()
	b.AddService(Service{ServiceKey: tcpKey, Scheduler: "rr"})
	b.Flush()
	b.Reset()
	if b.Len() != 0 {
		t.Fatalf("Len() after Reset = %d, want 0", b.Len())
	}
	b.ZeroAll()
	results, err := b.Send()
	if err != nil || len(results) != 1 || results[0] != nil {
		t.Fatalf("Send() = %v, %v; want one success", results, err)
	}
	if want := []uint8{uapi.CmdZero}; !slices.Equal(got, want) {
		t.Errorf("kernel saw commands %v, want %v", got, want)
	}
}

// A send the socket refuses (longer than its send buffer) applies nothing:
// every request carries the error, and the next Send works.
func TestBatchSendRefused(t *testing.T) {
	c, _ := kernelClient(t, &ipvstest.SocketConfig{WriteBuffer: 100}, Config{})
	b := c.NewBatch()
	for i := range 3 {
		k := tcpKey
		k.Port = uint16(i)
		b.AddService(Service{ServiceKey: k, Scheduler: "rr"})
	}
	results, err := b.Send()
	if !errors.Is(err, unix.EMSGSIZE) {
		t.Fatalf("Send error = %v, want EMSGSIZE", err)
	}
	for i, r := range results {
		if !errors.Is(r, unix.EMSGSIZE) || r.(*Error).Op != OpAddService {
			t.Errorf("result %d = %v", i, r)
		}
	}
	if svcs, err := c.Services(); err != nil || len(svcs) != 0 {
		t.Errorf("Services() = %v, %v; want none", svcs, err)
	}
}

// A kernel that stops answering makes Send fail after the receive timeout,
// with every request whose outcome is unknown carrying the timeout; once it
// answers again, the client works.
func TestBatchKernelStopsAnswering(t *testing.T) {
	c, k := kernelClient(t, nil, Config{ReceiveTimeout: 50 * time.Millisecond})
	k.SetUnresponsive(true)
	b := c.NewBatch()
	b.AddService(Service{ServiceKey: tcpKey, Scheduler: "rr"})
	b.Flush()
	results, err := b.Send()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Send error = %v, want a timeout", err)
	}
	for i, r := range results {
		if !errors.Is(r, os.ErrDeadlineExceeded) {
			t.Errorf("result %d = %v, want the timeout", i, r)
		}
	}
	k.SetUnresponsive(false)
	b.AddService(Service{ServiceKey: tcpKey, Scheduler: "rr"})
	if results, err := b.Send(); err != nil || results[0] != nil {
		t.Fatalf("Send after the kernel recovered = %v, %v", results, err)
	}
}

// A request that cannot be encoded fails alone.
func TestBatchUnencodableRequest(t *testing.T) {
	c, _ := kernelClient(t, nil, Config{})
	b := c.NewBatch()
	b.AddService(Service{ServiceKey: tcpKey, Scheduler: string(make([]byte, 70000))})
	b.AddService(Service{ServiceKey: tcpKey, Scheduler: "rr"})
	results, err := b.Send()
	if err != nil || results[0] == nil || results[1] != nil {
		t.Fatalf("Send() = %v, %v; want the first request alone to fail", results, err)
	}
	var e *Error
	if !errors.As(results[0], &e) || e.Op != OpAddService || e.Errno() != 0 {
		t.Errorf("first result = %#v", results[0])
	}
}
