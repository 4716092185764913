package ipvs_test

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// fakeClient returns a client of a fake kernel. Production code calls
// ipvs.New() or ipvs.Dial instead.
func fakeClient() *ipvs.Client {
	c, err := ipvs.NewFromConn(ipvstest.New().NetlinkConn())
	if err != nil {
		panic(err) // the fake kernel always has IPVS
	}
	return c
}

var web = ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("192.0.2.10"), Port: 80}

// Dial opens a client in another network namespace, here one made with
// `ip netns add lb`.
func ExampleDial() {
	c, err := ipvs.Dial(&ipvs.Config{NetNSPath: "/run/netns/lb"})
	if errors.Is(err, ipvs.ErrNotAvailable) {
		fmt.Println("IPVS is not available: load ip_vs")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	info, err := c.Info()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("IPVS", info.VersionString())
}

func ExampleClient_AddService() {
	c := fakeClient() // production code: c, err := ipvs.New()
	defer c.Close()

	svc := ipvs.Service{ServiceKey: web, Scheduler: "wlc"}
	fmt.Println(c.AddService(svc))
	err := c.AddService(svc)
	fmt.Println(err)
	fmt.Println(errors.Is(err, ipvs.ErrServiceExists))
	// Output:
	// <nil>
	// ipvs: add service 192.0.2.10:80/tcp: service already exists
	// true
}

func ExampleClient_AddDestination() {
	c := fakeClient() // production code: c, err := ipvs.New()
	defer c.Close()

	rs := ipvs.Destination{Addr: netip.MustParseAddr("198.51.100.1"), Port: 8080, ForwardMethod: ipvs.Masquerade, Weight: 1}
	fmt.Println(c.AddDestination(web, rs))
	if err := c.AddService(ipvs.Service{ServiceKey: web, Scheduler: "rr"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.AddDestination(web, rs))
	// Output:
	// ipvs: add destination 198.51.100.1:8080 to 192.0.2.10:80/tcp: no such service
	// <nil>
}

func ExampleClient_Services() {
	c := fakeClient() // production code: c, err := ipvs.New()
	defer c.Close()
	if err := c.AddService(ipvs.Service{ServiceKey: web, Scheduler: "rr"}); err != nil {
		fmt.Println(err)
		return
	}
	for i := 1; i <= 2; i++ {
		rs := ipvs.Destination{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), Port: 80, ForwardMethod: ipvs.Route, Weight: uint32(i)}
		if err := c.AddDestination(web, rs); err != nil {
			fmt.Println(err)
			return
		}
	}

	svcs, err := c.Services()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range svcs {
		fmt.Printf("%v %v:%d %s\n", s.Protocol, s.Addr, s.Port, s.Scheduler)
		dests, err := c.Destinations(s.ServiceKey)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, d := range dests {
			fmt.Printf("  -> %v:%d %v weight %d\n", d.Addr, d.Port, d.ForwardMethod, d.Weight)
		}
	}
	// Output:
	// TCP 192.0.2.10:80 rr
	//   -> 198.51.100.2:80 Route weight 2
	//   -> 198.51.100.1:80 Route weight 1
}

func ExampleBatch() {
	c := fakeClient() // production code: c, err := ipvs.New()
	defer c.Close()

	b := c.NewBatch()
	b.AddService(ipvs.Service{ServiceKey: web, Scheduler: "rr"})
	b.AddDestination(web, ipvs.Destination{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80, Weight: 1})
	b.AddDestination(web, ipvs.Destination{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80, Weight: 1})
	b.DeleteService(ipvs.ServiceKey{FWMark: 7})
	results, err := b.Send()
	if err != nil {
		fmt.Println(err)
	}
	for i, r := range results {
		fmt.Println(i, r)
	}
	// Output:
	// 0 <nil>
	// 1 <nil>
	// 2 ipvs: add destination 198.51.100.1:80 to 192.0.2.10:80/tcp: destination already exists
	// 3 ipvs: delete service fwmark 7/inet: no such service
}
