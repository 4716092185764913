#!/usr/bin/env bash
# demo.sh - boot the real-kernel VM and run the seeds' scenarios with lvsadm
# alone: a NAT cluster and a DR cluster of network namespaces, real servers
# running busybox httpd, a client fetching through the VIP. Prints which
# real server answered each request and lvsadm -Ln --stats afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/lvsadm ] || make build
exec scripts/vm.sh run --timeout 600 --file bin/lvsadm:/usr/sbin/lvsadm \
	--file scripts/demo-vm.sh:/root/demo-vm.sh -- 'sh /root/demo-vm.sh'
