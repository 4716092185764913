package format

import (
	"fmt"
	"io"
	"strconv"
	"strings"

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
	_, err := fmt.Fprintf(w, "IP Virtual Server version %d.%d.%d (size=%d)\n",
		info.Version>>16&0xff, info.Version>>8&0xff, info.Version&0xff, int32(info.ConnTableSize))
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
// kernel order, which is what --nosort shows).
//
// Unlike ipvsadm 1.31, which reads destination counters through a 32-bit
// getter, the 64-bit counters are printed whole; fwmarks are printed
// unsigned (1.31 prints marks of 2^31 and above as negative numbers).
func ServiceRows(w io.Writer, t Table, o Options, n Names) error {
	se := &t.Service
	af := family(se.Family, se.Addr)
	lay := o.layout()

	var b []byte
	name := serviceName(se, af, o.Numeric, n)
	switch lay {
	case layoutStats:
		b = appendPadded(b, name, 33)
		b = appendLargeNums(b, o.Exact, se.Stats.Connections, se.Stats.PacketsIn,
			se.Stats.PacketsOut, se.Stats.BytesIn, se.Stats.BytesOut)
	case layoutRate:
		b = appendPadded(b, name, 33)
		b = appendLargeNums(b, o.Exact, se.Stats.CPS, se.Stats.PPSIn,
			se.Stats.PPSOut, se.Stats.BPSIn, se.Stats.BPSOut)
	default:
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, se.Scheduler...)
		if se.Flags&ipvs.SchedFlagsMask != 0 {
			b = append(b, " ("...)
			b = append(b, schedFlags(se)...)
			b = append(b, ')')
		}
		if se.Flags&ipvs.FlagPersistent != 0 {
			b = fmt.Appendf(b, " persistent %d", se.Timeout)
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

	dests := t.Dests
	if !o.NoSort {
		dests = append([]ipvs.DestinationEntry(nil), dests...)
		SortDestinations(dests)
	}
	for i := range dests {
		b = appendDestRow(b, se, &dests[i], lay, o, n)
	}
	_, err := w.Write(b)
	return err
}

// serviceName is the first column of a service line: "FWM  <mark>" with
// " IPv6" for IPv6 marks, else protocol and address:port, cut to 33 bytes
// unless the service is IPv6.
func serviceName(se *ipvs.ServiceEntry, af ipvs.Family, numeric bool, n Names) string {
	if se.FWMark != 0 {
		if af == ipvs.IPv6 {
			return fmt.Sprintf("FWM  %d IPv6", se.FWMark)
		}
		return fmt.Sprintf("FWM  %d", se.FWMark)
	}
	vname := addrPort(af, rawAddr(se.Addr), se.Port, se.Protocol, numeric, n)
	name := fmt.Sprintf("%-4s %s", protocolName(se.Protocol), vname)
	if af != ipvs.IPv6 {
		name = truncate(name, 33)
	}
	return name
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

// schedFlags names the scheduler flags that are set, comma-separated. sh and
// mh have names for the first two flags only, so their third flag alone
// gives an empty list (ipvsadm then prints " ()").
func schedFlags(se *ipvs.ServiceEntry) string {
	var names []string
	switch se.Scheduler {
	case "sh", "mh":
		if se.Flags&ipvs.FlagSched1 != 0 {
			names = append(names, se.Scheduler+"-fallback")
		}
		if se.Flags&ipvs.FlagSched2 != 0 {
			names = append(names, se.Scheduler+"-port")
		}
	default:
		for i, f := range []ipvs.ServiceFlags{ipvs.FlagSched1, ipvs.FlagSched2, ipvs.FlagSched3} {
			if se.Flags&f != 0 {
				names = append(names, "flag-"+strconv.Itoa(i+1))
			}
		}
	}
	return strings.Join(names, ",")
}

// appendMask adds the persistence netmask when it is not a host mask: dotted
// for IPv4, a prefix length for IPv6. Other families print none.
func appendMask(b []byte, prefix string, af ipvs.Family, mask uint32) []byte {
	switch af {
	case ipvs.IPv4:
		if mask != 0xffffffff {
			b = append(b, prefix...)
			b = append(b, ntop4([]byte{byte(mask >> 24), byte(mask >> 16), byte(mask >> 8), byte(mask)})...)
		}
	case ipvs.IPv6:
		if mask != 128 {
			b = fmt.Appendf(b, "%s%d", prefix, int32(mask))
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

// tunnelInfo is the TunnelInfo column of --tun-info.
func tunnelInfo(d *ipvs.DestinationEntry) string {
	if d.ForwardMethod&7 != ipvs.Tunnel {
		return "n/a"
	}
	switch d.TunnelType {
	case ipvs.TunnelIPIP:
		return "ipip"
	case ipvs.TunnelGUE:
		// ipvsadm formats into 16 bytes.
		return truncate(fmt.Sprintf("gue:%d:%s", d.TunnelPort, tunnelFlagsInfo(d.TunnelFlags)), 15)
	case ipvs.TunnelGRE:
		return "gre:" + tunnelFlagsInfo(d.TunnelFlags)
	}
	return "n/a"
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

func appendDestRow(b []byte, se *ipvs.ServiceEntry, d *ipvs.DestinationEntry, lay layout, o Options, n Names) []byte {
	af := family(d.Family, d.Addr)
	dname := addrPort(af, rawAddr(d.Addr), d.Port, portProtocol(se), o.Numeric, n)
	if af != ipvs.IPv6 {
		dname = truncate(dname, 28)
	}
	weight := int32(d.Weight) // a C int in ipvsadm
	b = append(b, "  -> "...)
	b = appendPadded(b, dname, 28)
	switch lay {
	case layoutStats:
		b = appendLargeNums(b, o.Exact, d.Stats.Connections, d.Stats.PacketsIn,
			d.Stats.PacketsOut, d.Stats.BytesIn, d.Stats.BytesOut)
		b = append(b, '\n')
	case layoutRate:
		// Connection and packet rates are never scaled, even without -X.
		b = fmt.Appendf(b, " %8d %8d %8d", d.Stats.CPS, d.Stats.PPSIn, d.Stats.PPSOut)
		b = appendLargeNums(b, o.Exact, d.Stats.BPSIn, d.Stats.BPSOut)
		b = append(b, '\n')
	case layoutThresholds:
		b = fmt.Appendf(b, " %-10d %-10d %-10d %-10d\n",
			d.UpperThreshold, d.LowerThreshold, d.ActiveConns, d.InactiveConns)
	case layoutPersistentConn:
		// ipvsadm prints the int weight with %u here.
		b = fmt.Appendf(b, " %-9d %-11d %-10d %-10d\n",
			d.Weight, d.PersistentConns, d.ActiveConns, d.InactiveConns)
	case layoutTunInfo:
		b = fmt.Appendf(b, " %-7s %-13s %-6d %-10d %-10d\n",
			fwdName(d.ForwardMethod), tunnelInfo(d), weight, d.ActiveConns, d.InactiveConns)
	default:
		b = fmt.Appendf(b, " %-7s %-6d %-10d %-10d\n",
			fwdName(d.ForwardMethod), weight, d.ActiveConns, d.InactiveConns)
	}
	return b
}

// LargeNum formats a counter as ipvsadm's print_largenum: nine columns,
// scaled to K, M, G or T (by truncating division) from 10^8 on, or with
// exact, the whole number with at least one leading space.
func LargeNum(v uint64, exact bool) string {
	return string(appendLargeNum(nil, v, exact))
}

func appendLargeNums(b []byte, exact bool, vs ...uint64) []byte {
	for _, v := range vs {
		b = appendLargeNum(b, v, exact)
	}
	return b
}

func appendLargeNum(b []byte, v uint64, exact bool) []byte {
	if exact {
		width := len(strconv.FormatUint(v, 10)) + 1
		if width < 9 {
			width = 9
		}
		return fmt.Appendf(b, "%*d", width, v)
	}
	switch {
	case v < 100_000_000:
		return fmt.Appendf(b, "%9d", v)
	case v < 1_000_000_000:
		return fmt.Appendf(b, "%8dK", v/1_000)
	case v < 100_000_000_000:
		return fmt.Appendf(b, "%8dM", v/1_000_000)
	case v < 100_000_000_000_000:
		return fmt.Appendf(b, "%8dG", v/1_000_000_000)
	}
	return fmt.Appendf(b, "%8dT", v/1_000_000_000_000)
}
