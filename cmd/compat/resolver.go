package compat

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/lvsadm/lvsadm/ipvs"
)

// SystemResolver answers like glibc's gethostbyname and getservbyname with
// "files dns" for hosts and "files" for services, without cgo: the hosts and
// services files are read once, on first use, and names not in the hosts
// file go to the DNS. The zero value uses the system's files.
type SystemResolver struct {
	HostsPath    string // default /etc/hosts
	ServicesPath string // default /etc/services
	// LookupIPv4 resolves names the hosts file does not know; nil means
	// net.DefaultResolver (which also honours /etc/nsswitch.conf).
	LookupIPv4 func(ctx context.Context, name string) ([]netip.Addr, error)

	once     sync.Once
	hosts    []hostsEntry
	services []servicesEntry
}

type hostsEntry struct {
	addr  netip.Addr // IPv4
	names []string
}

type servicesEntry struct {
	port  uint16
	proto string
	names []string // official name first, then aliases
}

var _ Resolver = (*SystemResolver)(nil)

func (r *SystemResolver) load() {
	r.once.Do(func() {
		hostsPath, servicesPath := r.HostsPath, r.ServicesPath
		if hostsPath == "" {
			hostsPath = "/etc/hosts"
		}
		if servicesPath == "" {
			servicesPath = "/etc/services"
		}
		// A missing file simply knows no names, as for glibc.
		if data, err := os.ReadFile(hostsPath); err == nil {
			r.hosts = parseHostsFile(data)
		}
		if data, err := os.ReadFile(servicesPath); err == nil {
			r.services = parseServicesFile(data)
		}
	})
}

// LookupHost returns the first IPv4 address of name.
func (r *SystemResolver) LookupHost(name string) (netip.Addr, bool) {
	if name == "" {
		return netip.Addr{}, false
	}
	if literal, isLiteral := numericHostName(name); isLiteral {
		return literal, literal.IsValid()
	}
	r.load()
	for _, h := range r.hosts {
		for _, n := range h.names {
			if strings.EqualFold(n, name) {
				return h.addr, true
			}
		}
	}
	lookup := r.LookupIPv4
	if lookup == nil {
		lookup = func(ctx context.Context, name string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip4", name)
		}
	}
	addrs, err := lookup(context.Background(), name)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// numericHostName mirrors glibc's shortcut for names that look like address
// literals: they are never looked up. Digits and dots not ending in a dot
// are an inet_aton number or nothing; hex digits with colons are an IPv6
// literal, which an IPv4 lookup cannot return. The returned address is
// invalid when the literal is not an IPv4 address.
func numericHostName(name string) (netip.Addr, bool) {
	if name[len(name)-1] == '.' {
		return netip.Addr{}, false
	}
	if isDigit(name[0]) && strings.Trim(name, "0123456789.") == "" {
		v, ok := inetAton(name)
		if !ok {
			return netip.Addr{}, true
		}
		return addrFromUint32(v), true
	}
	if (hexValue(name[0]) >= 0 && strings.Contains(name, ":") || name[0] == ':') &&
		strings.Trim(name, "0123456789abcdefABCDEF:.") == "" {
		return netip.Addr{}, true
	}
	return netip.Addr{}, false
}

// LookupPort returns the port of a service name for tcp, udp or sctp.
func (r *SystemResolver) LookupPort(name string, proto ipvs.Protocol) (uint16, bool) {
	protoName := strings.ToLower(proto.String())
	r.load()
	for _, s := range r.services {
		if s.proto != protoName {
			continue
		}
		for _, n := range s.names {
			if n == name {
				return s.port, true
			}
		}
	}
	return 0, false
}

func contentFields(line []byte) []string {
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	return strings.Fields(string(line))
}

func parseHostsFile(data []byte) []hostsEntry {
	var entries []hostsEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := contentFields(sc.Bytes())
		if len(f) < 2 {
			continue
		}
		var addr netip.Addr
		if b, ok := inetPton4(f[0]); ok {
			addr = netip.AddrFrom4(b)
		} else if a6, ok := inetPton6(f[0]); ok && a6.Is4In6() {
			addr = a6.Unmap()
		} else if ok && a6 == netip.IPv6Loopback() {
			// glibc's files backend answers IPv4 lookups of a ::1 entry
			// with 127.0.0.1 (seen on the reference: ip6-localhost).
			addr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		} else {
			continue // IPv6 entries do not answer IPv4 lookups
		}
		entries = append(entries, hostsEntry{addr: addr, names: f[1:]})
	}
	return entries
}

func parseServicesFile(data []byte) []servicesEntry {
	var entries []servicesEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := contentFields(sc.Bytes())
		if len(f) < 2 {
			continue
		}
		portText, proto, found := strings.Cut(f[1], "/")
		if !found || proto == "" {
			continue
		}
		port, ok := stringToNumber(portText, 0, 65535)
		if !ok || !isAllDigits(portText) {
			continue
		}
		names := append([]string{f[0]}, f[2:]...)
		entries = append(entries, servicesEntry{port: uint16(port), proto: proto, names: names})
	}
	return entries
}
