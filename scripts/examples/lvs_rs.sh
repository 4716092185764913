#!/bin/sh
# LVS-DR real server: the VIP on lo as a /32, and ARP tuning so that only
# the director answers for it.
#
# The lvsadm version of the seeds' lvs_rs.sh. lvsadm sets arp_ignore and
# arp_announce on conf/all and on the LAN interface, where ARP requests for
# the VIP arrive (on lo alone they change nothing: the kernel uses the larger
# of all and the interface), and does so before the VIP appears. stop puts
# back the values that were there before, instead of writing 0s.
set -eu

LVSADM=${LVSADM:-lvsadm}
VIP=192.0.2.100
LAN=eth0

case "${1:-}" in
start)
	$LVSADM realserver up --mode dr --vip "$VIP" --iface "$LAN" --label lo:0
	;;
stop)
	$LVSADM realserver down
	;;
status)
	$LVSADM realserver status
	;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
