package format

import (
	"fmt"
	"io"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Timeouts writes the --timeout line.
func Timeouts(w io.Writer, t ipvs.Timeouts) error {
	_, err := fmt.Fprintf(w, "Timeout (tcp tcpfin udp): %d %d %d\n", int32(t.TCP), int32(t.TCPFin), int32(t.UDP))
	return err
}

// ifNameMax is how much of an interface name ipvsadm keeps (IFNAMSIZ-1).
const ifNameMax = 15

// Daemons writes the --daemon lines: the master, then the backup. Entries
// in neither state are skipped; no daemons means no output. Optional fields
// are printed only when set, so the lines of kernels before 4.3 (which
// report none of them) come out short, as with ipvsadm.
func Daemons(w io.Writer, ds []ipvs.Daemon) error {
	var b []byte
	// ipvsadm prints in the kernel's dump order, which is master first;
	// ordering by role gives that whatever order the caller keeps.
	for _, state := range []ipvs.DaemonState{ipvs.DaemonMaster, ipvs.DaemonBackup} {
		for _, d := range ds {
			if role(d.State) != state {
				continue
			}
			b = fmt.Appendf(b, "%s sync daemon (mcast=%s, syncid=%d", state,
				truncate(d.Interface, ifNameMax), int32(d.SyncID))
			if d.MaxLen != 0 {
				b = fmt.Appendf(b, ", maxlen=%d", d.MaxLen)
			}
			if d.Group.IsValid() {
				af := ipvs.IPv6
				if d.Group.Is4() {
					af = ipvs.IPv4
				}
				b = fmt.Appendf(b, ", group=%s", ntop(af, rawAddr(d.Group)))
			}
			if d.Port != 0 {
				b = fmt.Appendf(b, ", port=%d", d.Port)
			}
			if d.TTL != 0 {
				b = fmt.Appendf(b, ", ttl=%d", d.TTL)
			}
			b = append(b, ")\n"...)
		}
	}
	_, err := w.Write(b)
	return err
}

// role is how ipvsadm reads a daemon state: the master bit wins.
func role(s ipvs.DaemonState) ipvs.DaemonState {
	switch {
	case s&ipvs.DaemonMaster != 0:
		return ipvs.DaemonMaster
	case s&ipvs.DaemonBackup != 0:
		return ipvs.DaemonBackup
	}
	return 0
}
