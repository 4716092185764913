package cli

import "strings"

// helpText is lvsadm's own description of the ipvsadm-compatible command
// line (ipvsadm's help text is not reused).
func helpText(prog string) string {
	return strings.ReplaceAll(`lvsadm: manage the kernel's IP Virtual Server tables (ipvsadm 1.31 syntax).

Usage:
  PROG -A|-E SERVICE [-s SCHED] [-p [SECONDS]] [-M MASK] [--pe ENGINE] [-o] [-b FLAGS]
  PROG -D SERVICE
  PROG -C
  PROG -R < RULES
  PROG -S [-n]
  PROG -a|-e SERVICE -r SERVER[:PORT] [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER] [TUNNEL]
  PROG -d SERVICE -r SERVER[:PORT]
  PROG -L|-l [SERVICE] [-n] [-c] [--timeout] [--daemon] [VIEW] [--nosort] [--exact]
  PROG -Z [SERVICE]
  PROG --set TCP TCPFIN UDP
  PROG --start-daemon master|backup [--mcast-interface IF] [--syncid ID] [SYNC]
  PROG --stop-daemon master|backup [--syncid ID]
  PROG -h | -v

The command comes first; options may follow in any order.

SERVICE (one of):
  -t, --tcp-service ADDR:PORT     TCP virtual service; IPv6 as [ADDR]:PORT
  -u, --udp-service ADDR:PORT     UDP virtual service
      --sctp-service ADDR:PORT    SCTP virtual service
  -f, --fwmark-service MARK       firewall-mark service (add -6 for IPv6)

Commands:
  -A, --add-service      create a virtual service
  -E, --edit-service     replace a virtual service's settings (unset ones revert to defaults)
  -D, --delete-service   remove a virtual service and its real servers
  -C, --clear            remove every virtual service
  -R, --restore          read command lines from standard input
  -S, --save             print the table as command lines for -R
  -a, --add-server       add a real server to a service
  -e, --edit-server      replace a real server's settings
  -d, --delete-server    remove a real server
  -L, -l, --list         list services (all, or the one given)
  -Z, --zero             reset counters (all, or of the service given)
      --set              set the TCP, TCP-FIN and UDP timeouts in seconds (0 keeps)
      --start-daemon     start a connection-sync daemon
      --stop-daemon      stop a connection-sync daemon
  -h, --help             show this text
  -v, --version          show the version

Service options:
  -s, --scheduler NAME    rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos (default wlc)
  -p, --persistent [SEC]  sticky clients; the timeout defaults to 360 seconds
  -M, --netmask MASK      persistence granularity: IPv4 mask or IPv6 prefix length
      --pe NAME           persistence engine, such as sip
  -o, --ops               one-packet scheduling (UDP)
  -b, --sched-flags LIST  comma-separated: flag-1,flag-2,flag-3; sh-fallback,sh-port; mh-fallback,mh-port

Real-server options:
  -r, --real-server ADDR[:PORT]  the real server (DR and tunnels use the service port)
  -g, --gatewaying        direct routing (default)
  -i, --ipip              tunnelling
  -m, --masquerading      NAT
  -w, --weight N          0 to 2147483647 (default 1)
  -x, --u-threshold N     stop scheduling above N connections (0 = no limit)
  -y, --l-threshold N     resume scheduling below N connections
  TUNNEL: --tun-type ipip|gue|gre, --tun-port PORT (gue),
          --tun-nocsum | --tun-csum | --tun-remcsum

Listing options:
  -n, --numeric           no host or service names
  -c, --connection        list connections instead of services
      --timeout           show the timeouts
      --daemon            show the sync daemons
  VIEW: --stats, --rate, --thresholds, --persistent-conn, --tun-info
      --nosort            kernel order instead of sorted
  -X, --exact             exact numbers instead of K/M/G/T

Sync daemon options (SYNC):
      --mcast-interface IF   interface (default eth0)
      --syncid ID            0 to 255 (default 0)
      --sync-maxlen N        message size
      --mcast-group ADDR     multicast group, IPv4 or IPv6
      --mcast-port PORT      UDP port
      --mcast-ttl N          multicast TTL

lvsadm also has its own subcommands (run "lvsadm help"): plan, apply and
export of a desired table, run (health checks), top, drain and enable, and
host and role setup for directors and real servers.
`, "PROG", prog)
}
