#!/bin/sh
# nat-topology.sh - a small LVS-NAT lab for the live corpus cases.
#
# The calling namespace (the case's own) is the director. It gets a client
# namespace (203.0.113.10/24, gateway 203.0.113.1) and two real-server
# namespaces (198.51.100.11 and .12 on a bridge, gateway 198.51.100.1), each
# running busybox httpd on port 80 that serves a page naming the server. The
# VIP 192.0.2.1 is local to the director.
#
#   nat-topology.sh up                  build the lab
#   nat-topology.sh service [OPTS...]   -A -t 192.0.2.1:80 OPTS (default -s rr)
#                                       plus both real servers with -m
#   nat-topology.sh traffic N           N HTTP/1.0 requests from the client,
#                                       responses appended to ./responses
#   nat-topology.sh hold N              N idle connections left open (ActiveConn)
#   nat-topology.sh download MB         one request for an MB-megabyte page (body
#                                       counted into ./downloaded, not kept)
#   nat-topology.sh down                kill the lab's processes, delete it
#
# Names carry the pid of the `up` call (kept in ./.nat-topology-id), so runs
# never collide. Configuration uses the reference ipvsadm on purpose: the
# cases compare listings of a table both tools see the same way.
set -e
IP=/sbin/ip
REF=/sbin/ipvsadm
VIP=192.0.2.1

cmd=${1:?usage: nat-topology.sh up|service|traffic|hold|down}
shift
if [ "$cmd" = up ]; then
	id=$$
	echo "$id" >.nat-topology-id
else
	id=$(cat .nat-topology-id)
fi
client=lvsc$id
servers="lvsr1$id lvsr2$id"

wait_listening() {
	tries=0
	until $IP netns exec "$1" ss -ltnH 2>/dev/null | grep -q ':80 '; do
		tries=$((tries + 1))
		[ $tries -lt 100 ] || { echo "httpd in $1 never listened" >&2; exit 1; }
		sleep 0.05
	done
}

case $cmd in
up)
	$IP netns add "$client"
	$IP link add "vc$id" type veth peer name eth0 netns "$client"
	$IP addr add 203.0.113.1/24 dev "vc$id"
	$IP link set "vc$id" up
	$IP -n "$client" link set lo up
	$IP -n "$client" addr add 203.0.113.10/24 dev eth0
	$IP -n "$client" link set eth0 up
	$IP -n "$client" route add default via 203.0.113.1

	$IP link add "br$id" type bridge
	$IP addr add 198.51.100.1/24 dev "br$id"
	$IP link set "br$id" up
	n=0
	for ns in $servers; do
		n=$((n + 1))
		$IP netns add "$ns"
		$IP link add "vr$n$id" type veth peer name eth0 netns "$ns"
		$IP link set "vr$n$id" master "br$id"
		$IP link set "vr$n$id" up
		$IP -n "$ns" link set lo up
		$IP -n "$ns" addr add "198.51.100.1$n/24" dev eth0
		$IP -n "$ns" link set eth0 up
		$IP -n "$ns" route add default via 198.51.100.1
		mkdir -p "www$n"
		echo "server 198.51.100.1$n" >"www$n/index.html"
		$IP netns exec "$ns" busybox httpd -p 80 -h "$PWD/www$n"
	done
	for ns in $servers; do wait_listening "$ns"; done

	$IP addr add "$VIP/32" dev lo
	echo 1 >/proc/sys/net/ipv4/ip_forward
	;;
service)
	[ $# -gt 0 ] || set -- -s rr
	$REF -A -t "$VIP:80" "$@"
	$REF -a -t "$VIP:80" -r 198.51.100.11:80 -m
	$REF -a -t "$VIP:80" -r 198.51.100.12:80 -m
	;;
traffic)
	i=0
	while [ $i -lt "${1:?count}" ]; do
		printf 'GET / HTTP/1.0\r\n\r\n' | $IP netns exec "$client" nc -w 5 "$VIP" 80 >>responses
		i=$((i + 1))
	done
	;;
download)
	# Both servers serve the same big file (a hard link: no extra memory).
	[ -f www1/big ] || { head -c "$((${1:?megabytes} * 1000000))" /dev/zero >www1/big && ln www1/big www2/big; }
	printf 'GET /big HTTP/1.0\r\n\r\n' | $IP netns exec "$client" nc -w 30 "$VIP" 80 | wc -c >>downloaded
	;;
hold)
	i=0
	while [ $i -lt "${1:?count}" ]; do
		# Both processes live in the client namespace, so `down` finds them.
		$IP netns exec "$client" sh -c "sleep 120 | nc $VIP 80" </dev/null >/dev/null 2>&1 &
		i=$((i + 1))
	done
	# Wait until the director has seen every handshake.
	tries=0
	until [ "$(grep -c ESTABLISHED /proc/net/ip_vs_conn)" -ge "$1" ]; do
		tries=$((tries + 1))
		[ $tries -lt 100 ] || { echo "connections never established" >&2; exit 1; }
		sleep 0.05
	done
	;;
down)
	for ns in $client $servers; do
		$IP netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		$IP netns del "$ns" 2>/dev/null || true
	done
	rm -f .nat-topology-id
	;;
*)
	echo "nat-topology.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
