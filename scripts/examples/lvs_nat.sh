#!/bin/sh
# LVS-NAT director: clients reach the VIP on the public side; the real
# servers sit on a private network behind eth1 with this host as their
# default gateway.
#
# The lvsadm version of the seeds' lvs_nat.sh. lvsadm turns on ip_forward and
# turns off ICMP redirects towards the real servers (conf/all, conf/default
# and eth1: the kernel sends them if any of all or the interface allows), and
# records everything, including the per-interface forwarding values that
# writing ip_forward resets, so that stop restores the host exactly.
#
# The seed's iptables SNAT rule is not needed for LVS-NAT itself (IPVS
# rewrites the replies); it only gives the real servers their own way out.
set -eu

LVSADM=${LVSADM:-lvsadm}
VIP=203.0.113.141        # the director's public address, already configured
PRIVATE=eth1             # faces the real servers
RS="198.51.100.142 198.51.100.143"

case "${1:-}" in
start)
	$LVSADM director up --mode nat --vip "$VIP" --rs-iface "$PRIVATE"
	$LVSADM -D -t "$VIP:80" 2>/dev/null || true     # rebuild our service only
	$LVSADM -A -t "$VIP:80" -s wrr
	for rs in $RS; do
		$LVSADM -a -t "$VIP:80" -r "$rs:80" -m -w 1
	done
	;;
stop)
	$LVSADM -D -t "$VIP:80" 2>/dev/null || true
	$LVSADM director down
	;;
status)
	$LVSADM -Ln -t "$VIP:80" || true
	$LVSADM director status
	;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
