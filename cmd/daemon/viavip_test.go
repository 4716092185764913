package daemon

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
	"github.com/lvsadm/lvsadm/sysctl"
)

// viaYAML has three DR real servers, two of them with via_vip checks, and
// a tunnel server with one.
const viaYAML = `schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.10
    port: 80
    real_servers:
      - {address: 198.51.100.1, health_check: {type: tcp, via_vip: true}}
      - {address: 198.51.100.2, health_check: {type: tcp, via_vip: true}}
      - {address: 198.51.100.3, health_check: {type: tcp}}
  - protocol: udp
    address: 192.0.2.10
    port: 53
    real_servers:
      - {address: 198.51.100.1, health_check: {type: udp, via_vip: true}}
      - {address: 203.0.113.7, method: tunnel, tunnel: {type: gue, port: 6080}, health_check: {type: udp, via_vip: true}}
`

// viaFixture is a viaVIP on a fake kernel that already holds the
// operator's fwmark service 5, with accept_local as given.
func viaFixture(t *testing.T, acceptLocal string) (*viaVIP, *ipvs.Client, *ipvstest.Kernel) {
	t.Helper()
	root := t.TempDir()
	for _, iface := range []string{"all", "eth0"} {
		dir := filepath.Join(root, "net/ipv4/conf", iface)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		v := "0"
		if iface == "eth0" {
			v = acceptLocal
		}
		if err := os.WriteFile(filepath.Join(dir, "accept_local"), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.NetlinkConn())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	operator := ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: 5}
	if err := c.AddService(ipvs.Service{ServiceKey: operator, Scheduler: "wlc", Netmask: 0xffffffff}); err != nil {
		t.Fatal(err)
	}
	v := &viaVIP{client: c, sysctl: sysctl.New(root), first: DefaultViaVIPMark,
		source: func(a netip.Addr) (netip.Addr, error) {
			if a.Is4() && a.As4()[0] == 198 {
				return netip.MustParseAddr("198.51.100.254"), nil
			}
			if a == netip.MustParseAddr("203.0.113.7") {
				return netip.MustParseAddr("203.0.113.254"), nil
			}
			return netip.Addr{}, errors.New("no route: network is unreachable")
		},
		iface: func(netip.Addr) (string, error) { return "eth0", nil },
	}
	return v, c, k
}

func parseTable(t *testing.T, text string) *desired.Table {
	t.Helper()
	tbl, err := desired.Parse("lvs.yaml", []byte(text), desired.YAML, compat.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// fwmarkServices lists the kernel's fwmark services as "MARK SCHED ADDR
// METHOD ...".
func fwmarkServices(t *testing.T, c *ipvs.Client) []string {
	t.Helper()
	svcs, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range svcs {
		if !s.IsFWMark() {
			continue
		}
		line := fmt.Sprintf("%d %s", s.FWMark, s.Scheduler)
		dests, err := c.Destinations(s.ServiceKey)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dests {
			line += fmt.Sprintf(" %s:%d %s w%d tun%d:%d", d.Addr, d.Port, d.ForwardMethod, d.Weight, d.TunnelType, d.TunnelPort)
		}
		out = append(out, line)
	}
	return out
}

func TestViaVIPServices(t *testing.T) {
	v, c, k := viaFixture(t, "1")
	// A leftover of an earlier daemon at a mark the table does not need.
	stale := ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: DefaultViaVIPMark + 9}
	if err := c.AddService(ipvs.Service{ServiceKey: stale, Scheduler: "rr", Netmask: 0xffffffff}); err != nil {
		t.Fatal(err)
	}
	tbl := parseTable(t, viaYAML)
	if err := v.prepare(tbl); err != nil {
		t.Fatal(err)
	}
	first := uint32(DefaultViaVIPMark)
	want := []string{
		fmt.Sprintf("%d rr 198.51.100.1:0 Route w1 tun0:0", first),
		fmt.Sprintf("%d rr 198.51.100.2:0 Route w1 tun0:0", first+1),
		fmt.Sprintf("%d rr 203.0.113.7:0 Tunnel w1 tun1:6080", first+2),
		"5 wlc", // the operator's, untouched
	}
	got := fwmarkServices(t, c)
	if d := cmp.Diff(want, slices.Sorted(slices.Values(got))); d != "" {
		t.Errorf("fwmark services (-want +got):\n%s", d)
	}
	wantRoutes := map[viaKey]viaRoute{
		{netip.MustParseAddr("198.51.100.1"), ipvs.Route}: {first, netip.MustParseAddr("198.51.100.254")},
		{netip.MustParseAddr("198.51.100.2"), ipvs.Route}: {first + 1, netip.MustParseAddr("198.51.100.254")},
		{netip.MustParseAddr("203.0.113.7"), ipvs.Tunnel}: {first + 2, netip.MustParseAddr("203.0.113.254")},
	}
	if !maps.Equal(wantRoutes, v.routes) {
		t.Errorf("routes %v, want %v", v.routes, wantRoutes)
	}

	// A restarted daemon adopts them: no change.
	v2, _, _ := viaFixture(t, "1")
	v2.client = c
	changes := k.Changes()
	if err := v2.prepare(tbl); err != nil {
		t.Fatal(err)
	}
	if n := k.Changes() - changes; n != 0 {
		t.Errorf("a second prepare made %d changes, want 0", n)
	}
	if !maps.Equal(v.routes, v2.routes) {
		t.Errorf("adopted routes %v, want %v", v2.routes, v.routes)
	}

	// A reload without 198.51.100.2's via_vip: its service goes, the
	// others keep their marks.
	if err := v.prepare(parseTable(t, strings.Replace(viaYAML, "198.51.100.2, health_check: {type: tcp, via_vip: true}", "198.51.100.2", 1))); err != nil {
		t.Fatal(err)
	}
	want = []string{want[0], want[2], want[3]}
	if d := cmp.Diff(want, slices.Sorted(slices.Values(fwmarkServices(t, c)))); d != "" {
		t.Errorf("after the reload (-want +got):\n%s", d)
	}

	// A new tunnel port: that server's service is made anew with it.
	if err := v.prepare(parseTable(t, strings.Replace(viaYAML, "port: 6080", "port: 6081", 1))); err != nil {
		t.Fatal(err)
	}
	want = []string{want[0], fmt.Sprintf("%d rr 198.51.100.2:0 Route w1 tun0:0", first+1), fmt.Sprintf("%d rr 203.0.113.7:0 Tunnel w1 tun1:6081", first+2), want[2]}
	if d := cmp.Diff(want, slices.Sorted(slices.Values(fwmarkServices(t, c)))); d != "" {
		t.Errorf("after a new tunnel port (-want +got):\n%s", d)
	}

	// Stopping with --flush-on-exit removes them.
	if err := v.remove(); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"5 wlc"}, fwmarkServices(t, c)); d != "" {
		t.Errorf("after remove (-want +got):\n%s", d)
	}
}

func TestViaVIPRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, acceptLocal, want string
	}{
		{"accept_local off", viaYAML, "0",
			"lvs.yaml:7:9: via_vip check of 198.51.100.1: the answers come from the VIP, an address of this host, which eth0 drops: set net.ipv4.conf.eth0.accept_local=1"},
		{"no route", strings.Replace(viaYAML, "203.0.113.7", "2001:db8::7", 1), "1",
			"lvs.yaml:15:9: via_vip check of 2001:db8::7: no route: network is unreachable"},
		{"mark in the range", viaYAML + "  - fwmark: 1280704520\n    real_servers: [{address: 198.51.100.4}]\n", "1",
			"lvs.yaml:16:5: firewall mark 1280704520 is in the range lvsadm run keeps for via_vip checks (1280704512-1280770047, --via-vip-mark)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, c, k := viaFixture(t, tc.acceptLocal)
			changes := k.Changes()
			err := v.prepare(parseTable(t, tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("prepare: %v\nwant an error with %q", err, tc.want)
			}
			if n := k.Changes() - changes; n != 0 {
				t.Errorf("a refused table made %d changes", n)
			}
			if got := fwmarkServices(t, c); len(got) != 1 {
				t.Errorf("fwmark services after the refusal: %q", got)
			}
		})
	}
}

// TestViaVIPUnused: a daemon whose file has no via_vip check leaves the
// mark range alone, even a service there it did not make.
func TestViaVIPUnused(t *testing.T) {
	v, c, k := viaFixture(t, "0") // accept_local does not matter without via_vip
	other := ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: DefaultViaVIPMark + 3}
	if err := c.AddService(ipvs.Service{ServiceKey: other, Scheduler: "rr", Netmask: 0xffffffff}); err != nil {
		t.Fatal(err)
	}
	changes, sends := k.Changes(), k.Sends()
	if err := v.prepare(parseTable(t, strings.ReplaceAll(viaYAML, ", via_vip: true", ""))); err != nil {
		t.Fatal(err)
	}
	if n, m := k.Changes()-changes, k.Sends()-sends; n != 0 || m != 0 {
		t.Errorf("prepare without via_vip checks made %d changes in %d requests, want none", n, m)
	}
}
