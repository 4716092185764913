package ipvs

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
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

	dests []procDest
}

// procDest is what a destination line holds, compactly and without
// pointers: a large table's destinations (100,000 of them) are kept until
// the listing prints them in sorted service order, and memory without
// pointers is not scanned by the garbage collector.
type procDest struct {
	addr                            [16]byte // IPv4 in the first 4 bytes
	v6                              bool
	port                            uint16
	method                          ForwardMethod
	weight, activeConns, inactConns uint32
}

func (d *procDest) setAddr(a netip.Addr) {
	if d.v6 = a.Is6(); d.v6 {
		d.addr = a.As16()
	} else {
		a4 := a.As4()
		copy(d.addr[:], a4[:])
	}
}

func (d *procDest) netipAddr() netip.Addr {
	if d.v6 {
		return netip.AddrFrom16(d.addr)
	}
	return netip.AddrFrom4([4]byte(d.addr[:4]))
}

// AppendDestinations appends the service's destinations to dst with Family,
// Addr, Port, ForwardMethod, Weight, ActiveConns and InactiveConns set.
func (p *ProcService) AppendDestinations(dst []DestinationEntry) []DestinationEntry {
	for i := range p.dests {
		pd := &p.dests[i]
		d := DestinationEntry{ActiveConns: pd.activeConns, InactiveConns: pd.inactConns}
		d.Family, d.Addr, d.Port, d.ForwardMethod, d.Weight = IPv4, pd.netipAddr(), pd.port, pd.method, pd.weight
		if pd.v6 {
			d.Family = IPv6
		}
		dst = append(dst, d)
	}
	return dst
}

// HasForwardMethod reports whether any destination uses method m.
func (p *ProcService) HasForwardMethod(m ForwardMethod) bool {
	for i := range p.dests {
		if p.dests[i].method == m {
			return true
		}
	}
	return false
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

// procDestChunk is how many destinations share one allocation: the table's
// destinations are stored in chunks instead of one slice grown by doubling,
// which would hold up to twice the memory while copying.
const procDestChunk = 4096

// ParseProcIPVS reads /proc/net/ip_vs as a stream and parses every line; a
// malformed one fails the whole read.
func ParseProcIPVS(r io.Reader) ([]ProcService, error) {
	lr := lineReader{r: r, buf: make([]byte, 64<<10)}
	var (
		out   []ProcService
		chunk []procDest // the chunk the current service's destinations go into
		first int        // where in chunk they start
	)
	closeDests := func() {
		if len(out) > 0 {
			out[len(out)-1].dests = chunk[first:len(chunk):len(chunk)]
		}
		first = len(chunk)
	}
	addDest := func(d procDest) {
		if len(chunk) == cap(chunk) {
			// Move this service's destinations so far into a new chunk.
			grown := make([]procDest, 0, max(procDestChunk, 2*(len(chunk)-first)))
			chunk, first = append(grown, chunk[first:]...), 0
		}
		chunk = append(chunk, d)
	}
	for n := 1; ; n++ {
		if len(out) > 0 {
			// The common line, read in place without looking for its end.
			if d, ok := lr.kernelDest4(); ok {
				addDest(d)
				continue
			}
		}
		line, err := lr.line()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ip_vs line %d: %w", n, err)
		}
		switch {
		case n <= 3: // version and two title lines
		case bytes.HasPrefix(line, []byte(procDestPrefix)):
			if len(out) == 0 {
				return nil, fmt.Errorf("ip_vs line %d: destination before any service", n)
			}
			d, perr := parseProcDest(line[len(procDestPrefix):])
			if perr != nil {
				return nil, fmt.Errorf("ip_vs line %d: %w", n, perr)
			}
			addDest(d)
		default:
			closeDests()
			s, perr := parseProcService(line)
			if perr != nil {
				return nil, fmt.Errorf("ip_vs line %d: %w", n, perr)
			}
			out = append(out, s)
		}
	}
	closeDests()
	return out, nil
}

// lineReader splits a stream into lines in one buffer, which also bounds
// the length of a line.
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int   // the unread bytes are buf[start:end]
	err        error // the reader's, once it has returned one
}

// fill reads more input, first moving the unread bytes to the front when
// the space after them is short. It reports whether it added any.
func (lr *lineReader) fill() bool {
	if lr.err != nil {
		return false
	}
	if len(lr.buf)-lr.end < len(lr.buf)/4 {
		lr.end = copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.start = 0
	}
	for range 100 { // as bufio does, give up on a reader that keeps returning nothing
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err != nil {
			lr.err = err
		}
		if n > 0 || err != nil {
			return n > 0
		}
	}
	lr.err = io.ErrNoProgress
	return false
}

// line returns the next line without its newline (the last one may lack
// it), or io.EOF after the last.
func (lr *lineReader) line() ([]byte, error) {
	for scanned := 0; ; {
		if i := bytes.IndexByte(lr.buf[lr.start+scanned:lr.end], '\n'); i >= 0 {
			line := lr.buf[lr.start : lr.start+scanned+i]
			lr.start += scanned + i + 1
			return line, nil
		}
		scanned = lr.end - lr.start
		if lr.start == 0 && lr.end == len(lr.buf) {
			return nil, fmt.Errorf("longer than %d bytes", len(lr.buf))
		}
		if !lr.fill() {
			if lr.err != io.EOF {
				return nil, lr.err
			}
			if lr.start == lr.end {
				return nil, io.EOF
			}
			line := lr.buf[lr.start:lr.end]
			lr.start = lr.end
			return line, nil
		}
	}
}

// kernelDest4 reads the next line if it is an IPv4 destination line with
// every column within its width, as the kernel prints nearly every line of
// a large table: then the line's length is known and its fields are at
// fixed places.
func (lr *lineReader) kernelDest4() (procDest, bool) {
	const length = len(procDestPrefix) + kernelDest4Len + 1
	if lr.end-lr.start < length && !lr.fill() {
		return procDest{}, false
	}
	b := lr.buf[lr.start:lr.end]
	if len(b) < length || b[length-1] != '\n' || string(b[:len(procDestPrefix)]) != procDestPrefix {
		return procDest{}, false
	}
	d, ok := parseKernelDest4(b[len(procDestPrefix) : length-1])
	if ok {
		lr.start += length
	}
	return d, ok
}

// field splits off the first space-separated field of b.
func field(b []byte) (f, rest []byte) {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i:]
}

func parseProcService(line []byte) (ProcService, error) {
	proto, rest := field(line)
	addr, rest := field(rest)
	sched, _ := field(rest)
	if len(sched) == 0 {
		return ProcService{}, fmt.Errorf("short service line %q", line)
	}
	s := ProcService{Sched: internName(sched)}
	switch string(proto) {
	case "FWM":
		mark, ok := parseHex(addr, 8)
		if !ok {
			return ProcService{}, fmt.Errorf("fwmark %q", addr)
		}
		s.FWMark = mark
		return s, nil
	case "TCP":
		s.Protocol = TCP
	case "UDP":
		s.Protocol = UDP
	case "SCTP":
		s.Protocol = SCTP
	default:
		return ProcService{}, fmt.Errorf("protocol %q", proto)
	}
	var err error
	s.Addr, s.Port, err = parseProcAddrPort(addr)
	return s, err
}

// parseHex reads 1 to max hex digits.
func parseHex(b []byte, max int) (uint32, bool) {
	if len(b) == 0 || len(b) > max {
		return 0, false
	}
	var v uint32
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}

// parseDecimal reads a non-negative decimal number below 2^32 (the kernel
// prints these with %d or %u; a sign means corruption).
func parseDecimal(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return uint32(v), v <= 1<<32-1
}

// parseProcAddrPort reads "C0000201:0050" or "[2001:0db8:...:0001]:01BB".
func parseProcAddrPort(text []byte) (netip.Addr, uint16, error) {
	i := bytes.LastIndexByte(text, ':')
	if i < 0 {
		return netip.Addr{}, 0, fmt.Errorf("address %q", text)
	}
	port, ok := parseHex(text[i+1:], 4)
	if !ok {
		return netip.Addr{}, 0, fmt.Errorf("port in %q", text)
	}
	host := text[:i]
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		a, err := netip.ParseAddr(string(host[1 : len(host)-1]))
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, 0, fmt.Errorf("address %q", text)
		}
		return a, uint16(port), nil
	}
	v, ok := parseHex(host, 8)
	if !ok || len(host) != 8 {
		return netip.Addr{}, 0, fmt.Errorf("address %q", text)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), uint16(port), nil
}

// procMethods are the forwarding method names as the kernel pads them
// ("%-7s ").
var procMethods = [...]struct {
	padded string
	method ForwardMethod
}{
	{"Masq    ", Masquerade}, {"Route   ", Route}, {"Tunnel  ", Tunnel},
	{"Local   ", Local}, {"Bypass  ", Bypass},
}

// parseKernelDest4 reads an IPv4 destination line laid out exactly as the
// kernel prints it, "%08X:%04X      %-7s %-6d %-10d %-10d" (a large table
// is almost only such lines), without scanning the padding field by field.
// It reports false for anything else, which parseProcDest then reads the
// general way.
func parseKernelDest4(b []byte) (procDest, bool) {
	const methodAt, weightAt = 19, 27
	if len(b) < kernelDest4Len || b[8] != ':' || string(b[13:methodAt]) != "      " {
		return procDest{}, false
	}
	addr, ok1 := parseHexFixed(b[0:8])
	port, ok2 := parseHexFixed(b[9:13])
	if !ok1 || !ok2 {
		return procDest{}, false
	}
	d := procDest{port: uint16(port)}
	d.addr[0], d.addr[1], d.addr[2], d.addr[3] = byte(addr>>24), byte(addr>>16), byte(addr>>8), byte(addr)
	method := string(b[methodAt:weightAt])
	i := 0
	for i < len(procMethods) && procMethods[i].padded != method {
		i++
	}
	if i == len(procMethods) {
		return procDest{}, false
	}
	d.method = procMethods[i].method
	var ok [3]bool
	rest := b[weightAt:]
	d.weight, rest, ok[0] = leftAligned(rest, 6, true)
	d.activeConns, rest, ok[1] = leftAligned(rest, 10, true)
	d.inactConns, rest, ok[2] = leftAligned(rest, 10, false)
	return d, ok == [3]bool{true, true, true} && len(rest) == 0
}

// kernelDest4Len is the length of an IPv4 destination line after its
// prefix when every number fits its column.
const kernelDest4Len = 27 + 6 + 1 + 10 + 1 + 10

// leftAligned reads a number printed with "%-<width>d" and, when more
// follows, the single space after it.
func leftAligned(b []byte, width int, more bool) (v uint32, rest []byte, ok bool) {
	n := 0
	for n < len(b) && n < 11 && '0' <= b[n] && b[n] <= '9' {
		n++
	}
	if v, ok = parseDecimal(b[:n]); !ok {
		return 0, nil, false
	}
	for ; n < width; n++ {
		if n >= len(b) || b[n] != ' ' {
			return 0, nil, false
		}
	}
	if more {
		if n >= len(b) || b[n] != ' ' {
			return 0, nil, false
		}
		n++
	}
	return v, b[n:], true
}

// parseHexFixed reads a field of upper-case hex digits, as the kernel
// prints with %0<n>X.
func parseHexFixed(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b {
		d := hexDigits[c]
		if d > 15 {
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

// hexDigits maps '0'-'9' and 'A'-'F' to their values, anything else to 0xff.
var hexDigits = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range 10 {
		t['0'+i] = byte(i)
	}
	for i := range 6 {
		t['A'+i] = byte(10 + i)
	}
	return t
}()

func parseProcDest(rest []byte) (procDest, error) {
	if d, ok := parseKernelDest4(rest); ok {
		return d, nil
	}
	return parseProcDestFields(rest)
}

// parseProcDestFields reads a destination line field by field, with any
// amount of space between fields.
func parseProcDestFields(rest []byte) (procDest, error) {
	var f [6][]byte
	for i := range f {
		f[i], rest = field(rest)
	}
	if len(f[4]) == 0 || len(f[5]) != 0 {
		return procDest{}, fmt.Errorf("destination line %q", rest)
	}
	var d procDest
	addr, port, err := parseProcAddrPort(f[0])
	if err != nil {
		return d, err
	}
	d.setAddr(addr)
	d.port = port
	switch string(f[1]) {
	case "Masq":
		d.method = Masquerade
	case "Local":
		d.method = Local
	case "Tunnel":
		d.method = Tunnel
	case "Route":
		d.method = Route
	case "Bypass":
		d.method = Bypass
	default:
		return d, fmt.Errorf("forwarding method %q", f[1])
	}
	var ok [3]bool
	d.weight, ok[0] = parseDecimal(f[2])
	d.activeConns, ok[1] = parseDecimal(f[3])
	d.inactConns, ok[2] = parseDecimal(f[4])
	if ok != [3]bool{true, true, true} {
		return d, fmt.Errorf("numbers in %q %q %q", f[2], f[3], f[4])
	}
	return d, nil
}
