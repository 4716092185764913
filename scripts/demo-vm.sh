#!/bin/sh
# demo-vm.sh - runs inside the VM (see demo.sh). Builds the seeds' two
# clusters from network namespaces with lvsadm alone, fetches through the
# VIP and shows which real server answered each request.
set -eu
export PATH=/usr/sbin:/sbin:/usr/bin:/bin
IP=/sbin/ip   # iproute2's ip (network namespaces)

step() { printf '\n## %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
in_ns() { ns=$1; shift; $IP netns exec "$ns" "$@"; }

# A host: its own namespace with eth0 plugged into bridge $2 of namespace $3.
host() { # name bridge-ns address/prefix
	$IP netns add "$1"
	$IP -n "$1" link set lo up
	$IP link add "$1-eth0" type veth peer name eth0 netns "$1"
	$IP link set "$1-eth0" netns "$2"
	$IP -n "$2" link set "$1-eth0" master br0 up
	$IP -n "$1" addr add "$3" dev eth0
	$IP -n "$1" link set eth0 up
}
segment() { # namespace holding bridge br0
	$IP netns add "$1"
	$IP -n "$1" link add br0 type bridge
	$IP -n "$1" link set br0 up
}
web() { # namespace name
	mkdir -p "/tmp/www-$1"
	echo "hello from $2" > "/tmp/www-$1/index.html"
	in_ns "$1" busybox httpd -p 80 -h "/tmp/www-$1"
}
fetch() { # client vip count
	i=1
	while [ "$i" -le "$3" ]; do
		answer=$(printf 'GET / HTTP/1.0\r\n\r\n' | in_ns "$1" timeout 5 nc "$2" 80 | tail -n 1)
		echo "request $i -> ${answer:-no answer}"
		i=$((i + 1))
	done
}

# The kernel folds per-CPU counters into the totals every 2 seconds.
settle() { sleep 3; }

step "LVS-NAT: client 203.0.113.100 -> director VIP 203.0.113.10 -> real servers 198.51.100.11/.12"
segment nat-public; segment nat-private
host nat-client nat-public 203.0.113.100/24
host nat-dir nat-public 203.0.113.1/24

$IP link add nat-dir-eth1 type veth peer name eth1 netns nat-dir
$IP link set nat-dir-eth1 netns nat-private
$IP -n nat-private link set nat-dir-eth1 master br0 up
$IP -n nat-dir addr add 198.51.100.1/24 dev eth1
$IP -n nat-dir link set eth1 up
for n in 1 2; do
	host "nat-rs$n" nat-private "198.51.100.1$n/24"
	$IP -n "nat-rs$n" route add default via 198.51.100.1
	web "nat-rs$n" "nat-rs$n (198.51.100.1$n)"
done
show in_ns nat-dir lvsadm director up --mode nat --vip 203.0.113.10 --iface eth0 --rs-iface eth1
show in_ns nat-dir lvsadm -A -t 203.0.113.10:80 -s wrr
show in_ns nat-dir lvsadm -a -t 203.0.113.10:80 -r 198.51.100.11:80 -m -w 1
show in_ns nat-dir lvsadm -a -t 203.0.113.10:80 -r 198.51.100.12:80 -m -w 3
fetch nat-client 203.0.113.10 8
settle
show in_ns nat-dir lvsadm -Ln --stats

step "LVS-DR: client, director and real servers on 198.51.100.0/24, VIP 198.51.100.10"
segment dr-lan
host dr-client dr-lan 198.51.100.100/24
host dr-dir dr-lan 198.51.100.1/24
for n in 1 2; do
	host "dr-rs$n" dr-lan "198.51.100.1$n/24"
	web "dr-rs$n" "dr-rs$n (198.51.100.1$n)"
	show in_ns "dr-rs$n" lvsadm realserver up --mode dr --vip 198.51.100.10 --iface eth0
done
show in_ns dr-dir lvsadm director up --mode dr --vip 198.51.100.10 --iface eth0
show in_ns dr-dir lvsadm -A -t 198.51.100.10:80 -s wrr
show in_ns dr-dir lvsadm -a -t 198.51.100.10:80 -r 198.51.100.11 -g -w 1
show in_ns dr-dir lvsadm -a -t 198.51.100.10:80 -r 198.51.100.12 -g -w 3
fetch dr-client 198.51.100.10 8
settle
show in_ns dr-dir lvsadm -Ln --stats
echo "(the client's neighbour entry for the VIP; only the director answers ARP for it)"
show in_ns dr-client $IP neigh show 198.51.100.10

step "Undo: the roles come down exactly"
for n in 1 2; do show in_ns "dr-rs$n" lvsadm realserver down; done
show in_ns dr-dir lvsadm director down
show in_ns nat-dir lvsadm director down
