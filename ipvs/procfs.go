package ipvs

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// ProcService is a service as /proc/net/ip_vs shows it, with its
// destinations. That file (per network namespace, stable for decades) lists
// the whole table in one read, in the same order as the netlink dumps, but
// it lacks much: no flags besides one-packet, no persistence engine, no
// family for fwmark services, the persistence timeout in jiffies, IPv6
// masks mangled, and for destinations no thresholds, persistent-connection
// count, tunnel settings or counters. Use it for what it has, and the
// netlink dumps for the rest.
type ProcService struct {
	Protocol Protocol // 0 for fwmark services
	Addr     netip.Addr
	Port     uint16
	FWMark   uint32
	Sched    string

	destLines []byte // this service's destination lines, parsed on demand
}

// Destinations parses the service's destination lines: Family, Addr, Port,
// ForwardMethod, Weight, ActiveConns and InactiveConns are set. Parsing
// on demand keeps a listing's memory at the file's text plus one service.
func (p *ProcService) Destinations() ([]DestinationEntry, error) {
	var out []DestinationEntry
	for rest := p.destLines; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		d, err := parseProcDest(string(line[len(procDestPrefix):]))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// HasForwardMethod reports whether a destination line names the method, as
// /proc spells it (Masq, Local, Tunnel, Route), without parsing the lines.
func (p *ProcService) HasForwardMethod(name string) bool {
	return bytes.Contains(p.destLines, []byte(" "+name+" "))
}

// Matches reports whether p is the listing of s, by identity and scheduler.
func (p *ProcService) Matches(s *ServiceEntry) bool {
	if p.Sched != s.Scheduler {
		return false
	}
	if s.IsFWMark() {
		return p.Protocol == 0 && p.FWMark == s.FWMark
	}
	return p.Protocol == s.Protocol && p.Addr == s.Addr && p.Port == s.Port
}

const procDestPrefix = "  -> "

// ParseProcIPVS reads the text of /proc/net/ip_vs. Service lines are parsed
// at once, destination lines when asked for (ProcService.Destinations,
// which reports a malformed line then).
func ParseProcIPVS(r io.Reader) ([]ProcService, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var out []ProcService
	destStart := -1
	closeDests := func(end int) {
		if destStart >= 0 {
			out[len(out)-1].destLines = data[destStart:end]
			destStart = -1
		}
	}
	for n, off := 1, 0; off < len(data); n++ {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off
		}
		line := data[off:end]
		switch {
		case n <= 3: // version and two title lines
		case bytes.HasPrefix(line, []byte(procDestPrefix)):
			if len(out) == 0 {
				return nil, fmt.Errorf("ip_vs line %d: destination before any service", n)
			}
			if destStart < 0 {
				destStart = off
			}
		default:
			closeDests(off - 1)
			s, err := parseProcService(string(line))
			if err != nil {
				return nil, fmt.Errorf("ip_vs line %d: %w", n, err)
			}
			out = append(out, s)
		}
		off = end + 1
	}
	closeDests(len(data))
	return out, nil
}

func parseProcService(line string) (ProcService, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return ProcService{}, fmt.Errorf("short service line %q", line)
	}
	s := ProcService{Sched: f[2]}
	switch f[0] {
	case "FWM":
		mark, err := strconv.ParseUint(f[1], 16, 32)
		if err != nil {
			return ProcService{}, fmt.Errorf("fwmark %q", f[1])
		}
		s.FWMark = uint32(mark)
		return s, nil
	case "TCP":
		s.Protocol = TCP
	case "UDP":
		s.Protocol = UDP
	case "SCTP":
		s.Protocol = SCTP
	default:
		return ProcService{}, fmt.Errorf("protocol %q", f[0])
	}
	var err error
	s.Addr, s.Port, err = parseProcAddrPort(f[1])
	return s, err
}

// parseProcAddrPort reads "C0000201:0050" or "[2001:0db8:...:0001]:01BB".
func parseProcAddrPort(text string) (netip.Addr, uint16, error) {
	i := strings.LastIndexByte(text, ':')
	if i < 0 {
		return netip.Addr{}, 0, fmt.Errorf("address %q", text)
	}
	port, err := strconv.ParseUint(text[i+1:], 16, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("port in %q", text)
	}
	host := text[:i]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() {
			return netip.Addr{}, 0, fmt.Errorf("address %q", text)
		}
		return a, uint16(port), nil
	}
	b, err := hex.DecodeString(host)
	if err != nil || len(b) != 4 {
		return netip.Addr{}, 0, fmt.Errorf("address %q", text)
	}
	return netip.AddrFrom4([4]byte(b)), uint16(port), nil
}

func parseProcDest(rest string) (DestinationEntry, error) {
	f := strings.Fields(rest)
	if len(f) != 5 {
		return DestinationEntry{}, fmt.Errorf("destination line %q", rest)
	}
	var d DestinationEntry
	var err error
	if d.Addr, d.Port, err = parseProcAddrPort(f[0]); err != nil {
		return d, err
	}
	d.Family = IPv4
	if d.Addr.Is6() {
		d.Family = IPv6
	}
	switch f[1] {
	case "Masq":
		d.ForwardMethod = Masquerade
	case "Local":
		d.ForwardMethod = Local
	case "Tunnel":
		d.ForwardMethod = Tunnel
	case "Route":
		d.ForwardMethod = Route
	case "Bypass":
		d.ForwardMethod = Bypass
	default:
		return d, fmt.Errorf("forwarding method %q", f[1])
	}
	nums := make([]uint64, 3)
	for i, text := range f[2:] {
		// The kernel prints these with %d; a negative one is corrupt.
		if nums[i], err = strconv.ParseUint(text, 10, 32); err != nil {
			return d, fmt.Errorf("number %q", text)
		}
	}
	d.Weight, d.ActiveConns, d.InactiveConns = uint32(nums[0]), uint32(nums[1]), uint32(nums[2])
	return d, nil
}
