package format

import (
	"io"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Save writes one service as ipvsadm -S does: an "-A" line and an "-a" line
// per destination, destinations always sorted. Names are resolved unless
// numeric, and never truncated. Thresholds are not saved (as in ipvsadm).
// Like ServiceRows it makes one Write.
//
// Unlike ipvsadm 1.31, fwmarks of 2^31 and above are written unsigned, so
// the line can be restored.
func Save(w io.Writer, t Table, n Names, numeric bool) error {
	se := &t.Service
	b := outputBuffer(w, blockSize(len(t.Dests)))
	b = append(b, "-A "...)
	// The service option is repeated on every destination line.
	svcStart := len(b)
	b = appendSaveServiceOption(b, se, family(se.Family, se.Addr), numeric, n)
	svcOption := b[svcStart:]
	b = appendSaveServiceRest(b, se)
	b = append(b, '\n')
	for _, i := range destOrder(t.Dests) {
		b = appendSaveDestLine(b, se, svcOption, &t.Dests[i].Destination, numeric, n)
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}

// AppendSaveLine appends, without a newline, the line ipvsadm -Sn writes for
// service s, or with d not nil the line of its destination d.
func AppendSaveLine(b []byte, s *ipvs.Service, d *ipvs.Destination) []byte {
	se := &ipvs.ServiceEntry{Service: *s}
	var room [64]byte // the option fits: "--sctp-service [v6]:port"
	option := appendSaveServiceOption(room[:0], se, family(se.Family, se.Addr), true, nil)
	if d == nil {
		b = append(append(b, "-A "...), option...)
		return appendSaveServiceRest(b, se)
	}
	return appendSaveDestLine(b, se, option, d, true, nil)
}

// appendSaveServiceRest appends what follows the service option on an "-A"
// line: the scheduler, persistence, engine and flags.
func appendSaveServiceRest(b []byte, se *ipvs.ServiceEntry) []byte {
	af := family(se.Family, se.Addr)
	b = append(b, " -s "...)
	b = append(b, se.Scheduler...)
	if se.Flags&ipvs.FlagPersistent != 0 {
		b = append(b, " -p "...)
		b = appendUint(b, uint64(se.Timeout))
		b = appendMask(b, " -M ", af, se.Netmask)
	}
	if se.PE != "" {
		// Written whether or not the service is persistent.
		b = append(b, " --pe "...)
		b = append(b, se.PE...)
	}
	if se.Flags&ipvs.FlagOnePacket != 0 {
		b = append(b, " -o"...)
	}
	if se.Flags&ipvs.SchedFlagsMask != 0 {
		// sh or mh with only the third flag leave "-b " with no names.
		b = append(b, " -b "...)
		b = appendSchedFlags(b, se)
	}
	return b
}

// appendSaveDestLine appends destination d's "-a" line of service se,
// whose option (as its "-A" line has it) is svcOption.
func appendSaveDestLine(b []byte, se *ipvs.ServiceEntry, svcOption []byte, d *ipvs.Destination, numeric bool, n Names) []byte {
	raw := rawAddr(d.Addr)
	b = appendSaveDest(b, svcOption, portProtocol(se), family(d.Family, d.Addr), &raw, d.Port, d.ForwardMethod, d.Weight, numeric, n)
	if d.ForwardMethod&7 == ipvs.Tunnel {
		b = appendTunnelOptions(b, d)
	}
	return b
}

// appendSaveDest appends a saved destination line up to its tunnel
// options: "-a %s -r %s %s -w %d". svcOption is the service's option as
// the "-A" line has it.
func appendSaveDest(b, svcOption []byte, proto ipvs.Protocol, af ipvs.Family, raw *[16]byte, port uint16, m ipvs.ForwardMethod, weight uint32, numeric bool, n Names) []byte {
	b = append(b, "-a "...)
	b = append(b, svcOption...)
	b = append(b, " -r "...)
	b = appendAddrPort(b, af, raw, port, proto, numeric, n)
	b = append(b, ' ')
	b = append(b, fwdSwitch(m)...)
	b = append(b, " -w "...)
	return appendInt(b, int64(int32(weight)))
}

// SaveAll writes every service as Save does, in ipvsadm's sorted order
// (-S cannot be combined with --nosort). The tables are not modified.
func SaveAll(w io.Writer, tables []Table, n Names, numeric bool) error {
	tables = append([]Table(nil), tables...)
	SortServices(tables)
	for _, t := range tables {
		if err := Save(w, t, n, numeric); err != nil {
			return err
		}
	}
	return nil
}

// appendSaveServiceOption appends the service-address option of a saved
// line. ipvsadm writes "--xxx-service" for a protocol it has no option for.
func appendSaveServiceOption(b []byte, se *ipvs.ServiceEntry, af ipvs.Family, numeric bool, n Names) []byte {
	if se.FWMark != 0 {
		b = append(b, "-f "...)
		b = appendUint(b, uint64(se.FWMark))
		if af == ipvs.IPv6 {
			b = append(b, " -6"...)
		}
		return b
	}
	switch se.Protocol {
	case ipvs.TCP:
		b = append(b, "-t "...)
	case ipvs.UDP:
		b = append(b, "-u "...)
	case ipvs.SCTP:
		b = append(b, "--sctp-service "...)
	default:
		b = append(b, "--xxx-service "...)
	}
	raw := rawAddr(se.Addr)
	return appendAddrPort(b, af, &raw, se.Port, se.Protocol, numeric, n)
}

// fwdSwitch is the forwarding option of a saved destination: Local is saved
// as -g, and methods ipvsadm has no option for print as glibc prints NULL.
func fwdSwitch(m ipvs.ForwardMethod) string {
	switch m & 7 {
	case ipvs.Masquerade:
		return "-m"
	case ipvs.Tunnel:
		return "-i"
	case ipvs.Local, ipvs.Route:
		return "-g"
	}
	return "(null)"
}

// appendTunnelOptions adds the --tun-* options of a tunnel destination. An
// unknown tunnel type gets none; an unknown checksum setting (ipvsadm reads
// past its table) gets no checksum option.
func appendTunnelOptions(b []byte, d *ipvs.Destination) []byte {
	csum := ""
	switch d.TunnelFlags {
	case ipvs.TunnelNoChecksum:
		csum = " --tun-nocsum"
	case ipvs.TunnelChecksum:
		csum = " --tun-csum"
	case ipvs.TunnelRemoteChecksum:
		csum = " --tun-remcsum"
	}
	switch d.TunnelType {
	case ipvs.TunnelIPIP:
		b = append(b, " --tun-type ipip"...)
	case ipvs.TunnelGUE:
		b = append(b, " --tun-type gue --tun-port "...)
		b = appendUint(b, uint64(d.TunnelPort))
		b = append(b, csum...)
	case ipvs.TunnelGRE:
		b = append(b, " --tun-type gre"...)
		b = append(b, csum...)
	}
	return b
}
