package format

import (
	"fmt"
	"io"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Save writes one service as ipvsadm -S does: an "-A" line and an "-a" line
// per destination, destinations always sorted. Names are resolved unless
// numeric, and never truncated. Thresholds are not saved (as in ipvsadm).
//
// Unlike ipvsadm 1.31, fwmarks of 2^31 and above are written unsigned, so
// the line can be restored.
func Save(w io.Writer, t Table, n Names, numeric bool) error {
	se := &t.Service
	af := family(se.Family, se.Addr)
	svc := saveServiceOption(se, af, numeric, n)

	b := fmt.Appendf(nil, "-A %s -s %s", svc, se.Scheduler)
	if se.Flags&ipvs.FlagPersistent != 0 {
		b = fmt.Appendf(b, " -p %d", se.Timeout)
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
		b = append(b, schedFlags(se)...)
	}
	b = append(b, '\n')

	dests := append([]ipvs.DestinationEntry(nil), t.Dests...)
	SortDestinations(dests)
	for i := range dests {
		d := &dests[i]
		dname := addrPort(family(d.Family, d.Addr), rawAddr(d.Addr), d.Port, portProtocol(se), numeric, n)
		b = fmt.Appendf(b, "-a %s -r %s %s -w %d", svc, dname, fwdSwitch(d.ForwardMethod), int32(d.Weight))
		if d.ForwardMethod&7 == ipvs.Tunnel {
			b = appendTunnelOptions(b, d)
		}
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
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

// saveServiceOption is the service-address option of a saved line. ipvsadm
// writes "--xxx-service" for a protocol it has no option for.
func saveServiceOption(se *ipvs.ServiceEntry, af ipvs.Family, numeric bool, n Names) string {
	if se.FWMark != 0 {
		if af == ipvs.IPv6 {
			return fmt.Sprintf("-f %d -6", se.FWMark)
		}
		return fmt.Sprintf("-f %d", se.FWMark)
	}
	var opt string
	switch se.Protocol {
	case ipvs.TCP:
		opt = "-t"
	case ipvs.UDP:
		opt = "-u"
	case ipvs.SCTP:
		opt = "--sctp-service"
	default:
		opt = "--xxx-service"
	}
	return opt + " " + addrPort(af, rawAddr(se.Addr), se.Port, se.Protocol, numeric, n)
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
func appendTunnelOptions(b []byte, d *ipvs.DestinationEntry) []byte {
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
		b = fmt.Appendf(b, " --tun-type gue --tun-port %d%s", d.TunnelPort, csum)
	case ipvs.TunnelGRE:
		b = fmt.Appendf(b, " --tun-type gre%s", csum)
	}
	return b
}
