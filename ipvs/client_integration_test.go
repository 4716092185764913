//go:build integration

package ipvs_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs"
)

var (
	cmpAddr   = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	v4        = netip.MustParseAddr
	tcp80     = ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: v4("192.0.2.10"), Port: 80}
	noStats   = cmpopts.IgnoreFields(ipvs.ServiceEntry{}, "Stats")
	noDestObs = cmpopts.IgnoreFields(ipvs.DestinationEntry{}, "Stats", "ActiveConns", "InactiveConns", "PersistentConns")
)

// kernelSchedulers lists the scheduler modules the booted kernel ships.
func kernelSchedulers(t *testing.T) []string {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		t.Fatal(err)
	}
	release := unix.ByteSliceToString(uts.Release[:])
	mods, _ := filepath.Glob("/lib/modules/" + release + "/kernel/net/netfilter/ipvs/ip_vs_*.ko*")
	var out []string
	for _, m := range mods {
		name := strings.TrimPrefix(strings.SplitN(filepath.Base(m), ".", 2)[0], "ip_vs_")
		switch name {
		case "ftp", "pe_sip":
			continue
		}
		out = append(out, name)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d scheduler modules (%v) under /lib/modules/%s", len(out), out, release)
	}
	return out
}

// readBack adds s, then checks both the single-service get and the dump
// return it unchanged (plus the kernel's HASHED flag).
func readBack(t *testing.T, c *ipvs.Client, s ipvs.Service) {
	t.Helper()
	if err := c.AddService(s); err != nil {
		t.Fatalf("AddService(%+v): %v", s, err)
	}
	want := ipvs.ServiceEntry{Service: s}
	want.Flags |= ipvs.FlagHashed
	got, err := c.Service(s.ServiceKey)
	if err != nil {
		t.Fatalf("Service: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpAddr, noStats); diff != "" {
		t.Errorf("Service read back (-want +got):\n%s", diff)
	}
	all, err := c.Services()
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	found := false
	for _, e := range all {
		if e.ServiceKey == s.ServiceKey {
			found = true
			if diff := cmp.Diff(want, e, cmpAddr, noStats); diff != "" {
				t.Errorf("Services entry (-want +got):\n%s", diff)
			}
		}
	}
	if !found {
		t.Errorf("service %+v missing from dump", s.ServiceKey)
	}
}

func TestIntegrationEverySchedulerReadsBack(t *testing.T) {
	c, _ := nsClient(t)
	for i, sched := range kernelSchedulers(t) {
		s := ipvs.Service{ServiceKey: tcp80, Scheduler: sched, Netmask: 0xffffffff}
		s.Port = uint16(1000 + i)
		readBack(t, c, s)
	}
}

func TestIntegrationServiceAttributesReadBack(t *testing.T) {
	c, _ := nsClient(t)
	key := func(p ipvs.Protocol, addr string, port uint16) ipvs.ServiceKey {
		a := v4(addr)
		f := ipvs.IPv4
		if a.Is6() {
			f = ipvs.IPv6
		}
		return ipvs.ServiceKey{Family: f, Protocol: p, Addr: a, Port: port}
	}
	var services []ipvs.Service
	// Every combination of the three scheduler flags, with and without
	// persistence, on TCP; one-packet on UDP.
	for f := ipvs.ServiceFlags(0); f <= ipvs.SchedFlagsMask; f += ipvs.FlagSched1 {
		for _, persist := range []bool{false, true} {
			s := ipvs.Service{ServiceKey: key(ipvs.TCP, "192.0.2.20", uint16(2000+len(services))), Scheduler: "sh", Flags: f, Netmask: 0xffffffff}
			if persist {
				s.Flags |= ipvs.FlagPersistent
				s.Timeout = 120
			}
			services = append(services, s)
		}
	}
	services = append(services,
		ipvs.Service{ServiceKey: key(ipvs.UDP, "192.0.2.21", 53), Scheduler: "rr", Flags: ipvs.FlagOnePacket, Netmask: 0xffffffff},
		ipvs.Service{ServiceKey: key(ipvs.UDP, "192.0.2.21", 5060), Scheduler: "rr", PE: "sip", Flags: ipvs.FlagPersistent | ipvs.FlagOnePacket, Timeout: 360, Netmask: 0xffffffff},
		ipvs.Service{ServiceKey: key(ipvs.TCP, "192.0.2.22", 443), Scheduler: "wlc", Flags: ipvs.FlagPersistent, Timeout: 2678400, Netmask: 0xffffff00},
		ipvs.Service{ServiceKey: key(ipvs.TCP, "192.0.2.22", 0), Scheduler: "wlc", Flags: ipvs.FlagPersistent, Timeout: 1, Netmask: 0x00000030},
		ipvs.Service{ServiceKey: key(ipvs.SCTP, "192.0.2.23", 9), Scheduler: "lc", Netmask: 0xffffffff},
		ipvs.Service{ServiceKey: key(ipvs.TCP, "2001:db8::10", 80), Scheduler: "mh", Flags: ipvs.FlagSched1 | ipvs.FlagSched2, Netmask: 128},
		ipvs.Service{ServiceKey: key(ipvs.TCP, "2001:db8::10", 81), Scheduler: "wrr", Flags: ipvs.FlagPersistent, Timeout: 300, Netmask: 64},
		ipvs.Service{ServiceKey: key(ipvs.SCTP, "2001:db8::10", 82), Scheduler: "rr", Netmask: 128},
		ipvs.Service{ServiceKey: key(ipvs.UDP, "2001:db8::10", 53), Scheduler: "rr", Flags: ipvs.FlagOnePacket, Netmask: 128},
		ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: 1}, Scheduler: "rr", Netmask: 0xffffffff},
		ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: 4294967295}, Scheduler: "wlc", Flags: ipvs.FlagPersistent, Timeout: 60, Netmask: 0xffff0000},
		ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: 2}, Scheduler: "sed", Flags: ipvs.FlagPersistent | ipvs.FlagOnePacket, Timeout: 60, Netmask: 48},
	)
	for _, s := range services {
		readBack(t, c, s)
	}
	// Edit is a full replace.
	edited := services[0]
	edited.Scheduler, edited.Flags, edited.Timeout, edited.Netmask, edited.PE = "rr", ipvs.FlagPersistent|ipvs.FlagSched3, 99, 0xfffffff0, "sip"
	if err := c.EditService(edited); err != nil {
		t.Fatalf("EditService: %v", err)
	}
	got, err := c.Service(edited.ServiceKey)
	if err != nil {
		t.Fatal(err)
	}
	want := ipvs.ServiceEntry{Service: edited}
	want.Flags |= ipvs.FlagHashed
	if diff := cmp.Diff(want, got, cmpAddr, noStats); diff != "" {
		t.Errorf("edited service (-want +got):\n%s", diff)
	}
}

func TestIntegrationDestinationAttributesReadBack(t *testing.T) {
	c, _ := nsClient(t)
	svc4 := ipvs.Service{ServiceKey: tcp80, Scheduler: "wrr", Netmask: 0xffffffff}
	svc6 := ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv6, Protocol: ipvs.UDP, Addr: v4("2001:db8::20"), Port: 53}, Scheduler: "rr", Netmask: 128}
	for _, s := range []ipvs.Service{svc4, svc6} {
		if err := c.AddService(s); err != nil {
			t.Fatal(err)
		}
	}
	d := func(addr string, port uint16, fwd ipvs.ForwardMethod, weight uint32) ipvs.Destination {
		a := v4(addr)
		f := ipvs.IPv4
		if a.Is6() {
			f = ipvs.IPv6
		}
		return ipvs.Destination{Family: f, Addr: a, Port: port, ForwardMethod: fwd, Weight: weight}
	}
	dests4 := []ipvs.Destination{
		d("198.51.100.1", 8080, ipvs.Masquerade, 0),
		d("198.51.100.2", 80, ipvs.Route, 2147483647),
		d("198.51.100.3", 80, ipvs.Tunnel, 1),
	}
	withThresholds := d("198.51.100.4", 80, ipvs.Masquerade, 7)
	withThresholds.UpperThreshold, withThresholds.LowerThreshold = 1000, 10
	dests4 = append(dests4, withThresholds)
	// Every tunnel type with every checksum setting reads back as written
	// (ipvsadm refuses some combinations, the kernel stores them all).
	port := uint16(6000)
	for ti, typ := range []ipvs.TunnelType{ipvs.TunnelIPIP, ipvs.TunnelGUE, ipvs.TunnelGRE} {
		for _, flags := range []ipvs.TunnelFlags{ipvs.TunnelNoChecksum, ipvs.TunnelChecksum, ipvs.TunnelRemoteChecksum} {
			tun := d(fmt.Sprintf("198.51.100.%d", 10+3*ti+int(flags)), 80, ipvs.Tunnel, 1)
			tun.TunnelType, tun.TunnelFlags = typ, flags
			if typ == ipvs.TunnelGUE {
				tun.TunnelPort = port // GUE needs a port
				port++
			}
			dests4 = append(dests4, tun)
		}
	}
	mixed := d("2001:db8::30", 80, ipvs.Tunnel, 3) // IPv6 real server behind an IPv4 service
	dests4 = append(dests4, mixed)
	dests6 := []ipvs.Destination{
		d("2001:db8::21", 53, ipvs.Masquerade, 5),
		d("198.51.100.40", 53, ipvs.Tunnel, 1), // IPv4 real server behind an IPv6 service
	}
	check := func(key ipvs.ServiceKey, dests []ipvs.Destination) {
		t.Helper()
		got, err := c.Destinations(key)
		if err != nil {
			t.Fatalf("Destinations: %v", err)
		}
		var want []ipvs.DestinationEntry
		for _, dst := range dests {
			want = append(want, ipvs.DestinationEntry{Destination: dst})
		}
		sortDests := cmpopts.SortSlices(func(a, b ipvs.DestinationEntry) bool {
			return a.Addr.Less(b.Addr) || a.Addr == b.Addr && a.Port < b.Port
		})
		if diff := cmp.Diff(want, got, cmpAddr, noDestObs, sortDests); diff != "" {
			t.Errorf("destinations of %v (-want +got):\n%s", key.Addr, diff)
		}
	}
	for _, dst := range dests4 {
		if err := c.AddDestination(svc4.ServiceKey, dst); err != nil {
			t.Fatalf("AddDestination(%+v): %v", dst, err)
		}
	}
	for _, dst := range dests6 {
		if err := c.AddDestination(svc6.ServiceKey, dst); err != nil {
			t.Fatalf("AddDestination(%+v): %v", dst, err)
		}
	}
	check(svc4.ServiceKey, dests4)
	check(svc6.ServiceKey, dests6)

	// Edit replaces every field; delete removes exactly one.
	dests4[0].Weight, dests4[0].UpperThreshold, dests4[0].LowerThreshold = 9, 50, 40
	if err := c.EditDestination(svc4.ServiceKey, dests4[0]); err != nil {
		t.Fatalf("EditDestination: %v", err)
	}
	if err := c.DeleteDestination(svc4.ServiceKey, dests4[1]); err != nil {
		t.Fatalf("DeleteDestination: %v", err)
	}
	dests4 = append(dests4[:1], dests4[2:]...)
	check(svc4.ServiceKey, dests4)

	// Destinations of a service that does not exist: empty, not an error.
	missing := tcp80
	missing.Port = 9
	if got, err := c.Destinations(missing); err != nil || len(got) != 0 {
		t.Errorf("Destinations(missing) = %v, %v; want empty, nil", got, err)
	}
}

func TestIntegrationErrorsMapToSentinels(t *testing.T) {
	c, _ := nsClient(t)
	svc := ipvs.Service{ServiceKey: tcp80, Scheduler: "rr", Netmask: 0xffffffff}
	dst := ipvs.Destination{Addr: v4("198.51.100.1"), Port: 80, ForwardMethod: ipvs.Masquerade, Weight: 1}
	other := tcp80
	other.Port = 81
	steps := []struct {
		name string
		call func() error
		want error
	}{
		{"edit before add", func() error { return c.EditService(svc) }, ipvs.ErrServiceNotFound},
		{"delete before add", func() error { return c.DeleteService(svc.ServiceKey) }, ipvs.ErrServiceNotFound},
		{"get before add", func() error { _, err := c.Service(svc.ServiceKey); return err }, ipvs.ErrServiceNotFound},
		{"unknown scheduler", func() error { s := svc; s.Scheduler = "nosuch"; return c.AddService(s) }, ipvs.ErrSchedulerNotFound},
		{"unknown persistence engine", func() error { s := svc; s.PE = "nosuch"; return c.AddService(s) }, ipvs.ErrSchedulerNotFound},
		{"add", func() error { return c.AddService(svc) }, nil},
		{"add twice", func() error { return c.AddService(svc) }, ipvs.ErrServiceExists},
		{"edit to unknown scheduler", func() error { s := svc; s.Scheduler = "nosuch"; return c.EditService(s) }, ipvs.ErrSchedulerNotFound},
		{"dest to missing service", func() error { return c.AddDestination(other, dst) }, ipvs.ErrServiceNotFound},
		{"edit missing dest", func() error { return c.EditDestination(svc.ServiceKey, dst) }, ipvs.ErrDestinationNotFound},
		{"delete missing dest", func() error { return c.DeleteDestination(svc.ServiceKey, dst) }, ipvs.ErrDestinationNotFound},
		{"add dest", func() error { return c.AddDestination(svc.ServiceKey, dst) }, nil},
		{"add dest twice", func() error { return c.AddDestination(svc.ServiceKey, dst) }, ipvs.ErrDestinationExists},
		{"weight 2^31", func() error {
			d := dst
			d.Addr = v4("198.51.100.2")
			d.Weight = 1 << 31
			return c.AddDestination(svc.ServiceKey, d)
		}, unix.ERANGE},
		{"lower threshold above upper", func() error {
			d := dst
			d.Addr, d.LowerThreshold = v4("198.51.100.3"), 50
			return c.AddDestination(svc.ServiceKey, d)
		}, unix.ERANGE},
		{"unspecified dest address", func() error { d := dst; d.Addr = v4("0.0.0.0"); return c.AddDestination(svc.ServiceKey, d) }, unix.EINVAL},
		{"mixed family without tunnel", func() error {
			d := dst
			d.Addr, d.Family = v4("2001:db8::1"), ipvs.IPv6
			return c.AddDestination(svc.ServiceKey, d)
		}, unix.EINVAL},
		{"stop daemon not running", func() error { return c.StopDaemon(ipvs.Daemon{State: ipvs.DaemonBackup}) }, ipvs.ErrDaemonNotRunning},
		{"daemon on unknown interface", func() error { return c.StartDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "nosuch0"}) }, unix.ENODEV},
		{"timeout above INT_MAX/HZ", func() error { return c.SetTimeouts(ipvs.Timeouts{TCP: 1 << 31}) }, unix.EINVAL},
		{"zero missing service", func() error { return c.ZeroService(other) }, ipvs.ErrServiceNotFound},
	}
	for _, s := range steps {
		err := s.call()
		switch {
		case s.want == nil && err != nil:
			t.Errorf("%s: %v", s.name, err)
		case s.want != nil && !errors.Is(err, s.want):
			t.Errorf("%s: error %v, want %v", s.name, err, s.want)
		}
	}
}

func TestIntegrationDaemonsStartListStop(t *testing.T) {
	c, _ := nsClient(t)
	if ds, err := c.Daemons(); err != nil || len(ds) != 0 {
		t.Fatalf("Daemons() = %v, %v; want none", ds, err)
	}
	master := ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "lo", SyncID: 7, MaxLen: 1000, Group: v4("239.0.0.5"), Port: 9000, TTL: 2}
	backup := ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "lo", SyncID: 8, Group: v4("ff02::1:5")}
	for _, d := range []ipvs.Daemon{master, backup} {
		if err := c.StartDaemon(d); err != nil {
			t.Fatalf("StartDaemon(%v): %v", d.State, err)
		}
	}
	if err := c.StartDaemon(master); !errors.Is(err, ipvs.ErrDaemonRunning) {
		t.Errorf("second master: %v, want ErrDaemonRunning", err)
	}
	got, err := c.Daemons()
	if err != nil {
		t.Fatal(err)
	}
	// The kernel fills in its defaults; loopback's MTU (65536) clamps the
	// backup's message size to 65535 minus the IPv6+UDP headers.
	backup.MaxLen, backup.Port, backup.TTL = 65535-48, 8848, 1
	sortDaemons := cmpopts.SortSlices(func(a, b ipvs.Daemon) bool { return a.State < b.State })
	if diff := cmp.Diff([]ipvs.Daemon{master, backup}, got, cmpAddr, sortDaemons); diff != "" {
		t.Errorf("daemons (-want +got):\n%s", diff)
	}
	for _, d := range []ipvs.Daemon{master, backup} {
		if err := c.StopDaemon(d); err != nil {
			t.Errorf("StopDaemon(%v): %v", d.State, err)
		}
	}
	if ds, err := c.Daemons(); err != nil || len(ds) != 0 {
		t.Errorf("after stop: Daemons() = %v, %v; want none", ds, err)
	}
}

func TestIntegrationTimeoutsAndInfo(t *testing.T) {
	c, _ := nsClient(t)
	info, err := c.Info()
	if err != nil || info.VersionString() != "1.2.1" || info.ConnTableSize == 0 {
		t.Errorf("Info() = %+v, %v", info, err)
	}
	def, err := c.Timeouts()
	if err != nil || def != (ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}) {
		t.Fatalf("default Timeouts() = %+v, %v", def, err)
	}
	if err := c.SetTimeouts(ipvs.Timeouts{TCP: 3600, UDP: 45}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Timeouts()
	if want := (ipvs.Timeouts{TCP: 3600, TCPFin: 120, UDP: 45}); err != nil || got != want {
		t.Errorf("Timeouts() = %+v, %v; want %+v (zero keeps TCPFin)", got, err, want)
	}
}

// TestIntegrationZeroAndFlush makes real counters move with a UDP datagram
// sent from inside the namespace (IPVS schedules locally generated traffic),
// then zeroes and flushes.
func TestIntegrationZeroAndFlush(t *testing.T) {
	c, ns := nsClient(t)
	run(t, ns, "/sbin/ip", "link", "add", "dummy0", "type", "dummy")
	run(t, ns, "/sbin/ip", "addr", "add", "203.0.113.2/24", "dev", "dummy0")
	run(t, ns, "/sbin/ip", "link", "set", "dummy0", "up")
	run(t, ns, "/sbin/ip", "route", "add", "192.0.2.0/24", "dev", "dummy0")
	svcs := []ipvs.ServiceKey{
		{Family: ipvs.IPv4, Protocol: ipvs.UDP, Addr: v4("192.0.2.50"), Port: 9999},
		{Family: ipvs.IPv4, Protocol: ipvs.UDP, Addr: v4("192.0.2.51"), Port: 9999},
	}
	for _, k := range svcs {
		if err := c.AddService(ipvs.Service{ServiceKey: k, Scheduler: "rr", Netmask: 0xffffffff}); err != nil {
			t.Fatal(err)
		}
		if err := c.AddDestination(k, ipvs.Destination{Addr: v4("203.0.113.9"), Port: 9999, ForwardMethod: ipvs.Masquerade, Weight: 1}); err != nil {
			t.Fatal(err)
		}
	}
	send := func() {
		inNetNS(t, ns, func() {
			for _, k := range svcs {
				conn, err := net.Dial("udp", netip.AddrPortFrom(k.Addr, k.Port).String())
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				conn.Write([]byte("ping"))
				conn.Close()
			}
		})
	}
	conns := func() []uint64 {
		var out []uint64
		for _, k := range svcs {
			s, err := c.Service(k)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s.Stats.Connections)
		}
		return out
	}
	send()
	// Counters are updated as the packet passes; allow for the estimator.
	deadline := time.Now().Add(5 * time.Second)
	for c := conns(); c[0] == 0 || c[1] == 0; c = conns() {
		if time.Now().After(deadline) {
			t.Fatalf("connection counters stayed %v after traffic", c)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := c.ZeroService(svcs[0]); err != nil {
		t.Fatal(err)
	}
	if got := conns(); got[0] != 0 || got[1] == 0 {
		t.Errorf("after ZeroService(first): counters %v, want [0 >0]", got)
	}
	if err := c.ZeroAll(); err != nil {
		t.Fatal(err)
	}
	if got := conns(); got[0] != 0 || got[1] != 0 {
		t.Errorf("after ZeroAll: counters %v, want zeros", got)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Services(); err != nil || len(got) != 0 {
		t.Errorf("after Flush: Services() = %d entries, %v", len(got), err)
	}
}

// TestIntegrationLargeDump checks multi-part dumps come back complete: 10,000
// services with 5 destinations each, plus one service with 2,000.
func TestIntegrationLargeDump(t *testing.T) {
	if testing.Short() {
		t.Skip("large table")
	}
	c, _ := nsClient(t)
	const services, perService, big = 10000, 5, 2000
	start := time.Now()
	// Built in one batch: the dumps are what is under test here.
	b := c.NewBatch()
	for i := 0; i < services; i++ {
		k := ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), Port: 80}
		b.AddService(ipvs.Service{ServiceKey: k, Scheduler: "rr", Netmask: 0xffffffff})
		n := perService
		if i == 0 {
			n = big
		}
		for j := 0; j < n; j++ {
			b.AddDestination(k, ipvs.Destination{Addr: netip.AddrFrom4([4]byte{198, 19, byte(j >> 8), byte(j)}), Port: 80, ForwardMethod: ipvs.Route, Weight: 1})
		}
	}
	results, err := b.Send()
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range results {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	t.Logf("built %d services, %d destinations in %v", services, (services-1)*perService+big, time.Since(start))
	start = time.Now()
	all, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != services {
		t.Fatalf("dump returned %d services, want %d", len(all), services)
	}
	seen := make(map[netip.Addr]bool, services)
	total := 0
	checked := 0
	for i, s := range all {
		if seen[s.Addr] {
			t.Fatalf("service %v listed twice", s.Addr)
		}
		seen[s.Addr] = true
		// The big service's dump is the multi-part one; a sample of the
		// others (one round trip each) checks they are not mixed up.
		if s.Addr != v4("198.18.0.0") && i%100 != 0 {
			continue
		}
		checked++
		ds, err := c.Destinations(s.ServiceKey)
		if err != nil {
			t.Fatal(err)
		}
		want := perService
		if s.Addr == v4("198.18.0.0") {
			want = big
		}
		if len(ds) != want {
			t.Fatalf("service %v: %d destinations, want %d", s.Addr, len(ds), want)
		}
		total += len(ds)
	}
	t.Logf("listed %d services, and the %d destinations of %d of them, in %v", len(all), total, checked, time.Since(start))
}

// TestIntegrationReferenceReadsClientTable builds a table with the client and
// checks that Debian's ipvsadm 1.31 in the VM saves exactly the expected rules.
func TestIntegrationReferenceReadsClientTable(t *testing.T) {
	c, ns := nsClient(t)
	svc := func(s ipvs.Service, dests ...ipvs.Destination) {
		t.Helper()
		if err := c.AddService(s); err != nil {
			t.Fatalf("AddService(%+v): %v", s.ServiceKey, err)
		}
		for _, d := range dests {
			if err := c.AddDestination(s.ServiceKey, d); err != nil {
				t.Fatalf("AddDestination(%+v): %v", d, err)
			}
		}
	}
	dst := func(addr string, port uint16, fwd ipvs.ForwardMethod, w uint32) ipvs.Destination {
		return ipvs.Destination{Addr: v4(addr), Port: port, ForwardMethod: fwd, Weight: w}
	}
	svc(ipvs.Service{ServiceKey: tcp80, Scheduler: "wrr", Netmask: 0xffffffff},
		dst("198.51.100.2", 80, ipvs.Route, 3), dst("198.51.100.1", 8080, ipvs.Masquerade, 1))
	svc(ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.UDP, Addr: v4("192.0.2.11"), Port: 5060},
		Scheduler: "rr", PE: "sip", Flags: ipvs.FlagPersistent | ipvs.FlagOnePacket, Timeout: 360, Netmask: 0xffffff00})
	svc(ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.SCTP, Addr: v4("192.0.2.12"), Port: 9}, Scheduler: "sh",
		Flags: ipvs.FlagSched1 | ipvs.FlagSched2, Netmask: 0xffffffff})
	gue := ipvs.Destination{Addr: v4("198.51.100.5"), Port: 443, ForwardMethod: ipvs.Tunnel, Weight: 2,
		TunnelType: ipvs.TunnelGUE, TunnelPort: 6080, TunnelFlags: ipvs.TunnelRemoteChecksum}
	gre := ipvs.Destination{Addr: v4("198.51.100.6"), Port: 443, ForwardMethod: ipvs.Tunnel, Weight: 0, TunnelType: ipvs.TunnelGRE, TunnelFlags: ipvs.TunnelChecksum}
	mixed := ipvs.Destination{Family: ipvs.IPv4, Addr: v4("198.51.100.7"), Port: 443, ForwardMethod: ipvs.Tunnel, Weight: 1}
	svc(ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv6, Protocol: ipvs.TCP, Addr: v4("2001:db8::1"), Port: 443}, Scheduler: "wlc",
		Flags: ipvs.FlagPersistent, Timeout: 600, Netmask: 64}, mixed)
	svc(ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: v4("192.0.2.13"), Port: 443}, Scheduler: "rr", Netmask: 0xffffffff},
		gue, gre)
	svc(ipvs.Service{ServiceKey: ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: 5}, Scheduler: "lc", Flags: ipvs.FlagPersistent, Timeout: 360, Netmask: 48},
		ipvs.Destination{Addr: v4("2001:db8::5"), Port: 0, ForwardMethod: ipvs.Route, Weight: 2147483647})

	want := strings.Join([]string{
		"-A -t 192.0.2.10:80 -s wrr",
		"-a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 1",
		"-a -t 192.0.2.10:80 -r 198.51.100.2:80 -g -w 3",
		"-A -t 192.0.2.13:443 -s rr",
		"-a -t 192.0.2.13:443 -r 198.51.100.5:443 -i -w 2 --tun-type gue --tun-port 6080 --tun-remcsum",
		"-a -t 192.0.2.13:443 -r 198.51.100.6:443 -i -w 0 --tun-type gre --tun-csum",
		"-A -u 192.0.2.11:5060 -s rr -p 360 -M 255.255.255.0 --pe sip -o",
		"-A --sctp-service 192.0.2.12:9 -s sh -b sh-fallback,sh-port",
		"-A -t [2001:db8::1]:443 -s wlc -p 600 -M 64",
		"-a -t [2001:db8::1]:443 -r 198.51.100.7:443 -i -w 1 --tun-type ipip",
		"-A -f 5 -6 -s lc -p 360 -M 48",
		"-a -f 5 -6 -r [2001:db8::5]:0 -g -w 2147483647",
		"",
	}, "\n")
	if got := run(t, ns, "/sbin/ipvsadm", "-Sn"); got != want {
		t.Errorf("reference ipvsadm -Sn:\n%s\nwant:\n%s\ndiff:\n%s", got, want, cmp.Diff(want, got))
	}
}

// TestIntegrationBatchSmallReceiveBuffer is a restore in a container where
// the receive buffer cannot be forced: 1,000 failing requests in one Send
// over a 16 KiB buffer (about 20 error replies) each get exactly their own
// error, and the next Send works.
func TestIntegrationBatchSmallReceiveBuffer(t *testing.T) {
	ns := newNetNS(t)
	run(t, ns, "/sbin/ip", "link", "set", "lo", "up") // the kernel checks destination addresses against local routes
	c, err := ipvs.Dial(&ipvs.Config{NetNSFD: int(ns.Fd()), ReceiveBuffer: 8192})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.AddService(ipvs.Service{ServiceKey: tcp80, Scheduler: "rr", Netmask: 0xffffffff}); err != nil {
		t.Fatal(err)
	}
	present := ipvs.Destination{Addr: v4("198.51.100.1"), Port: 80, ForwardMethod: ipvs.Route, Weight: 1}
	if err := c.AddDestination(tcp80, present); err != nil {
		t.Fatal(err)
	}
	missing := tcp80
	missing.Port = 81
	type want struct {
		op    ipvs.Op
		errno unix.Errno
	}
	var wants []want
	b := c.NewBatch()
	for i := range 1000 {
		d := ipvs.Destination{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(2 + i%200)}), Port: uint16(1000 + i/200), ForwardMethod: ipvs.Route, Weight: 1}
		switch i % 4 {
		case 0:
			b.AddService(ipvs.Service{ServiceKey: tcp80, Scheduler: "rr", Netmask: 0xffffffff})
			wants = append(wants, want{ipvs.OpAddService, unix.EEXIST})
		case 1:
			b.AddDestination(missing, d)
			wants = append(wants, want{ipvs.OpAddDestination, unix.ESRCH})
		case 2:
			b.DeleteDestination(tcp80, d)
			wants = append(wants, want{ipvs.OpDeleteDestination, unix.ENOENT})
		default:
			b.AddDestination(tcp80, present)
			wants = append(wants, want{ipvs.OpAddDestination, unix.EEXIST})
		}
	}
	results, err := b.Send()
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	for i, r := range results {
		var e *ipvs.Error
		if !errors.As(r, &e) || e.Op != wants[i].op || e.Errno() != wants[i].errno {
			t.Errorf("result %d = %v, want %v from %v", i, r, wants[i].errno, wants[i].op)
		}
	}
	if size, err := ipvs.ReceiveBufferOf(c); err != nil || size > 16384 {
		t.Errorf("receive buffer %d, %v; want the 16 KiB asked for", size, err)
	}
	b.AddDestination(tcp80, ipvs.Destination{Addr: v4("198.51.100.250"), Port: 80, ForwardMethod: ipvs.Route, Weight: 1})
	b.DeleteDestination(tcp80, present)
	if results, err := b.Send(); err != nil || results[0] != nil || results[1] != nil {
		t.Fatalf("next Send = %v, %v", results, err)
	}
	dests, err := c.Destinations(tcp80)
	if err != nil || len(dests) != 1 || dests[0].Addr != v4("198.51.100.250") {
		t.Errorf("Destinations() = %v, %v; want only 198.51.100.250", dests, err)
	}
}
