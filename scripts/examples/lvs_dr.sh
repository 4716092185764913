#!/bin/sh
# LVS-DR director: the VIP on eth0 and a weighted round-robin web service
# over two real servers (run lvs_rs.sh on each of them first).
#
# The lvsadm version of the seeds' lvs_dr.sh. No ifdown/ifup to make a second
# run safe: every step is idempotent. stop undoes exactly what start did and
# leaves other IPVS services alone (the seed's ipvsadm -C cleared them all).
set -eu

LVSADM=${LVSADM:-lvsadm}
VIP=192.0.2.100
IFACE=eth0:1             # interface:label the VIP goes on
RS="192.0.2.128 192.0.2.130"

case "${1:-}" in
start)
	$LVSADM director up --mode dr --vip "$VIP" --iface "$IFACE"
	$LVSADM -D -t "$VIP:80" 2>/dev/null || true     # rebuild our service only
	$LVSADM -A -t "$VIP:80" -s wrr
	for rs in $RS; do
		$LVSADM -a -t "$VIP:80" -r "$rs:80" -g -w 1
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
