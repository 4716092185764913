// Package procipvs reads /proc/net/ip_vs, the kernel's text listing of a
// network namespace's IPVS table. One read of it returns every service and
// destination, where netlink needs one dump per service; but it lacks much
// (service flags other than one-packet, persistence engines, the family of
// fwmark services, thresholds, tunnel settings, counters), so listings take
// the services from netlink and only the destinations from here.
package procipvs

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Service is a service line of /proc/net/ip_vs with its destination lines.
type Service struct {
	Protocol  ipvs.Protocol // 0 for fwmark services
	Addr      netip.Addr    // unset for fwmark services
	Port      uint16
	FWMark    uint32
	Scheduler string
	// Dests have what the file shows: Family, Addr, Port, ForwardMethod,
	// Weight, ActiveConns and InactiveConns.
	Dests []ipvs.DestinationEntry
}

// Matches reports whether s is the line of e, by identity and scheduler.
func (s *Service) Matches(e *ipvs.ServiceEntry) bool {
	if s.Scheduler != e.Scheduler {
		return false
	}
	if e.IsFWMark() {
		return s.Protocol == 0 && s.FWMark == e.FWMark
	}
	return s.Protocol == e.Protocol && s.Addr == e.Addr && s.Port == e.Port
}

// HasTunnel reports whether a destination is a tunnel, whose settings the
// file does not show.
func (s *Service) HasTunnel() bool {
	for i := range s.Dests {
		if s.Dests[i].ForwardMethod == ipvs.Tunnel {
			return true
		}
	}
	return false
}

const destPrefix = "  -> "

// headerLines are the version line and the two column titles.
const headerLines = 3

// Parse reads the whole file; a line it cannot read fails the whole parse.
func Parse(r io.Reader) ([]Service, error) {
	sc := bufio.NewScanner(r)
	var svcs []Service
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n <= headerLines {
			continue
		}
		if rest, ok := strings.CutPrefix(line, destPrefix); ok {
			if len(svcs) == 0 {
				return nil, fmt.Errorf("ip_vs line %d: destination before any service", n)
			}
			d, err := parseDest(rest)
			if err != nil {
				return nil, fmt.Errorf("ip_vs line %d: %w", n, err)
			}
			s := &svcs[len(svcs)-1]
			s.Dests = append(s.Dests, d)
			continue
		}
		s, err := parseService(line)
		if err != nil {
			return nil, fmt.Errorf("ip_vs line %d: %w", n, err)
		}
		svcs = append(svcs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ip_vs: %w", err)
	}
	return svcs, nil
}

// parseService reads "PROTO ADDR:PORT SCHED [flags]" or "FWM MARK SCHED [flags]".
func parseService(line string) (Service, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return Service{}, fmt.Errorf("short service line %q", line)
	}
	s := Service{Scheduler: f[2]}
	switch f[0] {
	case "FWM":
		mark, err := strconv.ParseUint(f[1], 16, 32)
		if err != nil {
			return Service{}, fmt.Errorf("fwmark %q", f[1])
		}
		s.FWMark = uint32(mark)
		return s, nil
	case "TCP":
		s.Protocol = ipvs.TCP
	case "UDP":
		s.Protocol = ipvs.UDP
	case "SCTP":
		s.Protocol = ipvs.SCTP
	default:
		return Service{}, fmt.Errorf("protocol %q", f[0])
	}
	var err error
	s.Addr, s.Port, err = parseAddrPort(f[1])
	return s, err
}

// parseDest reads "ADDR:PORT METHOD WEIGHT ACTIVE INACTIVE".
func parseDest(text string) (ipvs.DestinationEntry, error) {
	f := strings.Fields(text)
	if len(f) != 5 {
		return ipvs.DestinationEntry{}, fmt.Errorf("destination line %q", text)
	}
	var d ipvs.DestinationEntry
	var err error
	if d.Addr, d.Port, err = parseAddrPort(f[0]); err != nil {
		return d, err
	}
	d.Family = ipvs.IPv4
	if d.Addr.Is6() {
		d.Family = ipvs.IPv6
	}
	method, ok := methods[f[1]]
	if !ok {
		return d, fmt.Errorf("forwarding method %q", f[1])
	}
	d.ForwardMethod = method
	var nums [3]uint32
	for i, s := range f[2:] {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return d, fmt.Errorf("number %q", s)
		}
		nums[i] = uint32(v)
	}
	d.Weight, d.ActiveConns, d.InactiveConns = nums[0], nums[1], nums[2]
	return d, nil
}

var methods = map[string]ipvs.ForwardMethod{
	"Masq":   ipvs.Masquerade,
	"Local":  ipvs.Local,
	"Tunnel": ipvs.Tunnel,
	"Route":  ipvs.Route,
	"Bypass": ipvs.Bypass,
}

// parseAddrPort reads "C0000201:0050" (IPv4 in hex) or
// "[2001:0db8:...:0001]:01BB".
func parseAddrPort(text string) (netip.Addr, uint16, error) {
	i := strings.LastIndexByte(text, ':')
	if i < 0 {
		return netip.Addr{}, 0, fmt.Errorf("address %q", text)
	}
	port, err := strconv.ParseUint(text[i+1:], 16, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("port in %q", text)
	}
	host := text[:i]
	if v6, ok := strings.CutPrefix(host, "["); ok {
		v6, ok = strings.CutSuffix(v6, "]")
		a, err := netip.ParseAddr(v6)
		if !ok || err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, 0, fmt.Errorf("address %q", text)
		}
		return a, uint16(port), nil
	}
	v, err := strconv.ParseUint(host, 16, 32)
	if err != nil || len(host) != 8 {
		return netip.Addr{}, 0, fmt.Errorf("address %q", text)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), uint16(port), nil
}
