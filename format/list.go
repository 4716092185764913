package format

import (
	"fmt"
	"io"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Options are ipvsadm's listing switches.
type Options struct {
	Numeric        bool // -n: no host or port names
	Stats          bool // --stats
	Rate           bool // --rate
	Thresholds     bool // --thresholds
	PersistentConn bool // --persistent-conn
	TunInfo        bool // --tun-info
	NoSort         bool // --nosort: kernel order
	Exact          bool // -X, --exact: no K/M/G/T scaling
}

// Table is one virtual service and its destinations.
type Table struct {
	Service ipvs.ServiceEntry
	Dests   []ipvs.DestinationEntry
}

// layout is the column set of a listing. When several switches are given
// the first of stats, rate, thresholds, persistent-conn, tun-info wins, for
// the title and the rows alike.
type layout int

const (
	layoutDefault layout = iota
	layoutStats
	layoutRate
	layoutThresholds
	layoutPersistentConn
	layoutTunInfo
)

func (o Options) layout() layout {
	switch {
	case o.Stats:
		return layoutStats
	case o.Rate:
		return layoutRate
	case o.Thresholds:
		return layoutThresholds
	case o.PersistentConn:
		return layoutPersistentConn
	case o.TunInfo:
		return layoutTunInfo
	}
	return layoutDefault
}

// Header writes the first line of a full listing (ipvsadm -L without -t,
// -u, -f): the kernel's IPVS version and connection table size.
func Header(w io.Writer, info ipvs.Info) error {
	_, err := fmt.Fprintf(w, "IP Virtual Server version %s (size=%d)\n", info.VersionString(), int32(info.ConnTableSize))
	return err
}

// Title writes the two column-title lines for the selected layout.
func Title(w io.Writer, o Options) error {
	const service, dest = "Prot LocalAddress:Port", "  -> RemoteAddress:Port"
	var err error
	switch o.layout() {
	case layoutStats:
		_, err = fmt.Fprintf(w, "%-33s %8s %8s %8s %8s %8s\n%s\n", service,
			"Conns", "InPkts", "OutPkts", "InBytes", "OutBytes", dest)
	case layoutRate:
		_, err = fmt.Fprintf(w, "%-33s %8s %8s %8s %8s %8s\n%s\n", service,
			"CPS", "InPPS", "OutPPS", "InBPS", "OutBPS", dest)
	case layoutThresholds:
		_, err = fmt.Fprintf(w, "%-33s %-10s %-10s %-10s %-10s\n%s\n", service,
			"Uthreshold", "Lthreshold", "ActiveConn", "InActConn", dest)
	case layoutPersistentConn:
		_, err = fmt.Fprintf(w, "%-33s %-9s %-11s %-10s %-10s\n%s\n", service,
			"Weight", "PersistConn", "ActiveConn", "InActConn", dest)
	case layoutTunInfo:
		_, err = io.WriteString(w, service+" Scheduler Flags\n"+
			dest+"           Forward TunnelInfo    Weight ActiveConn InActConn\n")
	default:
		_, err = io.WriteString(w, service+" Scheduler Flags\n"+
			dest+"           Forward Weight ActiveConn InActConn\n")
	}
	return err
}

// List writes a full listing: header, title and every service with its
// destinations, sorted as ipvsadm sorts them unless o.NoSort. The tables
// are not modified.
func List(w io.Writer, info ipvs.Info, tables []Table, o Options, n Names) error {
	if err := Header(w, info); err != nil {
		return err
	}
	if err := Title(w, o); err != nil {
		return err
	}
	if !o.NoSort {
		tables = append([]Table(nil), tables...)
		SortServices(tables)
	}
	for _, t := range tables {
		if err := ServiceRows(w, t, o, n); err != nil {
			return err
		}
	}
	return nil
}

// ServiceRows writes one service line and its destination rows. The
// destinations are printed sorted unless o.NoSort; t is not modified. It
// depends on nothing but its arguments, so a caller may stream a listing:
// Header and Title once, then ServiceRows per service as it arrives (in
// kernel order, which is what --nosort shows). The service is written with
// one Write.
//
// Unlike ipvsadm 1.31, which reads destination counters through a 32-bit
// getter, the 64-bit counters are printed whole; fwmarks are printed
// unsigned (1.31 prints marks of 2^31 and above as negative numbers).
func ServiceRows(w io.Writer, t Table, o Options, n Names) error {
	se := &t.Service
	af := family(se.Family, se.Addr)
	lay := o.layout()

	b := outputBuffer(w, blockSize(len(t.Dests)))
	start := len(b)
	b = appendServiceName(b, se, af, o.Numeric, n)
	switch lay {
	case layoutStats:
		b = padTo(b, start, 33)
		b = appendCounters(b, o.Exact, se.Stats.Connections, se.Stats.PacketsIn,
			se.Stats.PacketsOut, se.Stats.BytesIn, se.Stats.BytesOut)
	case layoutRate:
		b = padTo(b, start, 33)
		b = appendCounters(b, o.Exact, se.Stats.CPS, se.Stats.PPSIn,
			se.Stats.PPSOut, se.Stats.BPSIn, se.Stats.BPSOut)
	default:
		b = append(b, ' ')
		b = append(b, se.Scheduler...)
		if se.Flags&ipvs.SchedFlagsMask != 0 {
			b = append(b, " ("...)
			b = appendSchedFlags(b, se)
			b = append(b, ')')
		}
		if se.Flags&ipvs.FlagPersistent != 0 {
			b = append(b, " persistent "...)
			b = appendUint(b, uint64(se.Timeout))
			b = appendMask(b, " mask ", af, se.Netmask)
			if se.PE != "" {
				b = append(b, " pe "...)
				b = append(b, se.PE...)
			}
		}
		if se.Flags&ipvs.FlagOnePacket != 0 {
			b = append(b, " ops"...)
		}
	}
	b = append(b, '\n')

	if o.NoSort {
		for i := range t.Dests {
			b = appendDestRow(b, se, &t.Dests[i], lay, o, n)
		}
	} else {
		for _, i := range destOrder(t.Dests) {
			b = appendDestRow(b, se, &t.Dests[i], lay, o, n)
		}
	}
	_, err := w.Write(b)
	return err
}

// blockSize is room for a service line and its destination lines in
// the common case; longer lines only cost a larger buffer.
func blockSize(dests int) int {
	return 128 * (1 + dests)
}

// appendServiceName appends the first column of a service line: "FWM
// <mark>" with " IPv6" for IPv6 marks, else protocol and address:port, cut
// to 33 bytes unless the service is IPv6.
func appendServiceName(b []byte, se *ipvs.ServiceEntry, af ipvs.Family, numeric bool, n Names) []byte {
	if se.FWMark != 0 {
		b = append(b, "FWM  "...)
		b = appendUint(b, uint64(se.FWMark))
		if af == ipvs.IPv6 {
			b = append(b, " IPv6"...)
		}
		return b
	}
	start := len(b)
	b = appendPadded(b, protocolName(se.Protocol), 4)
	b = append(b, ' ')
	raw := rawAddr(se.Addr)
	b = appendAddrPort(b, af, &raw, se.Port, se.Protocol, numeric, n)
	if af != ipvs.IPv6 {
		b = truncateFrom(b, start, 33)
	}
	return b
}

// portProtocol is the protocol whose port names a service's destinations
// get. The kernel reports no protocol for fwmark services, so ipvsadm names
// none of their ports.
func portProtocol(se *ipvs.ServiceEntry) ipvs.Protocol {
	if se.FWMark != 0 {
		return 0
	}
	return se.Protocol
}

func protocolName(p ipvs.Protocol) string {
	switch p {
	case ipvs.TCP, ipvs.UDP, ipvs.SCTP:
		return p.String()
	}
	return "?"
}

// appendSchedFlags appends the names of the scheduler flags that are set,
// comma-separated. sh and mh have names for the first two flags only, so
// their third flag alone gives an empty list (ipvsadm then prints " ()").
func appendSchedFlags(b []byte, se *ipvs.ServiceEntry) []byte {
	start := len(b)
	switch se.Scheduler {
	case "sh", "mh":
		for _, f := range [...]struct {
			flag ipvs.ServiceFlags
			name string
		}{{ipvs.FlagSched1, "-fallback"}, {ipvs.FlagSched2, "-port"}} {
			if se.Flags&f.flag != 0 {
				if len(b) > start {
					b = append(b, ',')
				}
				b = append(b, se.Scheduler...)
				b = append(b, f.name...)
			}
		}
	default:
		for i, f := range [...]ipvs.ServiceFlags{ipvs.FlagSched1, ipvs.FlagSched2, ipvs.FlagSched3} {
			if se.Flags&f != 0 {
				if len(b) > start {
					b = append(b, ',')
				}
				b = append(b, "flag-"...)
				b = append(b, byte('1'+i))
			}
		}
	}
	return b
}

// appendMask adds the persistence netmask when it is not a host mask: dotted
// for IPv4, a prefix length for IPv6. Other families print none.
func appendMask(b []byte, prefix string, af ipvs.Family, mask uint32) []byte {
	switch af {
	case ipvs.IPv4:
		if mask != 0xffffffff {
			b = append(b, prefix...)
			b = appendNtop4(b, byte(mask>>24), byte(mask>>16), byte(mask>>8), byte(mask))
		}
	case ipvs.IPv6:
		if mask != 128 {
			b = append(b, prefix...)
			b = appendInt(b, int64(int32(mask)))
		}
	}
	return b
}

// fwdName is the Forward column; ipvsadm passes a NULL string for methods it
// has no name for, which glibc prints as "(null)".
func fwdName(m ipvs.ForwardMethod) string {
	switch m & 7 {
	case ipvs.Masquerade, ipvs.Local, ipvs.Tunnel, ipvs.Route:
		return (m & 7).String()
	}
	return "(null)"
}

// appendTunnelInfo appends the TunnelInfo column of --tun-info, unpadded.
func appendTunnelInfo(b []byte, d *ipvs.DestinationEntry) []byte {
	if d.ForwardMethod&7 != ipvs.Tunnel {
		return append(b, "n/a"...)
	}
	switch d.TunnelType {
	case ipvs.TunnelIPIP:
		return append(b, "ipip"...)
	case ipvs.TunnelGUE:
		start := len(b)
		b = append(b, "gue:"...)
		b = appendUint(b, uint64(d.TunnelPort))
		b = append(b, ':')
		b = append(b, tunnelFlagsInfo(d.TunnelFlags)...)
		// ipvsadm formats into 16 bytes.
		return truncateFrom(b, start, 15)
	case ipvs.TunnelGRE:
		b = append(b, "gre:"...)
		return append(b, tunnelFlagsInfo(d.TunnelFlags)...)
	}
	return append(b, "n/a"...)
}

// tunnelFlagsInfo names a checksum setting. ipvsadm indexes a three-entry
// table and reads past it for other values; lvsadm prints "?" instead.
func tunnelFlagsInfo(f ipvs.TunnelFlags) string {
	switch f {
	case ipvs.TunnelNoChecksum:
		return "-c"
	case ipvs.TunnelChecksum:
		return "+c"
	case ipvs.TunnelRemoteChecksum:
		return "r+c"
	}
	return "?"
}

// appendDestRow appends one destination line. The printf formats are
// ipvsadm's.
func appendDestRow(b []byte, se *ipvs.ServiceEntry, d *ipvs.DestinationEntry, lay layout, o Options, n Names) []byte {
	raw := rawAddr(d.Addr)
	b = appendAddrColumn(b, se, family(d.Family, d.Addr), &raw, d.Port, o, n)
	weight := int64(int32(d.Weight)) // a C int in ipvsadm
	switch lay {
	case layoutStats:
		b = appendCounters(b, o.Exact, d.Stats.Connections, d.Stats.PacketsIn,
			d.Stats.PacketsOut, d.Stats.BytesIn, d.Stats.BytesOut)
	case layoutRate:
		// " %8d %8d %8d": connection and packet rates are never scaled,
		// even without -X.
		for _, v := range [...]uint64{d.Stats.CPS, d.Stats.PPSIn, d.Stats.PPSOut} {
			b = append(b, ' ')
			b = appendUintRight(b, v, 8)
		}
		b = appendCounters(b, o.Exact, d.Stats.BPSIn, d.Stats.BPSOut)
	case layoutThresholds:
		// " %-10d %-10d %-10d %-10d"
		for _, v := range [...]uint32{d.UpperThreshold, d.LowerThreshold, d.ActiveConns, d.InactiveConns} {
			b = append(b, ' ')
			b = appendUintLeft(b, uint64(v), 10)
		}
	case layoutPersistentConn:
		// " %-9d %-11d %-10d %-10d"; ipvsadm prints the int weight with %u.
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(d.Weight), 9)
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(d.PersistentConns), 11)
		b = appendConns(b, d)
	case layoutTunInfo:
		// " %-7s %-13s %-6d %-10d %-10d"
		b = append(b, ' ')
		b = appendPadded(b, fwdName(d.ForwardMethod), 7)
		b = append(b, ' ')
		start := len(b)
		b = appendTunnelInfo(b, d)
		b = padTo(b, start, 13)
		b = append(b, ' ')
		b = appendIntLeft(b, weight, 6)
		b = appendConns(b, d)
	default:
		b = appendDefaultColumns(b, d.ForwardMethod, d.Weight, d.ActiveConns, d.InactiveConns)
	}
	return append(b, '\n')
}

// appendAddrColumn starts a destination row: the arrow and "%-28s" of the
// address and port, IPv4 cut to 28 bytes.
func appendAddrColumn(b []byte, se *ipvs.ServiceEntry, af ipvs.Family, raw *[16]byte, port uint16, o Options, n Names) []byte {
	b = append(b, "  -> "...)
	start := len(b)
	b = appendAddrPort(b, af, raw, port, portProtocol(se), o.Numeric, n)
	if af != ipvs.IPv6 {
		b = truncateFrom(b, start, 28)
	}
	return padTo(b, start, 28)
}

// appendDefaultColumns appends the default layout's columns after the
// address: " %-7s %-6d %-10d %-10d" (the weight is a C int in ipvsadm).
func appendDefaultColumns(b []byte, m ipvs.ForwardMethod, weight, active, inactive uint32) []byte {
	b = append(b, ' ')
	b = appendPadded(b, fwdName(m), 7)
	b = append(b, ' ')
	b = appendIntLeft(b, int64(int32(weight)), 6)
	return appendConnCounts(b, active, inactive)
}

// appendConns appends the last two columns of most layouts: " %-10d %-10d"
// of the active and inactive connections.
func appendConns(b []byte, d *ipvs.DestinationEntry) []byte {
	return appendConnCounts(b, d.ActiveConns, d.InactiveConns)
}

func appendConnCounts(b []byte, active, inactive uint32) []byte {
	b = append(b, ' ')
	b = appendUintLeft(b, uint64(active), 10)
	b = append(b, ' ')
	return appendUintLeft(b, uint64(inactive), 10)
}

// LargeNum formats a counter as ipvsadm's print_largenum: nine columns,
// scaled to K, M, G or T (by truncating division) from 10^8 on, or with
// exact, the whole number with at least one leading space.
func LargeNum(v uint64, exact bool) string {
	return string(appendLargeNum(nil, v, exact))
}

func appendCounters(b []byte, exact bool, vs ...uint64) []byte {
	for _, v := range vs {
		b = appendLargeNum(b, v, exact)
	}
	return b
}

func appendLargeNum(b []byte, v uint64, exact bool) []byte {
	if exact {
		// printf("%*llu", len <= 8 ? 9 : len + 1, v)
		return appendUintRight(append(b, ' '), v, 8)
	}
	switch {
	case v < 100_000_000:
		return appendUintRight(b, v, 9)
	case v < 1_000_000_000:
		return append(appendUintRight(b, v/1_000, 8), 'K')
	case v < 100_000_000_000:
		return append(appendUintRight(b, v/1_000_000, 8), 'M')
	case v < 100_000_000_000_000:
		return append(appendUintRight(b, v/1_000_000_000, 8), 'G')
	}
	return append(appendUintRight(b, v/1_000_000_000_000, 8), 'T')
}
