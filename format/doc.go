// Package format writes ipvsadm 1.31's listing output byte for byte: the
// -L table in all its column modes, -S save lines, --timeout, --daemon and the
// -c connection listing read from /proc/net/ip_vs_conn.
//
// Everything here is pure: functions take the kernel's data as values (the
// types of package ipvs), write to an io.Writer and keep no state between
// calls, so a caller can stream a listing one service at a time. Host and
// port names come through the Names interface, so tests never touch DNS or
// /etc/services.
//
// Output follows ipvsadm's printf formats (rows end in pad spaces, columns
// overflow instead of growing). Rows are built by appending to byte slices
// with helpers that pad by bytes as C does (fmt pads by runes, which
// differs for multi-byte host names); ServiceRows and Save write one block
// per service.
//
// Where ipvsadm 1.31 prints something lvsadm deliberately does not, the
// function's doc says so: fwmarks are printed unsigned (upstream fixed this
// after 1.31) and destination counters keep all 64 bits (1.31 truncates
// them to 32).
package format
