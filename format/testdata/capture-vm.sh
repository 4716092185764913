#!/bin/sh
# Runs inside the VM of scripts/vm.sh (see capture.sh): builds IPVS tables
# with the reference /sbin/ipvsadm 1.31 and records its output. Every
# capture NAME leaves out/NAME.golden (stdout), plus out/NAME.stderr and
# out/NAME.rc when stderr is not empty or the exit status is not 0. The
# directory goes back to the host as a base64 tar between two marker lines.
#
# The Go tests in format/ rebuild each table as Go values; keep both in step.
# Addresses: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32.
set -u
out=/root/out
mkdir -p "$out"

cap() {
	local capname=$1 rc
	shift
	"$@" >"$out/$capname.golden" 2>"$out/$capname.stderr"
	rc=$?
	[ -s "$out/$capname.stderr" ] || rm -f "$out/$capname.stderr"
	[ "$rc" -eq 0 ] || echo "$rc" >"$out/$capname.rc"
}

# must: a setup step that has to work.
must() {
	"$@" || { echo "setup failed: $*" >&2; exit 1; }
}

# listings NAME: the table in every -L layout, -S and kernel order.
listings() {
	cap "$1-list" ipvsadm -Ln
	cap "$1-nosort" ipvsadm -Ln --nosort
	cap "$1-thresholds" ipvsadm -Ln --thresholds
	cap "$1-persistent-conn" ipvsadm -Ln --persistent-conn
	cap "$1-tun-info" ipvsadm -Ln --tun-info
	cap "$1-stats" ipvsadm -Ln --stats
	cap "$1-rate" ipvsadm -Ln --rate
	cap "$1-stats-exact" ipvsadm -Ln --stats --exact
	cap "$1-save" ipvsadm -Sn
}

must ip link set lo up
must modprobe ip_vs
# A local address, so that a destination on it is listed as Local.
must ip addr add 203.0.113.1/32 dev lo

# --- services: flags, persistence, masks, PE, fwmarks, IPv6, SCTP ----------
ipvsadm -C
must ipvsadm -A -t 192.0.2.1:80 -s rr
must ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1
must ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 5 -x 100 -y 10
must ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.3 -g -w 0
must ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.4 -i -w 65535
must ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.5 -g -w 2147483647 -x 2147483647
must ipvsadm -a -t 192.0.2.1:80 -r 203.0.113.1 -m
must ipvsadm -A -u 192.0.2.1:53 -s wlc -o
must ipvsadm -a -u 192.0.2.1:53 -r 198.51.100.1:53 -m -w 3
must ipvsadm -A --sctp-service 192.0.2.2:3868 -s sh -b sh-fallback,sh-port
must ipvsadm -a --sctp-service 192.0.2.2:3868 -r 198.51.100.6:3868 -m
must ipvsadm -A -t 192.0.2.3:443 -s wrr -p 300 -M 255.255.255.0
must ipvsadm -a -t 192.0.2.3:443 -r 198.51.100.7:443 -m -w 10
must ipvsadm -A -t 192.0.2.4:0 -s lc -p
must ipvsadm -A -u 192.0.2.5:5060 -s rr -p 60 --pe sip -o
must ipvsadm -A -t 192.0.2.6:80 -s mh -b mh-fallback
must ipvsadm -A -t 192.0.2.7:80 -s sh -b flag-3
must ipvsadm -A -t 192.0.2.8:80 -s wlc -b flag-1,flag-3
must ipvsadm -A -u 192.0.2.9:5060 -s rr --pe sip
must ipvsadm -A -t 192.0.2.10:65535 -s dh -p 100 -M 255.255.0.0 -b flag-2
must ipvsadm -A -f 1 -s rr
must ipvsadm -a -f 1 -r 198.51.100.10:0 -g
must ipvsadm -a -f 1 -r 198.51.100.11:8080 -m
must ipvsadm -A -f 2 -6 -s rr -p 120 -M 64
must ipvsadm -a -f 2 -6 -r [2001:db8::20]:0 -g
must ipvsadm -A -f 3 -s sed -o -p 10
must ipvsadm -A -t [2001:db8::1]:80 -s rr -p 200 -M 64
must ipvsadm -a -t [2001:db8::1]:80 -r [2001:db8::10]:80 -m -w 2
must ipvsadm -a -t [2001:db8::1]:80 -r [2001:db8:1234:5678:9abc:def0:1234:5679]:65535 -m -x 7 -y 3
must ipvsadm -A -t [2001:db8:ffff:ffff:ffff:ffff:ffff:fffe]:65535 -s nq
must ipvsadm -A -u [2001:db8::1]:53 -s fo
must ipvsadm -A --sctp-service [2001:db8::2]:9 -s ovf -p 1
listings services
# Several layout switches: the first of stats, rate, thresholds,
# persistent-conn, tun-info wins; --exact only matters for counters.
cap services-stats-rate ipvsadm -Ln --stats --rate
cap services-rate-thresholds ipvsadm -Ln --rate --thresholds
cap services-rate-exact ipvsadm -Ln --rate --exact
cap services-thresholds-persistent-conn ipvsadm -Ln --thresholds --persistent-conn --tun-info
cap services-persistent-conn-tun-info ipvsadm -Ln --persistent-conn --tun-info
cap services-list-exact ipvsadm -Ln --exact
cap services-one-tcp ipvsadm -Ln -t 192.0.2.1:80
cap services-one-fwm6-thresholds ipvsadm -Ln --thresholds -f 2 -6

# --- tunnels: every tunnel type and checksum option, mixed families --------
ipvsadm -C
must ipvsadm -A -t 192.0.2.20:80 -s rr
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.30 -i
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.31 -i --tun-type ipip
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.32 -i --tun-type gue --tun-port 6080
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.33 -i --tun-type gue --tun-port 6080 --tun-csum
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.34 -i --tun-type gue --tun-port 65535 --tun-remcsum
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.35 -i --tun-type gue --tun-port 1 --tun-nocsum
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.36 -i --tun-type gre
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.37 -i --tun-type gre --tun-csum
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.38 -i --tun-type gre --tun-nocsum
must ipvsadm -a -t 192.0.2.20:80 -r [2001:db8::30]:80 -i
must ipvsadm -a -t 192.0.2.20:80 -r [2001:db8::31]:80 -i --tun-type gue --tun-port 6080 --tun-csum
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.39:80 -m
must ipvsadm -a -t 192.0.2.20:80 -r 198.51.100.40 -g
must ipvsadm -A -u [2001:db8::1]:53 -s rr
must ipvsadm -a -u [2001:db8::1]:53 -r 198.51.100.20:53 -i --tun-type ipip
must ipvsadm -a -u [2001:db8::1]:53 -r [2001:db8::21]:53 -i --tun-type gre --tun-csum
must ipvsadm -a -u [2001:db8::1]:53 -r [2001:db8::22]:53 -m
listings tunnels

# --- wrap: fwmarks and address words 2^31 or more apart --------------------
# ipvsadm's comparator subtracts them into an int; the sorted order is only
# reproducible from the kernel's (--nosort) order, captured alongside.
ipvsadm -C
must ipvsadm -A -f 3000000000 -s rr
must ipvsadm -A -f 5 -s rr
must ipvsadm -A -f 2147483648 -s rr
must ipvsadm -A -f 1 -s rr
must ipvsadm -A -f 4294967295 -s rr
must ipvsadm -A -f 2147483647 -s rr
must ipvsadm -A -f 7 -6 -s rr
must ipvsadm -A -t [2001:db8::1]:80 -s rr
must ipvsadm -A -t [2001:db8:8000::1]:80 -s rr
must ipvsadm -A -t [2001:db8:ffff::1]:80 -s rr
must ipvsadm -A -t [2001:db8:4000::1]:80 -s rr
must ipvsadm -A -t [2001:db8:c000::1]:80 -s rr
must ipvsadm -A -t 192.0.2.1:80 -s rr
must ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.1 -i
must ipvsadm -a -t 192.0.2.1:80 -r [2001:db8::1]:80 -i
must ipvsadm -a -t 192.0.2.1:80 -r [2001:db8:ffff::1]:80 -i
must ipvsadm -a -t 192.0.2.1:80 -r [2001:db8:8000::1]:80 -i
must ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.2 -i
must ipvsadm -a -t 192.0.2.1:80 -r 203.0.113.5 -i
must ipvsadm -A -t [2001:db8::2]:80 -s rr
must ipvsadm -a -t [2001:db8::2]:80 -r [2001:db8::5]:80 -m
must ipvsadm -a -t [2001:db8::2]:80 -r [2001:db8:ffff::5]:80 -m
must ipvsadm -a -t [2001:db8::2]:80 -r [2001:db8:8000::5]:80 -m
must ipvsadm -a -t [2001:db8::2]:80 -r [2001:db8:7fff::5]:80 -m
must ipvsadm -a -t [2001:db8::2]:80 -r [2001:db8:8000::5]:81 -m
must ipvsadm -a -t [2001:db8::2]:80 -r 198.51.100.3 -i
must ipvsadm -a -t [2001:db8::2]:80 -r [2001:db8::4]:80 -m
cap wrap-list ipvsadm -Ln
cap wrap-nosort ipvsadm -Ln --nosort
cap wrap-save ipvsadm -Sn

# --- names: host and port names from /etc/hosts and /etc/services ----------
ipvsadm -C
cat >>/etc/hosts <<'HOSTS'
192.0.2.50	www.example.org
198.51.100.50	backend-with-a-rather-long-name.example.net
198.51.100.51	short
2001:db8::50	v6host.example.org
2001:db8::51	an-extremely-long-ipv6-host-name-that-overflows-buffers.example.com
203.0.113.60	a-name-longer-than-fifty-nine-characters-to-test-the-cut.example.com
HOSTS
must ipvsadm -A -t 192.0.2.50:80 -s rr
must ipvsadm -a -t 192.0.2.50:80 -r 198.51.100.50:80 -m
must ipvsadm -a -t 192.0.2.50:80 -r 198.51.100.51:8080 -m
must ipvsadm -a -t 192.0.2.50:80 -r 198.51.100.52:12345 -m
must ipvsadm -a -t 192.0.2.50:80 -r 203.0.113.60:443 -m
must ipvsadm -A -u 192.0.2.50:53 -s rr
must ipvsadm -a -u 192.0.2.50:53 -r 198.51.100.51:53 -m
must ipvsadm -A --sctp-service 192.0.2.50:80 -s rr
must ipvsadm -a --sctp-service 192.0.2.50:80 -r 198.51.100.51:80 -m
must ipvsadm -A -t [2001:db8::50]:443 -s rr
must ipvsadm -a -t [2001:db8::50]:443 -r [2001:db8::51]:443 -m
must ipvsadm -a -t [2001:db8::50]:443 -r [2001:db8::52]:5060 -m
must ipvsadm -A -t 203.0.113.60:80 -s rr
must ipvsadm -A -u 203.0.113.60:5060 -s rr
must ipvsadm -A -f 9 -s rr
must ipvsadm -a -f 9 -r 198.51.100.50:80 -g
cap names-list ipvsadm -L
cap names-stats ipvsadm -L --stats
cap names-tun-info ipvsadm -L --tun-info
cap names-save ipvsadm -S

# --- timeouts ---------------------------------------------------------------
cap timeout-default ipvsadm -L --timeout
must ipvsadm --set 3600 60 100
cap timeout-set ipvsadm -Ln --timeout

# --- sync daemons -----------------------------------------------------------
ipvsadm -C
cap daemon-none ipvsadm -L --daemon
must ipvsadm --start-daemon master --mcast-interface lo
cap daemon-master ipvsadm -L --daemon
must ipvsadm --start-daemon backup --mcast-interface lo --syncid 7
cap daemon-both ipvsadm -L --daemon
must ipvsadm --stop-daemon master
cap daemon-backup ipvsadm -L --daemon
must ipvsadm --stop-daemon backup
must ipvsadm --start-daemon master --mcast-interface lo --syncid 255 --sync-maxlen 1000 --mcast-group 239.1.2.3 --mcast-port 9999 --mcast-ttl 5
cap daemon-options ipvsadm -L --daemon
must ipvsadm --stop-daemon master
must ipvsadm --start-daemon backup --mcast-interface lo --mcast-group ff02::1:2
cap daemon-v6 ipvsadm -L --daemon
must ipvsadm --stop-daemon backup

# --- connections: -c reads /proc/net/ip_vs_conn; feed it crafted files ------
cap conn-real-empty ipvsadm -Lnc
cap conn-real-proc cat /proc/net/ip_vs_conn
mkdir -p /tmp/fakeproc/net
for f in /root/conn/*.conn; do
	name=conn-$(basename "$f" .conn)
	cp "$f" /tmp/fakeproc/net/ip_vs_conn
	must mount --bind /tmp/fakeproc /proc
	cap "$name" ipvsadm -Lnc
	cap "$name-pc" ipvsadm -Lnc --persistent-conn
	cap "$name-names" ipvsadm -Lc
	umount /proc
done
# No file at all.
rm /tmp/fakeproc/net/ip_vs_conn
must mount --bind /tmp/fakeproc /proc
cap conn-missing ipvsadm -Lnc
umount /proc

echo "@@@@ BEGIN"
tar -cf - -C "$out" . | base64
echo "@@@@ END"
