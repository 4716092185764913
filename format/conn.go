package format

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strings"

	"github.com/lvsadm/lvsadm/ipvs"
)

// ConnProcFile is the kernel's connection table, which ipvsadm -c reads (it
// does not list connections over netlink).
const ConnProcFile = "/proc/net/ip_vs_conn"

// ConnectionsErrorKind says why a connection listing failed.
type ConnectionsErrorKind int

// Connection listing failures. ipvsadm exits with status 1 for all of them.
const (
	// ConnectionsCannotOpen: the file could not be opened. The caller opens
	// it, and reports the failure with CannotOpenConnections.
	ConnectionsCannotOpen ConnectionsErrorKind = iota + 1
	// ConnectionsUnexpectedInput: not even a title line could be read.
	ConnectionsUnexpectedInput
	// ConnectionsBlankLine: a line holds only white space; ipvsadm stops
	// there without a message, keeping the rows already printed.
	ConnectionsBlankLine
	// ConnectionsReadFailed: reading failed after the title line. ipvsadm
	// would retry forever; lvsadm reports it as unexpected input.
	ConnectionsReadFailed
)

// ConnectionsError is a failed connection listing.
type ConnectionsError struct {
	Kind ConnectionsErrorKind
	Err  error // the underlying I/O error, if any
}

// CannotOpenConnections wraps the error of opening ConnProcFile.
func CannotOpenConnections(err error) error {
	return &ConnectionsError{Kind: ConnectionsCannotOpen, Err: err}
}

// Message is the line ipvsadm prints on stderr (without its newline), or ""
// when it prints nothing.
func (e *ConnectionsError) Message() string {
	switch e.Kind {
	case ConnectionsCannotOpen:
		return "cannot open file " + ConnProcFile
	case ConnectionsUnexpectedInput, ConnectionsReadFailed:
		return "unexpected input from " + ConnProcFile
	}
	return ""
}

func (e *ConnectionsError) Error() string {
	msg := e.Message()
	if msg == "" {
		msg = "blank line in " + ConnProcFile
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *ConnectionsError) Unwrap() error { return e.Err }

// connLineMax is how much of a line ipvsadm reads at once (fgets into 256
// bytes): the rest of a longer line is read, and parsed, as the next line.
const connLineMax = 255

// Connections writes ipvsadm -c's listing of the kernel's connection table
// as read from r (the text of ConnProcFile). The title line of the file is
// skipped; each following line is parsed as ipvsadm's sscanf does. Only
// o.Numeric and o.PersistentConn matter. Rows are written as they are
// parsed, so a failure after the title leaves the earlier rows written.
//
// Errors from the input are *ConnectionsError; errors from w are returned
// as they are.
func Connections(w io.Writer, r io.Reader, o Options, n Names) error {
	br := bufio.NewReader(r)
	var line []byte
	line, err := readConnLine(br, line)
	if err != nil {
		if err == io.EOF {
			err = nil
		}
		return &ConnectionsError{Kind: ConnectionsUnexpectedInput, Err: err}
	}
	title := fmt.Sprintf("pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination")
	if o.PersistentConn {
		title = fmt.Sprintf("pro expire %-11s %-18s %-18s %-18s %-16s %s\n",
			"state", "source", "virtual", "destination", "pe name", "pe_data")
	}
	if _, err := io.WriteString(w, "IPVS connection entries\n"+title); err != nil {
		return err
	}

	var out []byte
	flush := func() error {
		_, err := w.Write(out)
		out = out[:0]
		return err
	}
	for {
		line, err = readConnLine(br, line)
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			if werr := flush(); werr != nil {
				return werr
			}
			return &ConnectionsError{Kind: ConnectionsReadFailed, Err: err}
		}
		row, ok := parseConnLine(line)
		if !ok {
			if werr := flush(); werr != nil {
				return werr
			}
			return &ConnectionsError{Kind: ConnectionsBlankLine}
		}
		out = appendConnRow(out, &row, o, n)
		if len(out) >= 32<<10 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// readConnLine reads like fgets into a 256-byte buffer: up to and including
// a newline, at most connLineMax bytes; a last line without a newline is
// still a line.
func readConnLine(br *bufio.Reader, line []byte) ([]byte, error) {
	line = line[:0]
	for len(line) < connLineMax {
		c, err := br.ReadByte()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return line, nil
			}
			return line, err
		}
		line = append(line, c)
		if c == '\n' {
			break
		}
	}
	return line, nil
}

// connRow is one parsed line: the fields of
// sscanf("%s %s %hX %s %hX %s %hX %s %d %s %s"). Fields sscanf did not reach
// stay zero (ipvsadm would use whatever its stack held).
type connRow struct {
	fields   int // conversions done
	protocol string
	client   string
	cport    uint16
	virtual  string
	vport    uint16
	dest     string
	dport    uint16
	state    string
	expires  uint32
	peName   string
	peData   string
}

// parseConnLine parses a line as ipvsadm's sscanf does. It reports false
// when sscanf would return EOF, a line of nothing but white space.
func parseConnLine(line []byte) (connRow, bool) {
	// sscanf sees a C string: it ends at the first NUL.
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	s := scanner{s: string(line)}
	var row connRow
	steps := []func() bool{
		func() bool { return s.word(&row.protocol) },
		func() bool { return s.word(&row.client) },
		func() bool { return s.hex16(&row.cport) },
		func() bool { return s.word(&row.virtual) },
		func() bool { return s.hex16(&row.vport) },
		func() bool { return s.word(&row.dest) },
		func() bool { return s.hex16(&row.dport) },
		func() bool { return s.word(&row.state) },
		func() bool { return s.decimal(&row.expires) },
		func() bool { return s.word(&row.peName) },
		func() bool { return s.word(&row.peData) },
	}
	for _, step := range steps {
		s.skipSpace()
		if s.pos == len(s.s) {
			// Input failure: EOF before the first conversion, else the
			// count so far.
			return row, row.fields > 0
		}
		if !step() {
			break // matching failure
		}
		row.fields++
	}
	return row, true
}

// scanner reads conversions the way glibc's scanf does.
type scanner struct {
	s   string
	pos int
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.s) && isCSpace(s.s[s.pos]) {
		s.pos++
	}
}

// word is %s: a run of non-space bytes (never empty here).
func (s *scanner) word(dst *string) bool {
	start := s.pos
	for s.pos < len(s.s) && !isCSpace(s.s[s.pos]) {
		s.pos++
	}
	*dst = s.s[start:s.pos]
	return true
}

// sign reads an optional + or -.
func (s *scanner) sign() (negative bool) {
	if s.pos < len(s.s) && (s.s[s.pos] == '+' || s.s[s.pos] == '-') {
		negative = s.s[s.pos] == '-'
		s.pos++
	}
	return negative
}

// hex16 is %hX: optional sign, optional 0x, hex digits; the value is
// strtoul's (saturating at 2^64-1, negated modulo 2^64) cut to 16 bits.
func (s *scanner) hex16(dst *uint16) bool {
	negative := s.sign()
	digits := 0
	if s.pos < len(s.s) && s.s[s.pos] == '0' {
		// glibc keeps the 0 as a digit and drops an x after it.
		s.pos++
		digits++
		if s.pos < len(s.s) && (s.s[s.pos] == 'x' || s.s[s.pos] == 'X') {
			s.pos++
		}
	}
	var v uint64
	overflow := false
	for s.pos < len(s.s) {
		d, ok := hexDigit(s.s[s.pos])
		if !ok {
			break
		}
		if v > (math.MaxUint64-d)/16 {
			overflow = true
		} else {
			v = v*16 + d
		}
		s.pos++
		digits++
	}
	if digits == 0 {
		return false
	}
	switch {
	case overflow:
		v = math.MaxUint64
	case negative:
		v = -v
	}
	*dst = uint16(v)
	return true
}

func hexDigit(c byte) (uint64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

// decimal is %d into ipvsadm's unsigned int: strtol's value (saturating at
// the 64-bit limits) cut to 32 bits.
func (s *scanner) decimal(dst *uint32) bool {
	negative := s.sign()
	digits := 0
	var v uint64 // magnitude, saturating
	for s.pos < len(s.s) && '0' <= s.s[s.pos] && s.s[s.pos] <= '9' {
		d := uint64(s.s[s.pos] - '0')
		if v <= (math.MaxUint64-d)/10 {
			v = v*10 + d
		} else {
			v = math.MaxUint64
		}
		s.pos++
		digits++
	}
	if digits == 0 {
		return false
	}
	var l int64
	switch {
	case !negative && v > math.MaxInt64:
		l = math.MaxInt64
	case negative && v > 1<<63:
		l = math.MinInt64
	case negative:
		l = int64(-v)
	default:
		l = int64(v)
	}
	*dst = uint32(l)
	return true
}

// connAddr reads an address field: IPv6 text, IPv4 text, or the kernel's
// eight hex digits (parsed by strtoul, so any prefix of hex digits).
func connAddr(text string) (ipvs.Family, [16]byte) {
	if a, ok := pton(text, true); ok {
		return ipvs.IPv6, a.As16()
	}
	var raw [16]byte
	if a, ok := pton(text, false); ok {
		b := a.As4()
		copy(raw[:4], b[:])
		return ipvs.IPv4, raw
	}
	v := uint32(strtoulHex(text))
	raw[0], raw[1], raw[2], raw[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return ipvs.IPv4, raw
}

// secondAddr reads the virtual address in the family of the client
// address, as ipvsadm does; text that is not of that family leaves it zero.
func secondAddr(af ipvs.Family, parsedAsText bool, text string) [16]byte {
	var raw [16]byte
	switch {
	case af == ipvs.IPv6:
		if a, ok := pton(text, true); ok {
			raw = a.As16()
		}
	case parsedAsText:
		if a, ok := pton(text, false); ok {
			b := a.As4()
			copy(raw[:4], b[:])
		}
	default:
		v := uint32(strtoulHex(text))
		raw[0], raw[1], raw[2], raw[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	return raw
}

// pton is inet_pton for one family: no zones, no brackets, IPv4 only as a
// plain dotted quad.
func pton(text string, v6 bool) (netip.Addr, bool) {
	if strings.ContainsAny(text, "%[]") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(text)
	if err != nil {
		return netip.Addr{}, false
	}
	if v6 {
		return a, a.Is6()
	}
	return a, a.Is4()
}

// strtoulHex is strtoul(text, NULL, 16): optional sign and 0x, then the
// longest run of hex digits; saturates at 2^64-1.
func strtoulHex(text string) uint64 {
	s := scanner{s: text}
	s.skipSpace()
	negative := s.sign()
	if strings.HasPrefix(strings.ToLower(s.s[s.pos:]), "0x") && s.pos+2 < len(s.s) {
		if _, ok := hexDigit(s.s[s.pos+2]); ok {
			s.pos += 2
		}
	}
	var v uint64
	for s.pos < len(s.s) {
		d, ok := hexDigit(s.s[s.pos])
		if !ok {
			break
		}
		if v > (math.MaxUint64-d)/16 {
			return math.MaxUint64
		}
		v = v*16 + d
		s.pos++
	}
	if negative {
		v = -v
	}
	return v
}

func appendConnRow(b []byte, row *connRow, o Options, n Names) []byte {
	var proto ipvs.Protocol
	switch row.protocol {
	case "TCP":
		proto = ipvs.TCP
	case "UDP":
		proto = ipvs.UDP
	case "SCTP":
		proto = ipvs.SCTP
	}

	af, craw := connAddr(row.client)
	_, textual := pton(row.client, false)
	vraw := secondAddr(af, textual, row.virtual)
	daf, draw := connAddr(row.dest)

	cname := addrPort(af, craw, row.cport, proto, o.Numeric, n)
	vname := addrPort(af, vraw, row.vport, proto, o.Numeric, n)
	dname := addrPort(daf, draw, row.dport, proto, o.Numeric, n)
	expire := fmt.Sprintf("%02d:%02d", row.expires/60, row.expires%60)

	b = appendPadded(b, row.protocol, 3)
	b = append(b, ' ')
	b = appendPadded(b, expire, 6)
	b = append(b, ' ')
	b = appendPadded(b, row.state, 11)
	b = append(b, ' ')
	b = appendPadded(b, cname, 18)
	b = append(b, ' ')
	b = appendPadded(b, vname, 18)
	b = append(b, ' ')
	if o.PersistentConn && row.fields == 11 {
		// Narrower than the title's columns, as in ipvsadm.
		b = appendPadded(b, dname, 16)
		b = append(b, ' ')
		b = appendPadded(b, row.peName, 18)
		b = append(b, ' ')
		b = append(b, row.peData...)
	} else {
		b = append(b, dname...)
	}
	return append(b, '\n')
}
