package ipvs

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

func TestBatchMapsErrorsToRequests(t *testing.T) {
	type seen struct {
		cmd uint8
		ack bool
	}
	var got []seen
	// Every third request fails; the kernel answers only failures and the
	// final acknowledgement.
	c := testClient(t, func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
		got = append(got, seen{greq.Header.Command, nreq.Header.Flags&netlink.Acknowledge != 0})
		if len(got)%3 == 0 {
			return nil, kernelErrno(unix.EEXIST)
		}
		return nil, nil
	})
	const n = 2500 // more than two windows
	b := c.NewBatch()
	for i := 0; i < n; i++ {
		k := tcpKey
		k.Port = uint16(i)
		if i%2 == 0 {
			b.AddService(Service{ServiceKey: k, Scheduler: "rr"})
		} else {
			b.AddDestination(k, Destination{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80, Weight: 1})
		}
	}
	if b.Len() != n {
		t.Fatalf("Len() = %d, want %d", b.Len(), n)
	}
	results, err := b.Send()
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(got) != n {
		t.Fatalf("kernel saw %d requests, want %d", len(got), n)
	}
	var want []seen
	for i := 0; i < n; i++ {
		cmd := uint8(uapi.CmdNewService)
		if i%2 == 1 {
			cmd = uapi.CmdNewDest
		}
		// The last request of each window asks for the acknowledgement.
		want = append(want, seen{cmd, (i+1)%batchWindow == 0 || i == n-1})
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(seen{})); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	for i, r := range results {
		failed := (i+1)%3 == 0
		switch {
		case failed && i%2 == 0 && !errors.Is(r, ErrServiceExists):
			t.Errorf("result %d = %v, want ErrServiceExists", i, r)
		case failed && i%2 == 1 && !errors.Is(r, ErrDestinationExists):
			t.Errorf("result %d = %v, want ErrDestinationExists", i, r)
		case !failed && r != nil:
			t.Errorf("result %d = %v, want nil", i, r)
		}
	}
	if b.Len() != 0 {
		t.Errorf("batch not emptied: Len() = %d", b.Len())
	}
}

func TestBatchLastRequestFails(t *testing.T) {
	c := testClient(t, func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
		if greq.Header.Command == uapi.CmdFlush {
			return nil, kernelErrno(unix.EPERM)
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
