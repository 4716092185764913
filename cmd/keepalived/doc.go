// Package keepalived converts keepalived's configuration (keepalived.conf)
// into lvsadm's YAML: `lvsadm import keepalived FILE`. Its virtual_server
// blocks become services, their real_server blocks real servers, and the
// first checker of each real server that lvsadm can run becomes its
// health_check, so that lvsadm run treats servers as keepalived did.
// Everything else is named on stderr with its file and line; input
// keepalived would reject is an error.
//
// The file is read as keepalived reads it: comments (# and !), braces
// anywhere on a line, double-quoted words, include with globs (relative to
// the including file), @ID and @^ID lines (with --config-id, keepalived's
// -i; without it they are named and skipped), $NAME=VALUE parameters with
// $NAME, ${NAME} and ${_PWD}, ${_HASH}, ${_BANG}, ${_INSTANCE}. Multi-line
// and parameterised definitions, ~SEQ and ~LST are errors: expand them
// first.
//
// The conversion, keepalived keyword -> lvsadm key (a checker's timers
// default to its real server's, a real server's to its virtual server's,
// as in keepalived):
//
//	virtual_server IP PORT, protocol       protocol, address, port (no protocol: udp, keepalived's default;
//	                                         no port: persistent 360, as keepalived makes it)
//	virtual_server fwmark N, ip_family     fwmark, family (ip_family, else the non-tunnelled real servers')
//	lb_algo, lvs_sched                     scheduler (default wlc)
//	flag-1/2/3, sh-port, sh-fallback,      scheduler_flags
//	  mh-port, mh-fallback
//	ops                                    one_packet (UDP and fwmark services only, as in keepalived)
//	lb_kind, lvs_method NAT|DR|TUN         each real server's method nat, dr or tunnel (default NAT),
//	  [type ipip|gue|gre] [port N] [csum]    and tunnel: {type, port, checksum}
//	persistence_timeout [N]                persistent (no value: 360; 0 is out of keepalived's range: none)
//	persistence_granularity                netmask (IPv4 mask or IPv6 prefix length; persistent 360 if none)
//	persistence_engine                     persistence_engine
//	real_server IP [PORT]                  real_servers: address, port (DR and TUN: the service's port,
//	                                         fwmark services: 0, NAT: its own, else the service's)
//	weight (virtual server: the default)   weight (default 1)
//	uthreshold, lthreshold                 upper_threshold, lower_threshold
//	inhibit_on_failure                     health_check on_failure: quiesce (without it: remove)
//	alpha                                  health_check initial_state: down
//	delay_loop                             interval (default 60s)
//	connect_timeout                        timeout (default 5s)
//	retry (nb_get_retry in HTTP_GET and    fall: retry+1 (retry+1 consecutive failures take a server down;
//	  SSL_GET only)                          default retry 1, MISC_CHECK 0)
//	-                                      rise: 1 (one success brings a server back)
//	delay_before_retry                     retry_interval (default 1s; HTTP_GET, SSL_GET 3s)
//	warmup                                 warmup (default delay_loop)
//	TCP_CHECK                              type: tcp
//	HTTP_GET, SSL_GET                      type: http, https
//	connect_ip, connect_port               connect_to: {address, port} (when not the real server's)
//	url path                               path (the first url; keepalived's others are named)
//	url status_code (codes and ranges)     status (default 200-299)
//	virtualhost (url, checker, real        host
//	  server, virtual server, in order)
//	url regex, regex_options caseless,     body, with Go's flags (?i), (?m), (?s), (?U)
//	  multiline, dotall, ungreedy
//	enable_sni, sni_name (SSL_GET)         sni (when not the host)
//	MISC_CHECK                             type: exec
//	misc_path "PROGRAM ARGS"               command: [PROGRAM, ARGS...]
//	misc_timeout                           timeout (default: the virtual server's delay_loop)
//	misc_dynamic                           dynamic_weight: true (without it: false)
//	UDP_CHECK                              type: udp
//	payload HEX                            send (bytes up to 0x7f)
//	require_reply [HEX]                    expect: a regexp matching a reply that begins like HEX as far
//	                                         as it goes (X nibbles in the low half match anything);
//	                                         without HEX, any reply ("^")
//	sorry_server IP [PORT],                sorry_server: {address, port, method, weight: 1}
//	  sorry_server_lvs_method
//	quorum                                 quorum (written with a sorry server, keepalived's default 1;
//	                                         lowered to the real servers' total weight, as keepalived does)
//	hysteresis                             hysteresis (below quorum, as keepalived makes it)
//
// Named on stderr and not converted: vrrp_* blocks (VRRP stays keepalived's
// job), global_defs, virtual_server_group and virtual_server group, other
// top-level blocks; notify_up, notify_down, quorum_up, quorum_down, omega,
// smtp_alert, snmp_name, ha_suspend, hashed, sorry_server_inhibit; checkers
// after the first one lvsadm can run (lvsadm runs one per real server);
// SMTP_CHECK, DNS_CHECK, PING_CHECK, FILE_CHECK, BFD_CHECK; bindto,
// bind_port, bind_if, checker fwmark, log_all_failures, http_protocol,
// fast_recovery, tls_compliant, url digest, regex_no_match (and its regex),
// regex_min_offset, regex_max_offset, regex_stack, other regex_options, a
// regex Go cannot compile, MISC_CHECK user, min_reply_length,
// max_reply_length; nb_get_retry outside HTTP_GET and SSL_GET (keepalived
// ignores it there as an unknown keyword).
//
// Where lvsadm's checks still differ from keepalived's: keepalived takes a
// server that has not been checked yet down at its first failure, lvsadm
// after fall failures; without payload keepalived sends random bytes;
// SSL_GET without enable_sni sends no server name, lvsadm sends host; body
// regexps are Go's (RE2), not PCRE.
package keepalived
