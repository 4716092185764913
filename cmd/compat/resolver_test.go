package compat

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/ipvs"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSystemResolverLookupHost(t *testing.T) {
	hosts := writeFile(t, "hosts", `# comment
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
2001:db8::5	six.example
::ffff:192.0.2.9 mapped.example
192.0.2.7	Web.Example www   # trailing comment
192.0.2.8	web.example
bogus		broken.example
192.0.2.010	leadingzero.example
`)
	var asked []string
	r := &SystemResolver{
		HostsPath:    hosts,
		ServicesPath: filepath.Join(t.TempDir(), "none"),
		LookupIPv4: func(_ context.Context, name string) ([]netip.Addr, error) {
			asked = append(asked, name)
			switch name {
			case "dns.example":
				return []netip.Addr{netip.MustParseAddr("::ffff:198.51.100.1"), netip.MustParseAddr("198.51.100.2")}, nil
			case "six.example":
				return []netip.Addr{netip.MustParseAddr("2001:db8::6")}, nil
			}
			return nil, errors.New("no such host")
		},
	}
	type result struct {
		Addr netip.Addr
		OK   bool
	}
	tests := []struct {
		name string
		want result
	}{
		{"localhost", result{netip.MustParseAddr("127.0.0.1"), true}},
		{"LOCALHOST", result{netip.MustParseAddr("127.0.0.1"), true}},
		{"web.example", result{netip.MustParseAddr("192.0.2.7"), true}},
		{"www", result{netip.MustParseAddr("192.0.2.7"), true}},
		{"mapped.example", result{netip.MustParseAddr("192.0.2.9"), true}},
		{"dns.example", result{netip.MustParseAddr("198.51.100.1"), true}},
		{"six.example", result{}},
		// glibc maps a ::1 entry to 127.0.0.1 for IPv4 lookups (reference:
		// corpus case addr-hostname-unknown).
		{"ip6-localhost", result{netip.MustParseAddr("127.0.0.1"), true}},
		{"broken.example", result{}},
		{"leadingzero.example", result{}},
		{"", result{}},
		// Address-like names never reach the files or the DNS.
		{"1.2.3.4", result{netip.MustParseAddr("1.2.3.4"), true}},
		{"1.2.3.4.5", result{}},
		{"::1", result{}},
		{"abc:def", result{}},
		{"1.2.3.4.", result{}},
	}
	for _, tt := range tests {
		var got result
		got.Addr, got.OK = r.LookupHost(tt.name)
		if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
			t.Errorf("LookupHost(%q) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	wantAsked := []string{"dns.example", "six.example", "broken.example", "leadingzero.example", "1.2.3.4."}
	if diff := cmp.Diff(wantAsked, asked); diff != "" {
		t.Errorf("DNS lookups mismatch (-want +got):\n%s", diff)
	}
}

func TestSystemResolverLookupPort(t *testing.T) {
	services := writeFile(t, "services", `# Network services
tcpmux		1/tcp				# TCP port service multiplexer
domain		53/tcp				# Domain Name Server
domain		53/udp
http		80/tcp		www		# WorldWideWeb HTTP
http-alt	8080/tcp	webcache	# WWW caching service
sip		5060/tcp
sip		5060/udp
broken		70000/tcp
odd		x/tcp
noproto		99
sctpsvc		9999/sctp
`)
	r := &SystemResolver{HostsPath: filepath.Join(t.TempDir(), "none"), ServicesPath: services}
	type result struct {
		Port uint16
		OK   bool
	}
	tests := []struct {
		name  string
		proto ipvs.Protocol
		want  result
	}{
		{"http", ipvs.TCP, result{80, true}},
		{"www", ipvs.TCP, result{80, true}},
		{"http", ipvs.UDP, result{}},
		{"HTTP", ipvs.TCP, result{}},
		{"webcache", ipvs.TCP, result{8080, true}},
		{"domain", ipvs.UDP, result{53, true}},
		{"sip", ipvs.UDP, result{5060, true}},
		{"sctpsvc", ipvs.SCTP, result{9999, true}},
		{"sctpsvc", ipvs.TCP, result{}},
		{"broken", ipvs.TCP, result{}},
		{"odd", ipvs.TCP, result{}},
		{"noproto", ipvs.TCP, result{}},
		{"", ipvs.TCP, result{}},
	}
	for _, tt := range tests {
		var got result
		got.Port, got.OK = r.LookupPort(tt.name, tt.proto)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("LookupPort(%q, %v) mismatch (-want +got):\n%s", tt.name, tt.proto, diff)
		}
	}
}

func TestSystemResolverMissingFiles(t *testing.T) {
	dir := t.TempDir()
	r := &SystemResolver{
		HostsPath:    filepath.Join(dir, "hosts"),
		ServicesPath: filepath.Join(dir, "services"),
		LookupIPv4: func(context.Context, string) ([]netip.Addr, error) {
			return nil, errors.New("offline")
		},
	}
	if a, ok := r.LookupHost("localhost"); ok {
		t.Errorf("LookupHost(localhost) = %v, want not found", a)
	}
	if p, ok := r.LookupPort("http", ipvs.TCP); ok {
		t.Errorf("LookupPort(http) = %d, want not found", p)
	}
}

func TestParseWithSystemResolver(t *testing.T) {
	r := &SystemResolver{
		HostsPath:    writeFile(t, "hosts", "192.0.2.44 lb.example\n"),
		ServicesPath: writeFile(t, "services", "http 80/tcp www\ndomain 53/udp\n"),
		LookupIPv4: func(context.Context, string) ([]netip.Addr, error) {
			return nil, errors.New("offline")
		},
	}
	got, err := Parse("ipvsadm", split("-a -u lb.example:domain -r lb.example -m"), r)
	if err != nil {
		t.Fatal(err)
	}
	wantInv := want(AddServer, OptService|OptServer|OptForward, func(i *Invocation) {
		i.Service = bare(udp("192.0.2.44", 53))
		i.Dest = dest("192.0.2.44", 53, ipvs.Masquerade)
	})
	if diff := cmp.Diff(wantInv, got, cmpOpts); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}
