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

	dests []ProcDestination
}

// ProcDestination is a destination line of /proc/net/ip_vs, compact and
// without pointers: a large table's destinations (100,000 of them) are kept
// until the listing prints them in sorted service order, and memory without
// pointers is not scanned by the garbage collector.
type ProcDestination struct {
	// Addr is laid out as the kernel's union nf_inet_addr: an IPv4 address
	// in the first four bytes, the rest zero.
	Addr                               [16]byte
	IPv6                               bool
	Port                               uint16
	ForwardMethod                      ForwardMethod
	Weight, ActiveConns, InactiveConns uint32
}

// Family is the address family of d.
func (d *ProcDestination) Family() Family {
	if d.IPv6 {
		return IPv6
	}
	return IPv4
}

// NetipAddr is d's address.
func (d *ProcDestination) NetipAddr() netip.Addr {
	if d.IPv6 {
		return netip.AddrFrom16(d.Addr)
	}
	return netip.AddrFrom4([4]byte(d.Addr[:4]))
}

func (d *ProcDestination) setAddr(a netip.Addr) {
	if d.IPv6 = a.Is6(); d.IPv6 {
		d.Addr = a.As16()
	} else {
		a4 := a.As4()
		copy(d.Addr[:], a4[:])
	}
}

// Entry is d with the fields /proc has set: Family, Addr, Port,
// ForwardMethod, Weight, ActiveConns and InactiveConns.
func (d *ProcDestination) Entry() DestinationEntry {
	e := DestinationEntry{ActiveConns: d.ActiveConns, InactiveConns: d.InactiveConns}
	e.Family, e.Addr, e.Port, e.ForwardMethod, e.Weight = d.Family(), d.NetipAddr(), d.Port, d.ForwardMethod, d.Weight
	return e
}

// Destinations are the service's destination lines, in the file's order.
// The slice is shared: do not modify it.
func (p *ProcService) Destinations() []ProcDestination { return p.dests }

// AppendDestinations appends the service's destinations to dst as entries
// (see ProcDestination.Entry).
func (p *ProcService) AppendDestinations(dst []DestinationEntry) []DestinationEntry {
	for i := range p.dests {
		dst = append(dst, p.dests[i].Entry())
	}
	return dst
}

// HasForwardMethod reports whether any destination uses method m.
func (p *ProcService) HasForwardMethod(m ForwardMethod) bool {
	for i := range p.dests {
		if p.dests[i].ForwardMethod == m {
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

// procServiceChunk is the most services that share one allocation while
// the file is read.
const procServiceChunk = 1024

// ParseProcIPVS reads /proc/net/ip_vs as a stream and parses every line; a
// malformed one fails the whole read.
func ParseProcIPVS(r io.Reader) ([]ProcService, error) {
	lr := lineReader{r: r, buf: make([]byte, 64<<10)}
	var (
		// Services are collected in chunks too, copied into one slice of
		// the right size at the end.
		full  [][]ProcService
		cur   []ProcService // the chunk the current service is in
		total int
		chunk []ProcDestination // the chunk the current service's destinations go into
		first int               // where in chunk they start
	)
	closeDests := func() {
		if len(cur) > 0 {
			cur[len(cur)-1].dests = chunk[first:len(chunk):len(chunk)]
		}
		first = len(chunk)
	}
	addService := func(s ProcService) {
		if len(cur) == cap(cur) {
			if cur != nil {
				full = append(full, cur)
			}
			cur = make([]ProcService, 0, min(max(total, 16), procServiceChunk))
		}
		cur = append(cur, s)
		total++
	}
	// makeRoom makes room in chunk for one more destination, moving the
	// current service's destinations into a new chunk when it is full.
	makeRoom := func() {
		if len(chunk) == cap(chunk) {
			grown := make([]ProcDestination, 0, max(procDestChunk, 2*(len(chunk)-first)))
			chunk, first = append(grown, chunk[first:]...), 0
		}
	}
	for n := 1; ; n++ {
		if len(cur) > 0 {
			// The common line, read in place without looking for its end,
			// straight into the next slot.
			makeRoom()
			if lr.kernelDest4(&chunk[:len(chunk)+1][len(chunk)]) {
				chunk = chunk[:len(chunk)+1]
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
			if len(cur) == 0 {
				return nil, fmt.Errorf("ip_vs line %d: destination before any service", n)
			}
			d, perr := parseProcDest(line[len(procDestPrefix):])
			if perr != nil {
				return nil, fmt.Errorf("ip_vs line %d: %w", n, perr)
			}
			makeRoom()
			chunk = append(chunk, d)
		default:
			closeDests()
			s, perr := parseProcService(line)
			if perr != nil {
				return nil, fmt.Errorf("ip_vs line %d: %w", n, perr)
			}
			addService(s)
		}
	}
	closeDests()
	out := make([]ProcService, 0, total)
	for _, c := range full {
		out = append(out, c...)
	}
	return append(out, cur...), nil
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

// kernelDest4 reads the next line into d if it is an IPv4 destination line
// with every column within its width, as the kernel prints nearly every
// line of a large table: then the line's length is known and its fields
// are at fixed places.
func (lr *lineReader) kernelDest4(d *ProcDestination) bool {
	const length = len(procDestPrefix) + kernelDest4Len + 1
	if lr.end-lr.start < length {
		lr.fill()
	}
	if lr.end-lr.start < length {
		return false
	}
	line := (*[length]byte)(lr.buf[lr.start : lr.start+length])
	if line[length-1] != '\n' || string(line[:len(procDestPrefix)]) != procDestPrefix ||
		!readKernelDest4((*[kernelDest4Len]byte)(line[len(procDestPrefix):]), d) {
		return false
	}
	lr.start += length
	return true
}

// readKernelDest4 reads an IPv4 destination line (after its prefix) whose
// numbers fit their columns: "%08X:%04X      %-7s %-6d %-10d %-10d".
func readKernelDest4(b *[kernelDest4Len]byte, d *ProcDestination) bool {
	if b[8] != ':' || string(b[13:19]) != "      " || b[33] != ' ' || b[44] != ' ' {
		return false
	}
	addr, ok1 := parseHexFixed(b[0:8])
	port, ok2 := parseHexFixed(b[9:13])
	method, ok3 := procMethod(b[19:27])
	weight, ok4 := fixedDecimal(b[27:33])
	active, ok5 := fixedDecimal(b[34:44])
	inactive, ok6 := fixedDecimal(b[45:55])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return false
	}
	*d = ProcDestination{Port: uint16(port), ForwardMethod: method, Weight: weight, ActiveConns: active, InactiveConns: inactive}
	d.Addr[0], d.Addr[1], d.Addr[2], d.Addr[3] = byte(addr>>24), byte(addr>>16), byte(addr>>8), byte(addr)
	return true
}

// fixedDecimal reads a column of "%-<width>d" that the number fits: digits,
// then spaces to the end.
func fixedDecimal(f []byte) (uint32, bool) {
	i := 0
	for i < len(f) && f[i]-'0' <= 9 {
		i++
	}
	v, ok := parseDecimal(f[:i])
	for ; ok && i < len(f); i++ {
		ok = f[i] == ' '
	}
	return v, ok
}

// procMethod reads a forwarding method name as the kernel pads it.
func procMethod(padded []byte) (ForwardMethod, bool) {
	switch string(padded) {
	case "Masq    ":
		return Masquerade, true
	case "Route   ":
		return Route, true
	case "Tunnel  ":
		return Tunnel, true
	case "Local   ":
		return Local, true
	case "Bypass  ":
		return Bypass, true
	}
	return 0, false
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

// kernelDest4Len is the length of an IPv4 destination line after its
// prefix when every number fits its column.
const kernelDest4Len = 27 + 6 + 1 + 10 + 1 + 10

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

// parseProcDest reads a destination line field by field, with any amount
// of space between fields.
func parseProcDest(rest []byte) (ProcDestination, error) {
	var f [6][]byte
	for i := range f {
		f[i], rest = field(rest)
	}
	if len(f[4]) == 0 || len(f[5]) != 0 {
		return ProcDestination{}, fmt.Errorf("destination line %q", rest)
	}
	var d ProcDestination
	addr, port, err := parseProcAddrPort(f[0])
	if err != nil {
		return d, err
	}
	d.setAddr(addr)
	d.Port = port
	switch string(f[1]) {
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
	var ok [3]bool
	d.Weight, ok[0] = parseDecimal(f[2])
	d.ActiveConns, ok[1] = parseDecimal(f[3])
	d.InactiveConns, ok[2] = parseDecimal(f[4])
	if ok != [3]bool{true, true, true} {
		return d, fmt.Errorf("numbers in %q %q %q", f[2], f[3], f[4])
	}
	return d, nil
}
