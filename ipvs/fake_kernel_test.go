package ipvs_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// The client against the stateful fake kernel: a whole lifecycle, through
// single requests and a batch, read back through the client's decoder.
func TestClientLifecycleOnFakeKernel(t *testing.T) {
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.NetlinkConn())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}
	svc := ipvs.Service{ServiceKey: key, Scheduler: "wrr", Flags: ipvs.FlagPersistent, Timeout: 300, Netmask: 0xffffff00}
	if err := c.AddService(svc); err != nil {
		t.Fatal(err)
	}
	b := c.NewBatch()
	var want []ipvs.DestinationEntry
	for i := 1; i <= 3; i++ {
		d := ipvs.Destination{Family: ipvs.IPv4, Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), Port: 80, ForwardMethod: ipvs.Masquerade, Weight: uint32(i)}
		b.AddDestination(key, d)
		want = append(want, ipvs.DestinationEntry{Destination: d})
	}
	b.AddService(svc) // fails: exists
	results, err := b.Send()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results[:3] {
		if r != nil {
			t.Errorf("batch result %d: %v", i, r)
		}
	}
	if !errors.Is(results[3], ipvs.ErrServiceExists) {
		t.Errorf("duplicate add in batch: %v, want ErrServiceExists", results[3])
	}
	got, err := c.Destinations(key)
	if err != nil {
		t.Fatal(err)
	}
	opts := []cmp.Option{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmpopts.SortSlices(func(a, b ipvs.DestinationEntry) bool { return a.Addr.Less(b.Addr) })}
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
	svcs, err := c.Services()
	if err != nil || len(svcs) != 1 || svcs[0].Scheduler != "wrr" || svcs[0].Netmask != 0xffffff00 || svcs[0].Flags != ipvs.FlagPersistent|ipvs.FlagHashed {
		t.Errorf("Services() = %+v, %v", svcs, err)
	}
	if err := c.DeleteService(key); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteService(key); !errors.Is(err, ipvs.ErrServiceNotFound) {
		t.Errorf("second delete: %v, want ErrServiceNotFound", err)
	}
}
