#!/usr/bin/env bash
# demo.sh - boot the real-kernel VM and show lvsadm driving IPVS: build a
# virtual service with real servers, list it, save it, and show that the
# reference ipvsadm 1.31 reads the same table.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/lvsadm ] || make build
exec scripts/vm.sh run --file bin/lvsadm:/usr/sbin/lvsadm -- '
show() { echo "# $*"; "$@"; echo; }
show lvsadm --version
show lvsadm -A -t 192.0.2.1:80 -s wrr
show lvsadm -a -t 192.0.2.1:80 -r 198.51.100.11:80 -m -w 1
show lvsadm -a -t 192.0.2.1:80 -r 198.51.100.12:80 -m -w 3
show lvsadm -A -u [2001:db8::1]:53 -s rr -p 60
show lvsadm -a -u [2001:db8::1]:53 -r [2001:db8::11]:53 -m
show lvsadm -Ln
show lvsadm -Sn
echo "# the reference ipvsadm 1.31 reads the same kernel table:"
show /sbin/ipvsadm -Ln
'
