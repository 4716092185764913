// Package sysctl reads and writes kernel parameters under /proc/sys, with the
// per-interface combination rules and write side effects of the IPv4 and IPv6
// "conf" trees encoded, so that callers can reason about the value the kernel
// actually uses and about everything a write changes.
//
// # Keys and notations
//
// A Key is a path relative to the sysctl root with '/' separators, exactly as
// it appears under /proc/sys: "net/ipv4/conf/eth0.100/arp_ignore". Interface
// names may contain dots (VLANs), and in this notation the dots stay dots.
// sysctl(8) and sysctl.d(5) use a dotted notation instead in which '.' is the
// separator, so a dot inside a component is written as '/':
// "net.ipv4.conf.eth0/100.arp_ignore". ParseKey accepts both, applying the
// rule sysctl(8) and systemd-sysctl use: if the first separator in the name is
// a '/', the name is a path; otherwise '.' and '/' swap. Key.Dotted produces
// the dotted form, which both tools read back unchanged.
//
// # Values
//
// The kernel prints integer sysctls as "%d\n". Read returns the text without
// the final newline; Write appends one and writes the value in a single
// write(2), as echo(1) does. A value read and written back is therefore
// byte-identical.
//
// # Network namespaces
//
// The net/ subtree is per network namespace. A /proc/sys/net path resolves to
// the namespace of the thread that opens it, not to that of the process (nor
// to the namespace of whoever mounted /proc). FS holds no namespace of its own:
// a program that moves a thread into another namespace must keep the goroutine
// locked to that thread (runtime.LockOSThread) while it uses an FS, or every
// read and write may land in a different namespace. A program started inside
// a namespace (ip netns exec, unshare -n) needs no care.
//
// # Combination rules
//
// For most conf knobs the kernel consults both conf/all and conf/IFACE and
// combines them: arp_ignore, arp_announce and rp_filter use the maximum of the
// two; send_redirects is on if either is on; forwarding is per interface only
// (writing conf/all/forwarding rewrites every interface instead). Combine and
// FS.Effective apply these rules.
//
// # Side effects of writes
//
// Some writes change other keys (net/ipv4/devinet.c, net/ipv6/addrconf.c):
//
//   - net/ipv4/ip_forward is the same variable as conf/all/forwarding. When a
//     write changes it, the kernel sets conf/all/accept_redirects to the
//     opposite, and conf/default/forwarding and every interface's forwarding
//     to the new value.
//   - A write to conf/default/KNOB (for the knobs handled by devinet_conf_proc,
//     which include arp_ignore, arp_announce, rp_filter and send_redirects) is
//     copied at once to every existing interface that has never had KNOB
//     written explicitly; the kernel does not expose which ones those are.
//     Interfaces created later start from conf/default as well. The
//     "explicitly written" mark is never cleared, so no write can return an
//     interface to following conf/default again. Bringing the loopback
//     interface up marks all of its knobs explicit (inetdev_event calls
//     ipv4_devconf_setall), so an up lo never follows conf/default. Adding
//     an IPv4 address to an interface does the same (ipv4_devconf_setall
//     again), and the mark stays when the address is removed: only an
//     interface that never had an IPv4 address added follows conf/default.
//   - net/ipv6/conf/all/forwarding sets conf/default/forwarding and every
//     interface's forwarding to the new value.
//
// MayAffect lists every key a write can change as a side effect, and Predict
// describes the expected changes from the current values.
package sysctl
