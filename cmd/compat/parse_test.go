package compat

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lvsadm/lvsadm/ipvs"
)

// fakeResolver knows a few names, like the reference VM's /etc/hosts and
// Debian's /etc/services (no SCTP names there).
type fakeResolver struct{}

func (fakeResolver) LookupHost(name string) (netip.Addr, bool) {
	switch name {
	case "localhost":
		return netip.MustParseAddr("127.0.0.1"), true
	case "web.example":
		return netip.MustParseAddr("192.0.2.80"), true
	case "mask.example":
		return netip.MustParseAddr("255.255.255.0"), true
	}
	return netip.Addr{}, false
}

func (fakeResolver) LookupPort(name string, proto ipvs.Protocol) (uint16, bool) {
	switch {
	case (name == "http" || name == "www") && proto == ipvs.TCP:
		return 80, true
	case name == "domain" && (proto == ipvs.TCP || proto == ipvs.UDP):
		return 53, true
	case name == "sip" && (proto == ipvs.TCP || proto == ipvs.UDP):
		return 5060, true
	}
	return 0, false
}

// cmpOpts compares Invocations by what they say, not by the memo ParseInto
// keeps from line to line.
var cmpOpts = cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmpopts.IgnoreUnexported(Invocation{})}

// want builds an expected Invocation from ipvsadm's initial state.
func want(cmd Command, opts Options, edit func(*Invocation)) *Invocation {
	inv := &Invocation{
		Command: cmd,
		Options: opts,
		Service: ipvs.Service{Netmask: 0xffffffff},
		Dest:    ipvs.Destination{Weight: 1, ForwardMethod: ipvs.Route},
	}
	if edit != nil {
		edit(inv)
	}
	return inv
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func tcp(addr string, port uint16) ipvs.ServiceKey {
	return ipvs.ServiceKey{Family: family(addr), Protocol: ipvs.TCP, Addr: ip(addr), Port: port}
}

func udp(addr string, port uint16) ipvs.ServiceKey {
	return ipvs.ServiceKey{Family: family(addr), Protocol: ipvs.UDP, Addr: ip(addr), Port: port}
}

func fwmark(mark uint32) ipvs.ServiceKey {
	return ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, FWMark: mark}
}

func family(addr string) ipvs.Family {
	if ip(addr).Is4() {
		return ipvs.IPv4
	}
	return ipvs.IPv6
}

// addService is what -A/-E leave in the service by default.
func addService(key ipvs.ServiceKey) ipvs.Service {
	svc := ipvs.Service{ServiceKey: key, Scheduler: "wlc", Netmask: 0xffffffff}
	if key.Family == ipvs.IPv6 {
		svc.Netmask = 128
	}
	return svc
}

// bare is a service as the commands other than -A/-E leave it.
func bare(key ipvs.ServiceKey) ipvs.Service {
	svc := addService(key)
	svc.Scheduler = ""
	return svc
}

func dest(addr string, port uint16, method ipvs.ForwardMethod) ipvs.Destination {
	return ipvs.Destination{Family: family(addr), Addr: ip(addr), Port: port, ForwardMethod: method, Weight: 1}
}

func split(cmdline string) []string {
	if cmdline == "" {
		return nil
	}
	return strings.Split(cmdline, " ")
}

type acceptedCase struct {
	name string
	args []string // nil: split the name at spaces
	want *Invocation
}

func (c acceptedCase) argv() []string {
	if c.args != nil {
		return c.args
	}
	return split(c.name)
}

const svcOpt = OptService

var acceptedCases = []acceptedCase{
	// Commands.
	{name: "", want: want(List, 0, nil)},
	{name: "-L", want: want(List, 0, nil)},
	{name: "-l", want: want(List, 0, nil)},
	{name: "--list", want: want(List, 0, nil)},
	{name: "-Ln", want: want(List, OptNumeric, nil)},
	{name: "-L -n", want: want(List, OptNumeric, nil)},
	{name: "-lnc", want: want(List, OptNumeric|OptConnection, nil)},
	{name: "-Lnt 192.0.2.4:80", want: want(List, OptNumeric|svcOpt, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.4", 80))
	})},
	{name: "-L --stats --rate --thresholds --persistent-conn --tun-info --nosort --sort -X -n", want: want(List,
		OptStats|OptRate|OptThresholds|OptPersistentConn|OptTunInfo|OptNoSort|OptExact|OptNumeric, nil)},
	{name: "-L --exact --timeout", want: want(List, OptExact|OptTimeout, nil)},
	{name: "-L --daemon", want: want(List, OptDaemon, nil)},
	{name: "-L -c --persistent-conn", want: want(List, OptConnection|OptPersistentConn, nil)},
	{name: "-L --syncid 5", want: want(List, OptSyncID, func(i *Invocation) { i.Daemon.SyncID = 5 })},
	{name: "--list --sort --sort", want: want(List, 0, nil)},
	{name: "-C", want: want(Flush, 0, nil)},
	{name: "--clear", want: want(Flush, 0, nil)},
	{name: "-S", want: want(Save, 0, nil)},
	{name: "-Sn", want: want(Save, OptNumeric, nil)},
	{name: "--save --numeric", want: want(Save, OptNumeric, nil)},
	{name: "-R", want: want(Restore, 0, nil)},
	{name: "--restore", want: want(Restore, 0, nil)},
	{name: "-Z", want: want(Zero, 0, nil)},
	{name: "-Z -t 192.0.2.1:80", want: want(Zero, svcOpt, func(i *Invocation) { i.Service = bare(tcp("192.0.2.1", 80)) })},
	{name: "--zero -f 5", want: want(Zero, svcOpt, func(i *Invocation) { i.Service = bare(fwmark(5)) })},
	{name: "--set 1 2 3", want: want(SetTimeouts, 0, func(i *Invocation) { i.Timeouts = ipvs.Timeouts{TCP: 1, TCPFin: 2, UDP: 3} })},
	{name: "--set 0 +5 2678400", want: want(SetTimeouts, 0, func(i *Invocation) { i.Timeouts = ipvs.Timeouts{TCPFin: 5, UDP: 2678400} })},
	{name: "set with spaces", args: []string{"--set", " 4", "\t5", "6"}, want: want(SetTimeouts, 0, func(i *Invocation) {
		i.Timeouts = ipvs.Timeouts{TCP: 4, TCPFin: 5, UDP: 6}
	})},
	{name: "1 --set 2 3", want: want(SetTimeouts, 0, func(i *Invocation) { i.Timeouts = ipvs.Timeouts{TCP: 1, TCPFin: 2, UDP: 3} })},
	{name: "--start-daemon master", want: want(StartDaemon, 0, func(i *Invocation) {
		i.Daemon = ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0"}
	})},
	{name: "--start-daemon=backup --mcast-interface=lo", want: want(StartDaemon, OptMcastInterface, func(i *Invocation) {
		i.Daemon = ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "lo"}
	})},
	{name: "--start-daemon master --mcast-interface lo --syncid 3 --sync-maxlen 1000 --mcast-group 239.1.2.3 --mcast-port 9999 --mcast-ttl 4",
		want: want(StartDaemon, OptMcastInterface|OptSyncID|OptSyncMaxLen|OptMcastGroup|OptMcastPort|OptMcastTTL, func(i *Invocation) {
			i.Daemon = ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "lo", SyncID: 3, MaxLen: 1000,
				Group: ip("239.1.2.3"), Port: 9999, TTL: 4}
		})},
	{name: "--start-daemon backup --mcast-interface lo --mcast-group ff02::5", want: want(StartDaemon, OptMcastInterface|OptMcastGroup, func(i *Invocation) {
		i.Daemon = ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "lo", Group: ip("ff02::5")}
	})},
	{name: "--start-daemon master --mcast-interface 0123456789abcdefXYZ --syncid 255 --sync-maxlen 65507 --mcast-port 65535 --mcast-ttl 255 --mcast-group 224.0.0.1",
		want: want(StartDaemon, OptMcastInterface|OptSyncID|OptSyncMaxLen|OptMcastGroup|OptMcastPort|OptMcastTTL, func(i *Invocation) {
			i.Daemon = ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "0123456789abcde", SyncID: 255, MaxLen: 65507,
				Group: ip("224.0.0.1"), Port: 65535, TTL: 255}
		})},
	{name: "--stop-daemon backup --syncid 3", want: want(StopDaemon, OptSyncID, func(i *Invocation) {
		i.Daemon = ipvs.Daemon{State: ipvs.DaemonBackup, SyncID: 3}
	})},
	{name: "--stop-daemon master", want: want(StopDaemon, 0, func(i *Invocation) { i.Daemon.State = ipvs.DaemonMaster })},
	{name: "-h", want: want(Help, 0, nil)},
	{name: "--help extra --bogus -L", want: want(Help, 0, nil)},
	{name: "-hx", want: want(Help, 0, nil)},
	{name: "-h -n", want: want(Help, 0, nil)},
	{name: "-v", want: want(Version, 0, nil)},
	{name: "--version -L", want: want(Version, 0, nil)},

	// Virtual services.
	{name: "-A -t 192.0.2.1:80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.1", 80)) })},
	{name: "-E -t 192.0.2.1:80", want: want(EditService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.1", 80)) })},
	{name: "-D -t 192.0.2.1:80", want: want(DeleteService, svcOpt, func(i *Invocation) { i.Service = bare(tcp("192.0.2.1", 80)) })},
	{name: "--add-service --tcp-service=192.0.2.3:80", want: want(AddService, svcOpt, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.3", 80))
	})},
	{name: "-At 192.0.2.1:80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.1", 80)) })},
	{name: "-At192.0.2.2:80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.2", 80)) })},
	{name: "-At=192.0.2.1:80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.1", 80)) })},
	{name: "-A -t=192.0.2.3:80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.3", 80)) })},
	{name: "-A -u 192.0.2.1:53 -s rr", want: want(AddService, svcOpt|OptScheduler, func(i *Invocation) {
		i.Service = addService(udp("192.0.2.1", 53))
		i.Service.Scheduler = "rr"
	})},
	{name: "-A --sctp-service 192.0.2.1:80", want: want(AddService, svcOpt, func(i *Invocation) {
		i.Service = addService(ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.SCTP, Addr: ip("192.0.2.1"), Port: 80})
	})},
	{name: "-A -f 5", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(fwmark(5)) })},
	{name: "-A -f 4294967295 -s rr", want: want(AddService, svcOpt|OptScheduler, func(i *Invocation) {
		i.Service = addService(fwmark(4294967295))
		i.Service.Scheduler = "rr"
	})},
	{name: "-A -f +7", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(fwmark(7)) })},
	{name: "-A -t 192.0.2.1:80 -s 0123456789abcdefXYZ", want: want(AddService, svcOpt|OptScheduler, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "0123456789abcde"
	})},
	{name: "-A -t 192.0.2.1:80 --pe 0123456789abcdefXYZ", want: want(AddService, svcOpt|OptPE, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.PE = "0123456789abcdef"
	})},
	{name: "-A -u 192.0.2.13:53 -s rr -p --pe sip -o", want: want(AddService, svcOpt|OptScheduler|OptPersistent|OptPE|OptOnePacket, func(i *Invocation) {
		i.Service = addService(udp("192.0.2.13", 53))
		i.Service.Scheduler = "rr"
		i.Service.PE = "sip"
		i.Service.Flags = ipvs.FlagPersistent | ipvs.FlagOnePacket
		i.Service.Timeout = 360
	})},
	{name: "-A -f 6 -o", want: want(AddService, svcOpt|OptOnePacket, func(i *Invocation) {
		i.Service = addService(fwmark(6))
		i.Service.Flags = ipvs.FlagOnePacket
	})},

	// Persistence: -p takes the next word unless it starts with '-'.
	{name: "-A -t 192.0.2.1:80 -p", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 360
	})},
	{name: "-A -p -t 192.0.2.1:80", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 360
	})},
	{name: "-A -p 100 -t 192.0.2.1:80", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 100
	})},
	{name: "-A -t 192.0.2.1:80 -p100", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 100
	})},
	{name: "-Ap2678400 -t 192.0.2.1:80", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 2678400
	})},
	{name: "-A -t 192.0.2.1:80 --persistent=200", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 200
	})},
	{name: "-A -t 192.0.2.1:80 -p=1", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 1
	})},
	{name: "-A -t 192.0.2.5:0 -p 300 -M 255.255.255.0", want: want(AddService, svcOpt|OptPersistent|OptNetmask, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.5", 0))
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 300, 0xffffff00
	})},
	{name: "-A -t 192.0.2.5 -p", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.5", 0))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 360
	})},

	// Netmasks follow the family known when -M is read.
	{name: "-A -t [2001:db8::5]:80 -M 64 -p", want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("2001:db8::5", 80))
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 64
	})},
	{name: "-A -M 64 -t [2001:db8::6]:80 -p", want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("2001:db8::6", 80))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 360
	})},
	{name: "-A -f 4 -6 -M 48 -p", want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(fwmark(4))
		i.Service.Family = ipvs.IPv6
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 48
	})},
	{name: "-A -f 5 -M 48 -6 -p", want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(fwmark(5))
		i.Service.Family = ipvs.IPv6
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 128
	})},
	{name: "-A -M 255.255.0.0 -t 192.0.2.1:80 -p", want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 0xffff0000
	})},
	{name: "-A -t 192.0.2.2:80 -p -M 48", want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.2", 80))
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 48
	})},
	{name: "-A -t 192.0.2.2:80 -p -M mask.example", want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.2", 80))
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 0xffffff00
	})},
	{name: "-A -t 192.0.2.2:80 -M 0xff.0377", want: want(AddService, svcOpt|OptNetmask, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.2", 80))
		i.Service.Netmask = 0xff0000ff
	})},
	// atoi: trailing junk ignored, 32-bit truncation (2^32+64 is 64).
	{name: "-A -f1 -6 -6 -M 64abc -p", want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(fwmark(1))
		i.Service.Family = ipvs.IPv6
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 64
	})},
	{name: "-A -f1 -6 -M 4294967360 -p", want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(fwmark(1))
		i.Service.Family = ipvs.IPv6
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 64
	})},
	{name: "v6 netmask with space", args: []string{"-A", "-f1", "-6", "-M", " 64", "-p"}, want: want(AddService, svcOpt|OptNetmask|OptPersistent, func(i *Invocation) {
		i.Service = addService(fwmark(1))
		i.Service.Family = ipvs.IPv6
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 64
	})},

	// Address forms.
	{name: "-A -t 2001:db8::2 -p", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("2001:db8::2", 0))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 360
	})},
	{name: "-A -t [2001:db8::1]:80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("2001:db8::1", 80)) })},
	{name: "-A -t [::ffff:192.0.2.1]:80", want: want(AddService, svcOpt, func(i *Invocation) {
		i.Service = addService(tcp("::ffff:192.0.2.1", 80))
	})},
	{name: "-A -t [192.0.2.1]:80 -p", want: want(AddService, svcOpt|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 0))
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 360
	})},
	{name: "-A -t [192.0.2.1:99]:80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.1", 99)) })},
	{name: "-A -t 127.1:http", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("127.0.0.1", 80)) })},
	{name: "-A -t 0x7f.1:80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("127.0.0.1", 80)) })},
	{name: "-A -t 010.0x10.0.1:80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("8.16.0.1", 80)) })},
	{name: "-A -t 3221225985:+80", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.1", 80)) })},
	{name: "-A -t localhost:domain", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("127.0.0.1", 53)) })},
	{name: "-A -u localhost:domain", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(udp("127.0.0.1", 53)) })},
	{name: "-A -t web.example:www", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.80", 80)) })},
	{name: "inet_aton ignores text after a space", args: []string{"-A", "-t", "192.0.2.1 x:80"}, want: want(AddService, svcOpt, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
	})},
	{name: "-A -t 192.0.2.1:65535", want: want(AddService, svcOpt, func(i *Invocation) { i.Service = addService(tcp("192.0.2.1", 65535)) })},

	// Scheduler flags, checked against -s wherever it appears.
	{name: "-A -t 192.0.2.16:80 -s sh -b sh-fallback,sh-port", want: want(AddService, svcOpt|OptScheduler|OptSchedFlags, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.16", 80))
		i.Service.Scheduler = "sh"
		i.Service.Flags = ipvs.FlagSched1 | ipvs.FlagSched2
	})},
	{name: "-A -t 192.0.2.16:80 -b mh-port -s mh", want: want(AddService, svcOpt|OptScheduler|OptSchedFlags, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.16", 80))
		i.Service.Scheduler = "mh"
		i.Service.Flags = ipvs.FlagSched2
	})},
	{name: "-A -t 192.0.2.19:80 -b flag-1,,flag-3, -p 10", want: want(AddService, svcOpt|OptSchedFlags|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.19", 80))
		i.Service.Flags = ipvs.FlagSched1 | ipvs.FlagSched3 | ipvs.FlagPersistent
		i.Service.Timeout = 10
	})},
	{name: "-A -t 192.0.2.1:80 -s sh -b ,sh-port,", want: want(AddService, svcOpt|OptScheduler|OptSchedFlags, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "sh"
		i.Service.Flags = ipvs.FlagSched2
	})},
	{name: "empty sched flags", args: []string{"-A", "-t", "192.0.2.1:80", "-b", ""}, want: want(AddService, svcOpt|OptSchedFlags, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
	})},

	// Real servers.
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2", want: want(AddServer, svcOpt|OptServer, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Route)
	})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2:8080", want: want(AddServer, svcOpt|OptServer, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Route)
	})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2:8080 -i", want: want(AddServer, svcOpt|OptServer|OptForward, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Tunnel)
	})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2:8080 -m -w 5 -x 10 -y 2", want: want(AddServer, svcOpt|OptServer|OptForward|OptWeight|OptUThreshold|OptLThreshold, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 8080, ipvs.Masquerade)
		i.Dest.Weight, i.Dest.UpperThreshold, i.Dest.LowerThreshold = 5, 10, 2
	})},
	{name: "-a -r 192.0.2.6 -t 192.0.2.1:80 -m", want: want(AddServer, svcOpt|OptServer|OptForward, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.6", 0, ipvs.Masquerade)
	})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.6:http -m", want: want(AddServer, svcOpt|OptServer|OptForward, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.6", 80, ipvs.Masquerade)
	})},
	{name: "-a -u 192.0.2.1:53 -r 192.0.2.7:sip -m", want: want(AddServer, svcOpt|OptServer|OptForward, func(i *Invocation) {
		i.Service = bare(udp("192.0.2.1", 53))
		i.Dest = dest("192.0.2.7", 5060, ipvs.Masquerade)
	})},
	{name: "-a -u 192.0.2.1:53 -r [2001:db8::7]:domain -i", want: want(AddServer, svcOpt|OptServer|OptForward, func(i *Invocation) {
		i.Service = bare(udp("192.0.2.1", 53))
		i.Dest = dest("2001:db8::7", 53, ipvs.Tunnel)
	})},
	{name: "-a -f 5 -r 192.0.2.2:0", want: want(AddServer, svcOpt|OptServer, func(i *Invocation) {
		i.Service = bare(fwmark(5))
		i.Dest = dest("192.0.2.2", 0, ipvs.Route)
	})},
	{name: "-a -f 5 -r 192.0.2.2:8080 -g", want: want(AddServer, svcOpt|OptServer|OptForward, func(i *Invocation) {
		i.Service = bare(fwmark(5))
		i.Dest = dest("192.0.2.2", 8080, ipvs.Route)
	})},
	{name: "-a -f 5 -r 192.0.2.2:http", want: want(AddServer, svcOpt|OptServer, func(i *Invocation) {
		i.Service = bare(fwmark(5))
		i.Dest = dest("192.0.2.2", 80, ipvs.Route)
	})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -gw 2", want: want(AddServer, svcOpt|OptServer|OptForward|OptWeight, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Route)
		i.Dest.Weight = 2
	})},
	{name: "-at 192.0.2.1:80 -r 192.0.2.2 -mw0", want: want(AddServer, svcOpt|OptServer|OptForward|OptWeight, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Masquerade)
		i.Dest.Weight = 0
	})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -w 2147483647", want: want(AddServer, svcOpt|OptServer|OptWeight, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Route)
		i.Dest.Weight = 2147483647
	})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -w +5", want: want(AddServer, svcOpt|OptServer|OptWeight, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Route)
		i.Dest.Weight = 5
	})},
	{name: "weight with space", args: []string{"-a", "-t", "192.0.2.1:80", "-r", "192.0.2.2", "-w", " 7"}, want: want(AddServer, svcOpt|OptServer|OptWeight, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Route)
		i.Dest.Weight = 7
	})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.14 -i --tun-type gue --tun-port 6080 --tun-nocsum", want: want(AddServer,
		svcOpt|OptServer|OptForward|OptTunType|OptTunPort|OptTunNoCsum, func(i *Invocation) {
			i.Service = bare(tcp("192.0.2.1", 80))
			i.Dest = dest("192.0.2.14", 80, ipvs.Tunnel)
			i.Dest.TunnelType, i.Dest.TunnelPort = ipvs.TunnelGUE, 6080
		})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.14 -i --tun-type gue --tun-port 6080 --tun-remcsum", want: want(AddServer,
		svcOpt|OptServer|OptForward|OptTunType|OptTunPort|OptTunRemCsum, func(i *Invocation) {
			i.Service = bare(tcp("192.0.2.1", 80))
			i.Dest = dest("192.0.2.14", 80, ipvs.Tunnel)
			i.Dest.TunnelType, i.Dest.TunnelPort, i.Dest.TunnelFlags = ipvs.TunnelGUE, 6080, ipvs.TunnelRemoteChecksum
		})},
	{name: "-e -t 192.0.2.1:80 -r 192.0.2.14 -i --tun-type gre --tun-csum", want: want(EditServer,
		svcOpt|OptServer|OptForward|OptTunType|OptTunCsum, func(i *Invocation) {
			i.Service = bare(tcp("192.0.2.1", 80))
			i.Dest = dest("192.0.2.14", 80, ipvs.Tunnel)
			i.Dest.TunnelType, i.Dest.TunnelFlags = ipvs.TunnelGRE, ipvs.TunnelChecksum
		})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.14 -i --tun-type ipip", want: want(AddServer, svcOpt|OptServer|OptForward|OptTunType, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.14", 80, ipvs.Tunnel)
	})},
	{name: "-a -u [2001:db8::1]:53 -r 192.0.2.10:53 -i", want: want(AddServer, svcOpt|OptServer|OptForward, func(i *Invocation) {
		i.Service = bare(udp("2001:db8::1", 53))
		i.Dest = dest("192.0.2.10", 53, ipvs.Tunnel)
	})},
	{name: "-a -f 3 -6 -r 2001:db8::9", want: want(AddServer, svcOpt|OptServer, func(i *Invocation) {
		i.Service = bare(fwmark(3))
		i.Service.Family, i.Service.Netmask = ipvs.IPv6, 128
		i.Dest = dest("2001:db8::9", 0, ipvs.Route)
	})},
	{name: "-e -t 192.0.2.1:80 -r 192.0.2.2", want: want(EditServer, svcOpt|OptServer, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Route)
	})},
	{name: "-d -t 192.0.2.1:80 -r 192.0.2.2:8080", want: want(DeleteServer, svcOpt|OptServer, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 8080, ipvs.Route)
	})},
	{name: "-d -t 192.0.2.1:80 -r 2001:db8::2", want: want(DeleteServer, svcOpt|OptServer, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("2001:db8::2", 80, ipvs.Route)
	})},

	{name: "-L -f 1 -6 -n", want: want(List, svcOpt|OptNumeric, func(i *Invocation) {
		i.Service = bare(fwmark(1))
		i.Service.Family, i.Service.Netmask = ipvs.IPv6, 128
	})},
	{name: "-Z -t 0.0.0.0:0", want: want(Zero, svcOpt, func(i *Invocation) { i.Service = bare(tcp("0.0.0.0", 0)) })},
	{name: "-C --sort", want: want(Flush, 0, nil)},
	{name: "-E -f 1 -6 -M 64", want: want(EditService, svcOpt|OptNetmask, func(i *Invocation) {
		i.Service = addService(fwmark(1))
		i.Service.Family, i.Service.Netmask = ipvs.IPv6, 64
	})},
	{name: "-A -t 192.0.2.1:80 -p -M localhost", want: want(AddService, svcOpt|OptPersistent|OptNetmask, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Flags, i.Service.Timeout, i.Service.Netmask = ipvs.FlagPersistent, 360, 0x7f000001
	})},
	{name: "-A -t 192.0.2.1:80 --scheduler=x!#:+ rr", want: want(AddService, svcOpt|OptScheduler, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "xrr"
	})},
	{name: "-A -t 192.0.2.1:80 -sx!#:+ rr", want: want(AddService, svcOpt|OptScheduler, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "xrr"
	})},
	// -p's optional argument is a word not starting with '-', expanded.
	{name: "-A -t 192.0.2.1:80 -p !#:+ 7 -s rr", want: want(AddService, svcOpt|OptScheduler|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "rr"
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 7
	})},
	{name: "-e -t 192.0.2.1:80 -r 192.0.2.2:8080 -m", want: want(EditServer, svcOpt|OptServer|OptForward, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 8080, ipvs.Masquerade)
	})},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -w 2 -x 100 -y 50 -m", want: want(AddServer, svcOpt|OptServer|OptForward|OptWeight|OptUThreshold|OptLThreshold, func(i *Invocation) {
		i.Service = bare(tcp("192.0.2.1", 80))
		i.Dest = dest("192.0.2.2", 80, ipvs.Masquerade)
		i.Dest.Weight, i.Dest.UpperThreshold, i.Dest.LowerThreshold = 2, 100, 50
	})},

	// popt details.
	{name: "-A -t 192.0.2.1:80 -s x!#:+ rr", want: want(AddService, svcOpt|OptScheduler, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "xrr"
	})},
	{name: "-A -t 192.0.2.1:80 -s x!#:+y!#:+ rr -p 30", want: want(AddService, svcOpt|OptScheduler|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "xrryrr"
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 30
	})},
	// The word the marker consumed is still taken as -t's argument.
	{name: "-A -s x!#:+ -t 192.0.2.1:80 -p", want: want(AddService, svcOpt|OptScheduler|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "x192.0.2.1:80"
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 360
	})},
	// ipvsadm loops forever here (all later words start with '-'); we
	// keep the marker (see referenceDivergences).
	{name: "-A -t 192.0.2.1:80 -s x!#:+ -p", want: want(AddService, svcOpt|OptScheduler|OptPersistent, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "x!#:+"
		i.Service.Flags, i.Service.Timeout = ipvs.FlagPersistent, 360
	})},
	{name: "-A -t 192.0.2.1:80 -s rr!#:+", want: want(AddService, svcOpt|OptScheduler, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "rr!#:+"
	})},
	{name: "argument cut at NUL", args: []string{"-A", "-t", "192.0.2.1:80\x00junk", "-s", "rr\x00x"}, want: want(AddService, svcOpt|OptScheduler, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "rr"
	})},
	{name: "-A -s -t -t 192.0.2.1:80", want: want(AddService, svcOpt|OptScheduler, func(i *Invocation) {
		i.Service = addService(tcp("192.0.2.1", 80))
		i.Service.Scheduler = "-t"
	})},
}

func TestParseAccepted(t *testing.T) {
	for _, tt := range acceptedCases {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.argv()
			got, err := Parse("ipvsadm", args, fakeResolver{})
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", args, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", args, diff)
			}
		})
	}
}

const (
	errAddr       = "illegal virtual server address[:port] specified"
	errServerAddr = "illegal real server address[:port] specified"
)

type rejectedCase struct {
	name    string
	args    []string // nil: split the name at spaces
	message string
	status  int
}

func (c rejectedCase) argv() []string {
	if c.args != nil {
		return c.args
	}
	return split(c.name)
}

const try = "Try `ipvsadm -h' or 'ipvsadm --help' for more information."

var rejectedCases = append(repeatedOptionCases(), []rejectedCase{
	// The first option must be a command.
	{name: "-n -L", message: try, status: 255},
	{name: "-nL", message: try, status: 255},
	{name: "--nosort -Ln", message: try, status: 255},
	{name: "--lis", message: try, status: 255},
	{name: "--num", message: try, status: 255},
	{name: "-V", message: try, status: 255},
	{name: "--start-daemon", message: try, status: 255},
	{name: "1 2 3", message: try, status: 255},
	{name: "-", message: try, status: 255},
	{name: "--", message: try, status: 255},
	{name: "-- -L", message: try, status: 255},
	{name: "-L=5", message: try, status: 255},
	{name: "--list=", message: try, status: 255},
	{name: "-f1 -6", message: try, status: 255},
	{name: "-6", message: try, status: 255},
	{name: "--sort -L", message: try, status: 255},
	{name: "empty word only", args: []string{""}, message: try, status: 255},

	// A second command.
	{name: "-L -L", message: "invalid option `-L'", status: 2},
	{name: "-A -L", message: "invalid option `-L'", status: 2},
	{name: "-L -A", message: "invalid option `-A'", status: 2},
	{name: "-L -h", message: "invalid option `-h'", status: 2},
	{name: "-L -hx", message: "invalid option `-hx'", status: 2},
	{name: "-LA", message: "invalid option `-LA'", status: 2},
	{name: "-L -v", message: "invalid option `-v'", status: 2},
	{name: "-C -R", message: "invalid option `-R'", status: 2},
	{name: "-L --set", message: "invalid option `--set'", status: 2},
	{name: "-L --start-daemon master", message: "invalid option `master'", status: 2},
	{name: "-L --stop-daemon=backup", message: "invalid option `--stop-daemon=backup'", status: 2},

	// popt errors after the command.
	{name: "-L --foo", message: "--foo: unknown option", status: 255},
	{name: "-L --num", message: "--num: unknown option", status: 255},
	{name: "-L --num=3", message: "--num=3: unknown option", status: 255},
	{name: "-L -q", message: "-q: unknown option", status: 255},
	{name: "-Lq", message: "-Lq: unknown option", status: 255},
	{name: "-L -n-", message: "-n-: unknown option", status: 255},
	{name: "-L -=x", message: "-=x: unknown option", status: 255},
	{name: "-L ---n", message: "---n: unknown option", status: 255},
	{name: "-A -t", message: "-t: missing argument", status: 255},
	{name: "-At", message: "-At: missing argument", status: 255},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -x", message: "-x: missing argument", status: 255},
	{name: "-L --numeric=1", message: "--numeric=1: option does not take an argument", status: 255},
	{name: "-L --numeric=", message: "--numeric=: option does not take an argument", status: 255},
	{name: "-Ln=", message: "-Ln=: option does not take an argument", status: 255},
	{name: "-L -n=1", message: "-n=1: option does not take an argument", status: 255},
	{name: "-A -t 192.0.2.1:80 -p -1", message: "-1: unknown option", status: 255},
	{name: "--set 1 2 -1", message: "-1: unknown option", status: 255},
	// A value error earlier on the line wins over a later popt error.
	{name: "-A -t 80 --bogus", message: errAddr, status: 2},

	// Positional words.
	{name: "foo -L", message: "unexpected argument foo", status: 2},
	{name: "-L -- -n", message: "unexpected argument -n", status: 2},
	{name: "-L -- -t", message: "unexpected argument -t", status: 2},
	{name: "-L -", message: "unexpected argument -", status: 2},
	{name: "-A -t 192.0.2.1:80 -p -", message: "unexpected argument -", status: 2},
	{name: "-A -t 192.0.2.1:80 -p 10 20", message: "unexpected argument 20", status: 2},
	{name: "-A -s x!#:+ -t 192.0.2.1:80 rr", message: "unexpected argument rr", status: 2},
	{name: "-C foo -n", message: "unexpected argument foo", status: 2},
	{name: "--set 1 2", message: "--set option requires 3 timeout values", status: 2},
	{name: "--set", message: "--set option requires 3 timeout values", status: 2},
	{name: "--set x 2", message: "--set option requires 3 timeout values", status: 2},
	{name: "--set 1 2 x", message: "invalid timeout value `x' specified", status: 2},
	{name: "--set 1 2678401 x", message: "invalid timeout value `2678401' specified", status: 2},
	{name: "--set -- -1 2 3", message: "invalid timeout value `-1' specified", status: 2},
	{name: "--set 1 2 3 4", message: "unexpected argument 4", status: 2},
	{name: "--set 1 2 3 -n", message: "Illegal 'numeric' option with the 'set' command", status: 2},

	// Repeated options.
	{name: "-A -t 192.0.2.1:80 -u 192.0.2.1:53", message: "multiple 'service-address' options specified", status: 2},
	{name: "-A -f 1 -t 192.0.2.1:80", message: "multiple 'service-address' options specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -s rr -s wlc", message: "multiple 'scheduler' options specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -p -p", message: "multiple 'persistent' options specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -g -m", message: "multiple 'forwarding-method' options specified", status: 2},
	{name: "-L -nn", message: "multiple 'numeric' options specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -r 192.0.2.3", message: "multiple 'real-server' options specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -o -o", message: "multiple 'ops' options specified", status: 2},

	// -6.
	{name: "-L -6", message: "-6 used before -f\n", status: 2},
	{name: "-A -t 192.0.2.1:80 -6", message: "-6 used before -f\n", status: 2},
	{name: "-A -6 -f 1", message: "-6 used before -f\n", status: 2},

	// Service addresses.
	{name: "-A -t 80", message: errAddr, status: 2},
	{name: "empty service", args: []string{"-A", "-t", ""}, message: errAddr, status: 2},
	{name: "-A -t [2001:db8::1]", message: errAddr, status: 2},
	{name: "-A -t [2001:db8::1]80", message: errAddr, status: 2},
	{name: "-A -t [2001:db8::1", message: errAddr, status: 2},
	{name: "-A -t [2001:db8::1]:", message: errAddr, status: 2},
	{name: "-A -u [2001:db8::1]:http", message: errAddr, status: 2},
	{name: "-A -t 192.0.2.1:", message: errAddr, status: 2},
	{name: "-A -t 192.0.2.1:65536", message: errAddr, status: 2},
	{name: "-A -t 192.0.2.1:-1", message: errAddr, status: 2},
	{name: "-A -t 192.0.2.1:nosuchport", message: errAddr, status: 2},
	{name: "-A -t nosuchhost:80", message: errAddr, status: 2},
	{name: "-A -t :80", message: errAddr, status: 2},
	{name: "-A -t 256.1.1.1:80", message: errAddr, status: 2},
	{name: "-A -t 192.0.2.1.:80", message: errAddr, status: 2},
	{name: "-A -t 08:80", message: errAddr, status: 2},
	{name: "-A -t 0x:80", message: errAddr, status: 2},
	{name: "-A -t 1.2.3.4.5:80", message: errAddr, status: 2},
	{name: "-A -t 1.2.65536:80", message: errAddr, status: 2},
	{name: "-A -t 4294967296:80", message: errAddr, status: 2},
	{name: "-A -t 2001:db8::1%eth0", message: errAddr, status: 2},
	{name: "-A --sctp-service 192.0.2.1:http", message: errAddr, status: 2},
	{name: "-A -f 0", message: "invalid fwmark value `0' specified", status: 2},
	{name: "-A -f -1", message: "invalid fwmark value `-1' specified", status: 2},
	{name: "-A -f 4294967296", message: "invalid fwmark value `4294967296' specified", status: 2},
	{name: "-A -f 0x10", message: "invalid fwmark value `0x10' specified", status: 2},
	{name: "-A -f 1x", message: "invalid fwmark value `1x' specified", status: 2},

	// Service options.
	{name: "-A -t 192.0.2.1:80 -p 0", message: "invalid timeout value `0' specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -p 2678401", message: "invalid timeout value `2678401' specified", status: 2},
	{name: "-A -p foo -t 192.0.2.1:80", message: "invalid timeout value `foo' specified", status: 2},
	{name: "-Apt 192.0.2.2", message: "invalid timeout value `t' specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -p=", message: "invalid timeout value `' specified", status: 2},
	{name: "-Ap= -t 192.0.2.1:80", message: "invalid timeout value `' specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -p 1e3", message: "invalid timeout value `1e3' specified", status: 2},
	{name: "empty netmask", args: []string{"-A", "-t", "192.0.2.1:80", "-p", "-M", ""}, message: "illegal virtual server persistent mask specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -p -M bogus", message: "illegal virtual server persistent mask specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -p -M 255.255.255.0.", message: "illegal virtual server persistent mask specified", status: 2},
	{name: "-A -t [2001:db8::1]:80 -p -M 0", message: "illegal ipv6 netmask specified", status: 2},
	{name: "-A -t [2001:db8::1]:80 -p -M 129", message: "illegal ipv6 netmask specified", status: 2},
	{name: "-A -t [2001:db8::1]:80 -p -M abc", message: "illegal ipv6 netmask specified", status: 2},
	{name: "-A -t [2001:db8::1]:80 -p -M -64", message: "illegal ipv6 netmask specified", status: 2},
	{name: "-A -t [2001:db8::1]:80 -p -M 99999999999999999999", message: "illegal ipv6 netmask specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -b foo", message: "invalid scheduler flag `foo'", status: 2},
	{name: "-A -t 192.0.2.1:80 -b sh-port", message: "incompatible scheduler flag `sh-port'", status: 2},
	{name: "-A -t 192.0.2.1:80 -s sh -b sh-port,mh-port", message: "incompatible scheduler flag `mh-port'", status: 2},
	{name: "-A -t 192.0.2.1:80 -s mh -b mh-fallback,sh-fallback", message: "incompatible scheduler flag `sh-fallback'", status: 2},
	{name: "-A -t 192.0.2.1:80 -b flag-1,bogus,sh-port", message: "invalid scheduler flag `bogus'", status: 2},
	{name: "-A -t 192.0.2.1:80 -b FLAG-1", message: "invalid scheduler flag `FLAG-1'", status: 2},
	// ipvsadm crashes (SIGSEGV) on a list with no item; we reject it.
	{name: "-A -t 192.0.2.1:80 -b ,", message: "invalid scheduler flag `,'", status: 2},
	// Only 127 bytes of the -b value are kept.
	{name: "-A -t 192.0.2.1:80 -b " + strings.Repeat("0123456789", 12) + "0123456flag-1",
		message: "invalid scheduler flag `" + strings.Repeat("0123456789", 12) + "0123456'", status: 2},
	// Flags are parsed before the command/option table is checked.
	{name: "-D -t 192.0.2.1:80 -b foo", message: "invalid scheduler flag `foo'", status: 2},
	{name: "-A -t 192.0.2.1 -s rr", message: "Zero port specified for non-persistent service", status: 2},
	{name: "-A -t 2001:db8::2", message: "Zero port specified for non-persistent service", status: 2},
	{name: "-E -t [192.0.2.1]:80", message: "Zero port specified for non-persistent service", status: 2},
	{name: "-A -t 192.0.2.1:80 -o", message: "One-Packet Scheduling is only for UDP virtual services", status: 2},
	{name: "-A --sctp-service 192.0.2.1:80 -o", message: "One-Packet Scheduling is only for UDP virtual services", status: 2},
	// The zero-port check comes first.
	{name: "-A -t 192.0.2.1:0 -o", message: "Zero port specified for non-persistent service", status: 2},

	// Real servers.
	{name: "-a -r 192.0.2.6:http -t 192.0.2.1:80 -m", message: errServerAddr, status: 2},
	{name: "-a -t 192.0.2.1:80 -r 80", message: errServerAddr, status: 2},
	{name: "-a -u 192.0.2.1:53 -r 192.0.2.6:http", message: errServerAddr, status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -w -1", message: "illegal weight specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -w 2147483648", message: "illegal weight specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -w 0x10", message: "illegal weight specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -w 5x", message: "illegal weight specified", status: 2},
	{name: "empty weight", args: []string{"-a", "-t", "192.0.2.1:80", "-r", "192.0.2.2", "-w", ""}, message: "illegal weight specified", status: 2},
	{name: "weight with trailing space", args: []string{"-a", "-t", "192.0.2.1:80", "-r", "192.0.2.2", "-w", "5 "}, message: "illegal weight specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -x 2147483648", message: "illegal u_threshold specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -y -1", message: "illegal l_threshold specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-type vxlan", message: "illegal tunnel type specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-port 0", message: "illegal tunnel port specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-port 65536", message: "illegal tunnel port specified", status: 2},
	{name: "-a -t [2001:db8::1]:80 -r 192.0.2.1", message: "Different address family is allowed only for tunneling servers", status: 2},
	{name: "-a -f 1 -r 2001:db8::1 -m", message: "Different address family is allowed only for tunneling servers", status: 2},
	{name: "-e -t 192.0.2.1:80 -r 192.0.2.2 --tun-type gue", message: "Tunnel options conflict with forward method", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -m --tun-csum", message: "Tunnel options conflict with forward method", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-type gue", message: "You need to supply the 'tun-port' option for the 'gue' tunnel type", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-csum", message: "Illegal 'tun-csum' option with the 'ipip' tunnel type", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-port 80", message: "Illegal 'tun-port' option with the 'ipip' tunnel type", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-type gre --tun-port 80", message: "Illegal 'tun-port' option with the 'gre' tunnel type", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-type gre --tun-remcsum", message: "Illegal 'tun-remcsum' option with the 'gre' tunnel type", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum", message: "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-type gre --tun-csum --tun-nocsum", message: "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type", status: 2},

	{name: "-a -r 192.0.2.2:http -f 5", message: errServerAddr, status: 2},
	{name: "empty persistence", args: []string{"-A", "-t", "192.0.2.1:80", "-p", ""}, message: "invalid timeout value `' specified", status: 2},
	{name: "-A -t 192.0.2.1:80 --persistent=", message: "invalid timeout value `' specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -s", message: "-s: missing argument", status: 255},
	{name: "-A -t 192.0.2.1:80 --pe", message: "--pe: missing argument", status: 255},
	{name: "-A -t 192.0.2.1:80 -b flag-1 -b flag-2", message: "multiple 'sched-flags' options specified", status: 2},
	{name: "-a -t 192.0.2.1:80 -r 192.0.2.2 -i --tun-type gue --tun-type gre", message: "multiple 'tun-type' options specified", status: 2},
	// -s takes the word "!#:+" literally as the marker's replacement;
	// -p then takes that consumed word anyway and expands it to "1".
	{name: "-A -t 192.0.2.1:80 -s !#:+ -p !#:+ 1 rr", message: "unexpected argument rr", status: 2},
	{name: "-R foo", message: "unexpected argument foo", status: 2},
	{name: "-L --timeout --persistent-conn", message: "options conflicts in the list command", status: 2},
	{name: "--start-daemon master --mcast-group ::ffff:224.0.0.1", message: "invalid IPv6 mcast-group `::ffff:224.0.0.1'", status: 2},
	{name: "--start-daemon master --mcast-group 2001:db8::1 --mcast-group ff02::1", message: "invalid IPv6 mcast-group `2001:db8::1'", status: 2},
	{name: "--start-daemon master --mcast-group ff02::1 --mcast-group ff02::2", message: "multiple 'mcast-group' options specified", status: 2},
	{name: "-A -t 192.0.2.1:80 -M 255.255.255.0 -M 255.255.0.0", message: "multiple 'netmask' options specified", status: 2},
	{name: "-A -t 192.0.2.1:80 --ops --ipv6", message: "-6 used before -f\n", status: 2},

	// Sync daemons.
	{name: "--start-daemon foo", message: "illegal start-daemon parameter specified", status: 2},
	{name: "--start-daemon -n", message: "illegal start-daemon parameter specified", status: 2},
	{name: "--stop-daemon foo", message: "illegal start_daemon specified", status: 2},
	{name: "--start-daemon master --syncid 256", message: "illegal syncid specified", status: 2},
	{name: "--start-daemon master --sync-maxlen 0", message: "illegal sync-maxlen specified", status: 2},
	{name: "--start-daemon master --sync-maxlen 65508", message: "illegal sync-maxlen specified", status: 2},
	{name: "--start-daemon master --mcast-port 0", message: "illegal mcast-port specified", status: 2},
	{name: "--start-daemon master --mcast-port 65536", message: "illegal mcast-port specified", status: 2},
	{name: "--start-daemon master --mcast-ttl 0", message: "illegal mcast-ttl specified", status: 2},
	{name: "--start-daemon master --mcast-ttl 256", message: "illegal mcast-ttl specified", status: 2},
	{name: "--start-daemon master --mcast-group 192.0.2.1", message: "invalid IPv4 mcast-group `192.0.2.1'", status: 2},
	{name: "--start-daemon master --mcast-group 224.0.0.01", message: "invalid IPv4 mcast-group `224.0.0.01'", status: 2},
	{name: "--start-daemon master --mcast-group 239.1", message: "invalid IPv4 mcast-group `239.1'", status: 2},
	{name: "--start-daemon master --mcast-group 2001:db8::1", message: "invalid IPv6 mcast-group `2001:db8::1'", status: 2},
	{name: "--start-daemon master --mcast-group ff02::1::", message: "invalid IPv6 mcast-group `ff02::1::'", status: 2},
	{name: "--stop-daemon master --mcast-interface lo", message: "Illegal 'mcast-interface' option with the 'stop-daemon' command", status: 2},

	// The command/option table, walked in column order.
	{name: "-A", message: "You need to supply the 'service-address' option for the 'add-service' command", status: 2},
	{name: "-E -s rr", message: "You need to supply the 'service-address' option for the 'edit-service' command", status: 2},
	{name: "-D", message: "You need to supply the 'service-address' option for the 'delete-service' command", status: 2},
	{name: "-a -t 192.0.2.1:80", message: "You need to supply the 'real-server' option for the 'add-server' command", status: 2},
	{name: "-d -t 192.0.2.1:80", message: "You need to supply the 'real-server' option for the 'delete-server' command", status: 2},
	{name: "-e -r 192.0.2.2", message: "You need to supply the 'service-address' option for the 'edit-server' command", status: 2},
	{name: "-a -n", message: "Illegal 'numeric' option with the 'add-server' command", status: 2},
	{name: "-C -n", message: "Illegal 'numeric' option with the 'flush' command", status: 2},
	{name: "-R -n", message: "Illegal 'numeric' option with the 'restore' command", status: 2},
	{name: "-S -c", message: "Illegal 'connection' option with the 'save' command", status: 2},
	{name: "-S -t 192.0.2.1:80", message: "Illegal 'service-address' option with the 'save' command", status: 2},
	{name: "-Z -n", message: "Illegal 'numeric' option with the 'zero' command", status: 2},
	{name: "-Z -t 192.0.2.1:80 -s rr", message: "Illegal 'scheduler' option with the 'zero' command", status: 2},
	{name: "--set 1 2 3 --sort --nosort", message: "Illegal 'nosort' option with the 'set' command", status: 2},
	{name: "-D -t 192.0.2.1:80 -p", message: "Illegal 'persistent' option with the 'delete-service' command", status: 2},
	{name: "-A -t 192.0.2.1:80 -r 192.0.2.2", message: "Illegal 'real-server' option with the 'add-service' command", status: 2},
	{name: "-A -t 192.0.2.1:80 -w 1 -n", message: "Illegal 'numeric' option with the 'add-service' command", status: 2},
	{name: "-d -t 192.0.2.1:80 -r 192.0.2.2 -w 1", message: "Illegal 'weight' option with the 'delete-server' command", status: 2},
	{name: "-d -t 192.0.2.1:80 -r 192.0.2.2 -m", message: "Illegal 'forwarding-method' option with the 'delete-server' command", status: 2},
	{name: "-L -s rr", message: "Illegal 'scheduler' option with the 'list' command", status: 2},
	{name: "-L --tun-type gue", message: "Illegal 'tun-type' option with the 'list' command", status: 2},
	{name: "-L --daemon -c", message: "The option 'daemon' conflicts with the 'connection' option in the 'list' command", status: 2},
	{name: "-L -c --daemon", message: "The option 'daemon' conflicts with the 'connection' option in the 'list' command", status: 2},
	{name: "-L -c -t 192.0.2.1:80", message: "The option 'service-address' conflicts with the 'connection' option in the 'list' command", status: 2},
	{name: "-L --timeout -t 192.0.2.1:80", message: "The option 'timeout' conflicts with the 'service-address' option in the 'list' command", status: 2},
	{name: "-L --timeout --daemon", message: "The option 'daemon' conflicts with the 'timeout' option in the 'list' command", status: 2},
	{name: "-L -c --stats", message: "options conflicts in the list command", status: 2},
	{name: "-L --timeout --rate", message: "options conflicts in the list command", status: 2},
	{name: "-L --daemon --thresholds", message: "options conflicts in the list command", status: 2},
	{name: "-L --daemon --persistent-conn", message: "options conflicts in the list command", status: 2},
}...)

// repeatedOptionCases give every option twice after -L: the repetition is
// caught before any other check, with ipvsadm's name for the option.
func repeatedOptionCases() []rejectedCase {
	options := []struct{ spelling, name string }{
		{"-n", "numeric"}, {"-c", "connection"}, {"-t 192.0.2.1:80", "service-address"},
		{"-s rr", "scheduler"}, {"-p", "persistent"}, {"-M 1", "netmask"}, {"-r 192.0.2.2", "real-server"},
		{"-g", "forwarding-method"}, {"-w 1", "weight"}, {"-x 1", "u-threshold"}, {"-y 1", "l-threshold"},
		{"--mcast-interface lo", "mcast-interface"}, {"--timeout", "timeout"}, {"--daemon", "daemon"},
		{"--stats", "stats"}, {"--rate", "rate"}, {"--thresholds", "thresholds"},
		{"--persistent-conn", "persistent-conn"}, {"--nosort", "nosort"}, {"--syncid 1", "syncid"},
		{"-X", "exact"}, {"-o", "ops"}, {"--pe sip", "pe"}, {"-b flag-1", "sched-flags"},
		{"--mcast-group 224.0.0.1", "mcast-group"}, {"--mcast-port 1", "mcast-port"},
		{"--mcast-ttl 1", "mcast-ttl"}, {"--sync-maxlen 1", "sync-maxlen"}, {"--tun-info", "tun-info"},
		{"--tun-type ipip", "tun-type"}, {"--tun-port 1", "tun-port"}, {"--tun-nocsum", "tun-nocsum"},
		{"--tun-csum", "tun-csum"}, {"--tun-remcsum", "tun-remcsum"},
	}
	var cases []rejectedCase
	for _, o := range options {
		cases = append(cases, rejectedCase{
			name:    "-L " + o.spelling + " " + o.spelling,
			message: "multiple '" + o.name + "' options specified",
			status:  2,
		})
	}
	return cases
}

func TestParseRejected(t *testing.T) {
	for _, tt := range rejectedCases {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.argv()
			got, err := Parse("ipvsadm", args, fakeResolver{})
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) = %+v, %v; want *Error", args, got, err)
			}
			if diff := cmp.Diff(&Error{Message: tt.message, Status: tt.status}, perr); diff != "" {
				t.Errorf("Parse(%q) error mismatch (-want +got):\n%s", args, diff)
			}
		})
	}
}

func TestParseTryHelpUsesProgramName(t *testing.T) {
	_, err := Parse("/usr/sbin/ipvsadm", []string{"-n"}, nil)
	wantErr := &Error{Message: "Try `/usr/sbin/ipvsadm -h' or '/usr/sbin/ipvsadm --help' for more information.", Status: 255}
	if diff := cmp.Diff(wantErr, err); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
}

func TestParseWithoutResolver(t *testing.T) {
	_, err := Parse("ipvsadm", []string{"-A", "-t", "localhost:80"}, nil)
	if diff := cmp.Diff(&Error{Message: errAddr, Status: 2}, err); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
}

// Verified on the reference binary with POSIXLY_CORRECT=1 and
// POSIX_ME_HARDER=1 in the environment.
func TestParsePosixlyCorrect(t *testing.T) {
	p := Parser{PosixlyCorrect: true}
	_, err := p.Parse("ipvsadm", []string{"-L", "foo", "-n"})
	if diff := cmp.Diff(&Error{Message: "unexpected argument foo", Status: 2}, err); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
	// --set's values are positional anyway; later options become values.
	got, err := p.Parse("ipvsadm", []string{"--set", "1", "2", "3"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want(SetTimeouts, 0, func(i *Invocation) { i.Timeouts = ipvs.Timeouts{TCP: 1, TCPFin: 2, UDP: 3} }), got, cmpOpts); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	_, err = p.Parse("ipvsadm", []string{"--set", "1", "2", "3", "-n"})
	if diff := cmp.Diff(&Error{Message: "unexpected argument -n", Status: 2}, err); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
}

func TestParseIsReentrant(t *testing.T) {
	// Restore parses line after line; nothing may carry over.
	first, err := Parse("ipvsadm", split("-A -t 192.0.2.1:80 -s rr -p 10 -M 255.0.0.0"), fakeResolver{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Parse("ipvsadm", split("-A -t 192.0.2.1:80"), fakeResolver{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want(AddService, OptService, func(i *Invocation) { i.Service = addService(tcp("192.0.2.1", 80)) }), second, cmpOpts); diff != "" {
		t.Errorf("second parse mismatch (-want +got):\n%s", diff)
	}
	if first.Service.Scheduler != "rr" {
		t.Errorf("first parse changed: scheduler %q", first.Service.Scheduler)
	}
}

func TestInvocationAccessors(t *testing.T) {
	inv, err := Parse("ipvsadm", split("-L -n -c --persistent-conn --nosort -X"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{
		"ServiceGiven": inv.ServiceGiven(), "Numeric": inv.Numeric(), "Connection": inv.Connection(),
		"ListTimeout": inv.ListTimeout(), "ListDaemon": inv.ListDaemon(), "Stats": inv.Stats(), "Rate": inv.Rate(),
		"Thresholds": inv.Thresholds(), "PersistentConn": inv.PersistentConn(), "TunInfo": inv.TunInfo(),
		"NoSort": inv.NoSort(), "Exact": inv.Exact(),
	}
	wantFlags := map[string]bool{
		"ServiceGiven": false, "Numeric": true, "Connection": true, "ListTimeout": false, "ListDaemon": false,
		"Stats": false, "Rate": false, "Thresholds": false, "PersistentConn": true, "TunInfo": false,
		"NoSort": true, "Exact": true,
	}
	if diff := cmp.Diff(wantFlags, got); diff != "" {
		t.Errorf("accessors mismatch (-want +got):\n%s", diff)
	}
}

func TestNames(t *testing.T) {
	got := []string{AddService.String(), Flush.String(), SetTimeouts.String(), Help.String(), Command(99).String(),
		(OptNumeric | OptService | OptTunRemCsum).String(), OptSchedFlags.String()}
	wantNames := []string{"add-service", "flush", "set", "help", "command(99)",
		"numeric|service-address|tun-remcsum", "sched-flags"}
	if diff := cmp.Diff(wantNames, got); diff != "" {
		t.Errorf("names mismatch (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"-A -t 192.0.2.1:80 -s rr -p", "-a -t [2001:db8::1]:80 -r 192.0.2.1 -i --tun-type gue --tun-port 1",
		"-Lnt 192.0.2.4:80", "--set 1 2 3", "-A -s x!#:+ -t 1.2.3.4:5", "-A -f 1 -6 -M 64 -p",
		"--start-daemon master --mcast-group ff02::1", "-A -t 0x7f.1:80 -b ,,", "-L --numeric=1",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, " ")
		inv, err := Parse("ipvsadm", args, fakeResolver{})
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q): error %T %v is not *Error", args, err, err)
			}
			if perr.Status != 2 && perr.Status != 255 {
				t.Fatalf("Parse(%q): status %d", args, perr.Status)
			}
			if inv != nil {
				t.Fatalf("Parse(%q): invocation with error", args)
			}
			return
		}
		if inv.Command == NoCommand {
			t.Fatalf("Parse(%q): no command", args)
		}
	})
}

// countingResolver is fakeResolver counting the host names it is asked.
type countingResolver struct {
	fakeResolver
	hosts *int
}

func (r countingResolver) LookupHost(name string) (netip.Addr, bool) {
	*r.hosts++
	return r.fakeResolver.LookupHost(name)
}

// TestParseIntoMemo: one Invocation reused line after line, as restore and
// rules files use it, ends each line exactly as a fresh one, whatever the
// service memo kept from the lines before; names are looked up again on
// every line.
func TestParseIntoMemo(t *testing.T) {
	lines := []string{
		"-A -t 192.0.2.1:80 -s rr",
		"-a -t 192.0.2.1:80 -r 192.0.2.10 -m",
		"-a -t 192.0.2.1:80 -r 192.0.2.11:8080 -g -w 3",
		"-a -u 192.0.2.1:80 -r 192.0.2.11",
		"-A -t 192.0.2.1 -s rr",
		"-a -t 192.0.2.1 -r 192.0.2.12",
		"-A -t [2001:db8::1]:443 -s wrr",
		"-a -t [2001:db8::1]:443 -r [2001:db8::10]",
		"-E -M 64 -t [2001:db8::1]:443 -p",
		"-M 255.255.255.0 -A -t 192.0.2.1:80 -p",
		"-E -t 192.0.2.1:80 -M 255.255.0.0 -p 60",
		"-a -t 192.0.2.1:99999 -r 192.0.2.13",
		"-a -t 192.0.2.1:80 -r 192.0.2.13",
		"-a -t web.example:http -r 192.0.2.14",
		"-a -t web.example:http -r 192.0.2.15",
		"-a -t 192.0.2.1:80 -r 192.0.2.16",
		"-a -t 192.0.2.1:80 -t 192.0.2.1:80 -r 192.0.2.17",
		"-D -t 192.0.2.1:80",
		"-f 7 -a -r 192.0.2.18",
		"-D -t 192.0.2.1:80",
	}
	reusedHosts, freshHosts := 0, 0
	reused := Parser{Resolver: countingResolver{hosts: &reusedHosts}}
	fresh := Parser{Resolver: countingResolver{hosts: &freshHosts}}
	var inv Invocation
	hits := 0
	for _, line := range lines {
		memo := inv.lastService.arg
		gotErr := reused.ParseInto(&inv, "ipvsadm", split(line))
		var want Invocation
		wantErr := fresh.ParseInto(&want, "ipvsadm", split(line))
		if diff := cmp.Diff(wantErr, gotErr); diff != "" {
			t.Errorf("%s: error (-fresh +reused):\n%s", line, diff)
		}
		if diff := cmp.Diff(&want, &inv, cmpOpts); diff != "" {
			t.Errorf("%s: (-fresh +reused):\n%s", line, diff)
		}
		if memo != "" && strings.Contains(line, "-t "+memo+" ") {
			hits++
		}
	}
	if hits < 8 {
		t.Errorf("%d lines named the service of the line before, want at least 8", hits)
	}
	if reusedHosts != freshHosts || reusedHosts < 2 {
		t.Errorf("host names looked up %d times with the memo, %d without; want the same, at least 2", reusedHosts, freshHosts)
	}
}
