// Package procipvs reads /proc/net/ip_vs, the kernel's text listing of a
// network namespace's IPVS table. One read of it returns every service and
// destination, where netlink needs one dump per service; but it lacks much
// (service flags other than one-packet, persistence engines, the family of
// fwmark services, thresholds, tunnel settings, counters), so listings take
// the services from netlink and only the destinations from here.
package procipvs

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Service is a service line of /proc/net/ip_vs. Its destination lines are
// kept as text until AppendDests reads them, so that a large table costs
// little more memory than its text, none of it scanned by the garbage
// collector.
type Service struct {
	Protocol  ipvs.Protocol // 0 for fwmark services
	Addr      netip.Addr    // unset for fwmark services
	Port      uint16
	FWMark    uint32
	Scheduler string

	dests string // the destination lines, each ending in a newline
	line  int    // the line number of the first of them, for errors
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

// AppendDests appends the service's destinations to dst, with what the
// file shows: Family, Addr, Port, ForwardMethod, Weight, ActiveConns and
// InactiveConns.
func (s *Service) AppendDests(dst []ipvs.DestinationEntry) ([]ipvs.DestinationEntry, error) {
	text := s.dests
	for n := s.line; text != ""; n++ {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		d, err := parseDest(strings.TrimPrefix(line, destPrefix))
		if err != nil {
			return dst, fmt.Errorf("ip_vs line %d: %w", n, err)
		}
		dst = append(dst, d)
	}
	return dst, nil
}

const destPrefix = "  -> "

// headerLines are the version line and the two column titles.
const headerLines = 3

// Read reads the whole file and parses its service lines; destination
// lines are only checked to follow a service.
func Read(r io.Reader) ([]Service, error) {
	var b strings.Builder
	if _, err := io.Copy(&b, r); err != nil {
		return nil, fmt.Errorf("ip_vs: %w", err)
	}
	text := b.String()
	var svcs []Service
	// Each service's destination lines follow it: dests is text[start:pos]
	// once they are all read.
	start, pos := 0, 0
	closeDests := func() {
		if len(svcs) > 0 {
			svcs[len(svcs)-1].dests = text[start:pos]
		}
	}
	for n := 1; pos < len(text); n++ {
		line, _, ok := strings.Cut(text[pos:], "\n")
		if !ok {
			return nil, fmt.Errorf("ip_vs line %d: no newline at the end", n)
		}
		next := pos + len(line) + 1
		switch {
		case n <= headerLines:
		case strings.HasPrefix(line, destPrefix):
			if len(svcs) == 0 {
				return nil, fmt.Errorf("ip_vs line %d: destination before any service", n)
			}
		default:
			closeDests()
			s, err := parseService(line)
			if err != nil {
				return nil, fmt.Errorf("ip_vs line %d: %w", n, err)
			}
			s.line = n + 1
			svcs = append(svcs, s)
			start = next
		}
		pos = next
	}
	closeDests()
	return svcs, nil
}

// fields splits s at runs of spaces into f and returns how many fields it
// found (counting past len(f) stops at len(f)+1).
func fields(s string, f []string) int {
	n := 0
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return n
		}
		if n == len(f) {
			return n + 1
		}
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		f[n], s = s[:end], s[end:]
		n++
	}
}

// parseService reads "PROTO ADDR:PORT SCHED [flags]" or "FWM MARK SCHED [flags]".
func parseService(line string) (Service, error) {
	var f [3]string
	if fields(line, f[:]) < 3 {
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
	var f [5]string
	if fields(text, f[:]) != len(f) {
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
