package kerneltable

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

const header = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"

// fakeTable is two services in the fake kernel, each with one destination
// of weight 1, and /proc text for them whose weights say 7 and 8, so that
// a test can tell where each weight came from. The fake lists services
// newest first.
func fakeTable(t *testing.T) (*ipvs.Client, string) {
	t.Helper()
	c, err := ipvs.NewFromConn(ipvstest.New().NetlinkConn())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for i, vip := range []string{"192.0.2.1", "192.0.2.2"} {
		k := ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr(vip), Port: 80}
		if err := c.AddService(ipvs.Service{ServiceKey: k, Scheduler: "rr", Netmask: 0xffffffff}); err != nil {
			t.Fatal(err)
		}
		d := ipvs.Destination{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}), Port: 80, ForwardMethod: ipvs.Masquerade, Weight: 1}
		if err := c.AddDestination(k, d); err != nil {
			t.Fatal(err)
		}
	}
	proc := header +
		"TCP  C0000202:0050 rr  \n  -> C6336402:0050      Masq    8      0          0         \n" +
		"TCP  C0000201:0050 rr  \n  -> C6336401:0050      Masq    7      0          0         \n"
	return c, proc
}

func opener(text string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }
}

// weights reads every service's destinations and returns their weights.
func weights(t *testing.T, tbl *Table) []uint32 {
	t.Helper()
	var w []uint32
	for i := range tbl.Services {
		dests, err := tbl.Dests(nil, i)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dests {
			w = append(w, d.Weight)
		}
	}
	return w
}

func TestDestinationSources(t *testing.T) {
	c, proc := fakeTable(t)
	for _, tt := range []struct {
		name       string
		open       func() (io.ReadCloser, error)
		netlinkFor func(*ipvs.ServiceEntry) bool
		want       string
	}{
		{"from /proc", opener(proc), nil, "[8 7]"},
		{"no /proc", nil, nil, "[1 1]"},
		{"/proc unreadable", func() (io.ReadCloser, error) { return nil, errors.New("no") }, nil, "[1 1]"},
		{"/proc missing a service", opener(header + "TCP  C0000201:0050 rr  \n"), nil, "[1 1]"},
		{"/proc with another scheduler", opener(strings.Replace(proc, "C0000201:0050 rr", "C0000201:0050 wrr", 1)), nil, "[1 1]"},
		{"a bad destination line", opener(strings.Replace(proc, "Masq    7", "Masq    x", 1)), nil, "[8 1]"},
		{"a tunnel destination", opener(strings.Replace(proc, "Masq    7", "Tunnel  7", 1)), nil, "[8 1]"},
		{"netlink asked for", opener(proc), func(s *ipvs.ServiceEntry) bool { return s.Addr == netip.MustParseAddr("192.0.2.2") }, "[1 7]"},
	} {
		tbl, err := Read(c, tt.open)
		if err != nil {
			t.Fatal(err)
		}
		tbl.NetlinkFor = tt.netlinkFor
		got := fmt.Sprint(weights(t, tbl))
		if got != tt.want {
			t.Errorf("%s: weights %q, want %q", tt.name, got, tt.want)
		}
	}
}
