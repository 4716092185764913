package keepalived

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/cmd/desired"
)

func ptr[T any](v T) *T { return &v }

func server(addr string, port uint16, method string, weight uint32, hc *Check) Server {
	return Server{Address: addr, Port: port, Method: method, Weight: weight, HealthCheck: hc}
}

// tcpService is the usual frame of the cases: a TCP DR service on
// 192.0.2.1:80.
func tcpService(hc *Check, servers ...Server) Service {
	return Service{Protocol: "tcp", Address: "192.0.2.1", Port: ptr[uint16](80), Scheduler: "wlc", HealthCheck: hc, RealServers: servers}
}

// vs wraps virtual_server lines in the usual frame (line 1 is the
// virtual_server line, the body starts on line 2).
func vs(body string) string {
	return "virtual_server 192.0.2.1 80 {\nprotocol TCP\nlb_kind DR\n" + body + "}\n"
}

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		name     string
		conf     string
		opt      Options
		want     []Service
		warnings []string
	}{{
		// keepalived's defaults: delay_loop 60, connect_timeout 5, retry 1,
		// delay_before_retry 1 (TCP), no rise, failed servers removed;
		// protocol UDP, NAT, wlc.
		name: "defaults",
		conf: "virtual_server 192.0.2.1 53 {\nreal_server 198.51.100.1 53 {\nTCP_CHECK {\n}\n}\n}\n",
		want: []Service{{Protocol: "udp", Address: "192.0.2.1", Port: ptr[uint16](53), Scheduler: "wlc",
			HealthCheck: &Check{Type: "tcp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2, OnFailure: "remove"},
			RealServers: []Server{server("198.51.100.1", 53, "nat", 1, nil)}}},
		warnings: []string{
			"t.conf:1: virtual_server 192.0.2.1 53 has no protocol: converted as udp, keepalived's default",
			"t.conf:1: virtual_server 192.0.2.1 53 has no lb_kind: converted as NAT, keepalived's default",
		},
	}, {
		// A checker's own timers, else its real server's, else its virtual
		// server's; warmup defaults to the checker's delay_loop.
		name: "inheritance",
		conf: vs("delay_loop 20\nconnect_timeout 4\nretry 3\ndelay_before_retry 2\nwarmup 7\nweight 2\n" +
			"real_server 198.51.100.1 80 {\nconnect_timeout 3\nretry 4\nTCP_CHECK {\ndelay_loop 1.5\n}\n}\n" +
			"real_server 198.51.100.2 80 {\nweight 0\nTCP_CHECK {\nretry 0\nwarmup 0\n}\n}\n"),
		want: []Service{tcpService(nil,
			server("198.51.100.1", 80, "dr", 2, &Check{Type: "tcp", Interval: "1.5s", Timeout: "3s", RetryInterval: "2s", Rise: 1, Fall: 5, Warmup: "7s", OnFailure: "remove"}),
			server("198.51.100.2", 80, "dr", 0, &Check{Type: "tcp", Interval: "20s", Timeout: "4s", Rise: 1, Fall: 1, Warmup: "0s", OnFailure: "remove"}))},
	}, {
		// inhibit_on_failure and alpha: the real server's value wins.
		name: "inhibit and alpha",
		conf: vs("inhibit_on_failure\nalpha\n" +
			"real_server 198.51.100.1 80 {\nTCP_CHECK {\n}\n}\n" +
			"real_server 198.51.100.2 80 {\ninhibit_on_failure off\nalpha no\nTCP_CHECK {\n}\n}\n" +
			"real_server 198.51.100.3 80 {\nTCP_CHECK {\nalpha false\n}\n}\n"),
		want: []Service{tcpService(nil,
			server("198.51.100.1", 80, "dr", 1, &Check{Type: "tcp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2, OnFailure: "quiesce", InitialState: "down"}),
			server("198.51.100.2", 80, "dr", 1, &Check{Type: "tcp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2, OnFailure: "remove"}),
			server("198.51.100.3", 80, "dr", 1, &Check{Type: "tcp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2, OnFailure: "quiesce"}))},
	}, {
		// MISC_CHECK: retry 0 by default, the virtual server's delay_loop
		// as the timeout, exit codes 2-255 only with misc_dynamic; only the
		// first word of misc_path is run.
		name: "misc",
		conf: vs("delay_loop 9\nreal_server 198.51.100.1 80 {\ndelay_loop 4\nMISC_CHECK {\nmisc_path /bin/check 80\nuser nobody\n}\n}\n"),
		want: []Service{tcpService(&Check{Type: "exec", Interval: "4s", Timeout: "9s", Rise: 1, Fall: 1,
			Command: []string{"/bin/check"}, DynamicWeight: ptr(false), OnFailure: "remove"},
			server("198.51.100.1", 80, "dr", 1, nil))},
		warnings: []string{
			"t.conf:8: misc_path: 80 not converted: keepalived runs only the first word; quote the whole command to give it arguments",
			"t.conf:9: user not converted: lvsadm runs the command as the user lvsadm runs as",
		},
	}, {
		// The double quotes group misc_path's command; within it single
		// quotes group words, and \" is a double quote that groups nothing.
		name: "misc quoting",
		conf: vs(`real_server 198.51.100.1 80 {` + "\n" + `MISC_CHECK {` + "\n" +
			`misc_path "/bin/check -m 'a b' \"c d\" e\tf"` + "\n}\n}\n"),
		want: []Service{tcpService(&Check{Type: "exec", Interval: "60s", Timeout: "60s", Rise: 1, Fall: 1,
			Command: []string{"/bin/check", "-m", "a b", `"c`, `d"`, "e\tf"}, DynamicWeight: ptr(false), OnFailure: "remove"},
			server("198.51.100.1", 80, "dr", 1, nil))},
	}, {
		// The Host header comes from the url, the checker, the real server
		// or the virtual server, in that order; HTTP_GET retries after 3 s;
		// nb_get_retry is HTTP_GET's old name of retry.
		name: "http",
		conf: vs("virtualhost vs.example.com\nreal_server 198.51.100.1 80 {\nvirtualhost rs.example.com\nHTTP_GET {\nnb_get_retry 2\n" +
			"url { path /a\nstatus_code 200 204 500-503\n}\n}\n}\n" +
			"real_server 198.51.100.2 80 {\nHTTP_GET {\nurl {\npath /b\nstatus_code 200-299\nregex \"^ok\"\nregex_no_match\n}\n}\n}\n" +
			"real_server 198.51.100.3 80 {\nHTTP_GET {\nurl {\npath /c\nregex \"(?<=a)b\"\nregex_options caseless extended\n}\n}\n}\n"),
		want: []Service{tcpService(nil,
			server("198.51.100.1", 80, "dr", 1, &Check{Type: "http", Interval: "60s", Timeout: "5s", RetryInterval: "3s", Rise: 1, Fall: 3,
				Path: "/a", Host: "rs.example.com", Status: []any{200, 204, "500-503"}, OnFailure: "remove"}),
			server("198.51.100.2", 80, "dr", 1, &Check{Type: "http", Interval: "60s", Timeout: "5s", RetryInterval: "3s", Rise: 1, Fall: 2,
				Path: "/b", Host: "vs.example.com", OnFailure: "remove"}),
			server("198.51.100.3", 80, "dr", 1, &Check{Type: "http", Interval: "60s", Timeout: "5s", RetryInterval: "3s", Rise: 1, Fall: 2,
				Path: "/c", Host: "vs.example.com", OnFailure: "remove"}))},
		warnings: []string{
			"t.conf:19: regex not converted: with regex_no_match the body must not match, and lvsadm's body must match",
			"t.conf:28: regex not converted: Go's regexp cannot read it: error parsing regexp: invalid named capture: `(?<=a)b`",
			"t.conf:29: regex_options extended not converted: Go's regexp has no such option",
		},
	}, {
		// What is in a url that is not converted is not named again.
		name: "several urls",
		conf: vs("real_server 198.51.100.1 80 {\nHTTP_GET {\nurl {\npath /a\ndigest 9b3a0c85a887a256d6939da88aabd8cd\n}\n" +
			"url {\npath /b\ndigest 9b3a0c85a887a256d6939da88aabd8cd\nregex_stack 1 2\n}\n}\n}\n"),
		want: []Service{tcpService(&Check{Type: "http", Interval: "60s", Timeout: "5s", RetryInterval: "3s", Rise: 1, Fall: 2,
			Path: "/a", OnFailure: "remove"}, server("198.51.100.1", 80, "dr", 1, nil))},
		warnings: []string{
			"t.conf:8: digest not converted: lvsadm does not compare an MD5 digest of the body (a regex can check the body)",
			"t.conf:10: url not converted: lvsadm checks one URL per real server (the url at line 6 is converted)",
		},
	}, {
		// SSL_GET: the server name is sni_name, else the url's, the
		// checker's or the virtual server's virtualhost; written only when
		// it is not the Host header.
		name: "ssl",
		conf: vs("real_server 198.51.100.1 80 {\nvirtualhost rs.example.com\nSSL_GET {\nsni_name tls.example.com\nurl {\npath /\n}\n}\n}\n" +
			"real_server 198.51.100.2 80 {\nSSL_GET {\nenable_sni\nvirtualhost chk.example.com\nurl {\npath /\n}\n}\n}\n"),
		want: []Service{tcpService(nil,
			server("198.51.100.1", 80, "dr", 1, &Check{Type: "https", Interval: "60s", Timeout: "5s", RetryInterval: "3s", Rise: 1, Fall: 2,
				Path: "/", Host: "rs.example.com", SNI: "tls.example.com", OnFailure: "remove"}),
			server("198.51.100.2", 80, "dr", 1, &Check{Type: "https", Interval: "60s", Timeout: "5s", RetryInterval: "3s", Rise: 1, Fall: 2,
				Path: "/", Host: "chk.example.com", OnFailure: "remove"}))},
	}, {
		// require_reply alone: any answer; X is a wildcard nibble; bytes
		// above 0x7f cannot be text.
		name: "udp",
		conf: "virtual_server 192.0.2.1 53 {\nprotocol UDP\nlb_kind DR\n" +
			"real_server 198.51.100.1 53 {\nUDP_CHECK {\nrequire_reply\n}\n}\n" +
			"real_server 198.51.100.2 53 {\nUDP_CHECK {\npayload 0 a1\nrequire_reply 4 7X 2e\n}\n}\n" +
			"real_server 198.51.100.3 53 {\nUDP_CHECK {\npayload 41 0a\nrequire_reply 80\nmin_reply_length 2\n}\n}\n}\n",
		want: []Service{{Protocol: "udp", Address: "192.0.2.1", Port: ptr[uint16](53), Scheduler: "wlc", RealServers: []Server{
			server("198.51.100.1", 53, "dr", 1, &Check{Type: "udp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2, Expect: "^", OnFailure: "remove"}),
			server("198.51.100.2", 53, "dr", 1, &Check{Type: "udp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2,
				Expect: `^(?:$|\x04(?:$|[\x70-\x7f](?:$|\x2e)))`, OnFailure: "remove"}),
			server("198.51.100.3", 53, "dr", 1, &Check{Type: "udp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2,
				Send: "A\n", Expect: "^", OnFailure: "remove"}),
		}}},
		warnings: []string{
			"t.conf:10: UDP_CHECK payload not converted: lvsadm's send is text, and the payload has bytes above 0x7f",
			"t.conf:16: UDP_CHECK require_reply data not converted (any answer is converted): lvsadm's expect is a text regexp, and the data has bytes above 0x7f or wildcards in their high half",
			"t.conf:19: min_reply_length not converted: lvsadm does not check the reply's length",
		},
	}, {
		// One check per real server: the first lvsadm can run.
		name: "several checkers",
		conf: vs("real_server 198.51.100.1 80 {\nPING_CHECK {\n}\nHTTP_GET {\nurl {\nstatus_code 200\n}\n}\n" +
			"TCP_CHECK {\nconnect_port 81\nbindto 198.51.100.200\n}\nMISC_CHECK {\nmisc_path /bin/true\nuser nobody\n}\n}\n"),
		want: []Service{tcpService(&Check{Type: "tcp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2,
			ConnectTo: &ConnectTo{Port: 81}, OnFailure: "remove"}, server("198.51.100.1", 80, "dr", 1, nil))},
		warnings: []string{
			"t.conf:5: PING_CHECK not converted: lvsadm has no ICMP echo check",
			"t.conf:7: HTTP_GET not converted: it has no url with a path (keepalived ignores it too)",
			"t.conf:14: bindto not converted: lvsadm's checks leave from the address the system chooses",
			"t.conf:16: MISC_CHECK not converted: lvsadm runs one check per real server (the TCP_CHECK at line 12 is converted)",
		},
	}, {
		// Direct routing: IPVS gets the service's port, the check goes to
		// the port written (or connect_ip/connect_port).
		name: "check target",
		conf: vs("real_server 198.51.100.1 8080 {\nTCP_CHECK {\n}\n}\n" +
			"real_server 198.51.100.2 {\nTCP_CHECK {\nconnect_ip 203.0.113.5\nconnect_port 80\n}\n}\n"),
		want: []Service{tcpService(nil,
			server("198.51.100.1", 80, "dr", 1, &Check{Type: "tcp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2,
				ConnectTo: &ConnectTo{Port: 8080}, OnFailure: "remove"}),
			server("198.51.100.2", 80, "dr", 1, &Check{Type: "tcp", Interval: "60s", Timeout: "5s", RetryInterval: "1s", Rise: 1, Fall: 2,
				ConnectTo: &ConnectTo{Address: "203.0.113.5"}, OnFailure: "remove"}))},
	}, {
		// The sorry server takes sorry_server_lvs_method (else lb_kind) and,
		// but with NAT, the service's port; quorum is written with it
		// (keepalived's default 1).
		name: "sorry server",
		conf: vs("sorry_server 198.51.100.99\nsorry_server_lvs_method TUN\nsorry_server_inhibit\n" +
			"real_server 198.51.100.1 80 {\n}\n"),
		want: []Service{{Protocol: "tcp", Address: "192.0.2.1", Port: ptr[uint16](80), Scheduler: "wlc", Quorum: ptr[uint32](1),
			SorryServer: &desired.ServerJSON{Address: "198.51.100.99", Port: 80, Method: "tunnel", Weight: 1},
			RealServers: []Server{server("198.51.100.1", 80, "dr", 1, nil)}}},
		warnings: []string{
			"t.conf:6: sorry_server_inhibit not converted: lvsadm adds and removes the sorry server, it does not set its weight to 0",
		},
	}, {
		// keepalived lowers a quorum above the real servers' total weight,
		// and a hysteresis not below the quorum.
		name: "quorum lowered",
		conf: vs("quorum 5\nhysteresis 7\nreal_server 198.51.100.1 80 {\nweight 3\n}\n"),
		want: []Service{{Protocol: "tcp", Address: "192.0.2.1", Port: ptr[uint16](80), Scheduler: "wlc", Quorum: ptr[uint32](3), Hysteresis: 2,
			RealServers: []Server{server("198.51.100.1", 80, "dr", 3, nil)}}},
		warnings: []string{
			"t.conf:4: quorum 5 converted as 3, the real servers' total weight, as keepalived does",
			"t.conf:5: hysteresis 7 converted as 2, one less than quorum, as keepalived does",
		},
	}, {
		// persistence_granularity makes a service persistent, which lets it
		// have no port; the granularity of IPv6 is a prefix length; ops
		// needs UDP.
		name: "service options",
		conf: "virtual_server 2001:db8::1 {\nprotocol TCP\nlb_kind DR\npersistence_granularity 64\nops\nflag-1\nflag-1\n" +
			"persistence_engine sip\nreal_server 2001:db8::11 {\n}\n}\n" +
			"virtual_server 192.0.2.1 0 {\nprotocol TCP\nlb_kind DR\nreal_server 198.51.100.1 {\n}\n}\n",
		want: []Service{
			{Protocol: "tcp", Address: "2001:db8::1", Port: ptr[uint16](0), Scheduler: "wlc", SchedulerFlags: []string{"flag-1"},
				Persistent: 360, Netmask: uint64(64), PersistenceEngine: "sip", RealServers: []Server{server("2001:db8::11", 0, "dr", 1, nil)}},
			{Protocol: "tcp", Address: "192.0.2.1", Port: ptr[uint16](0), Scheduler: "wlc", Persistent: 360,
				RealServers: []Server{server("198.51.100.1", 0, "dr", 1, nil)}},
		},
		warnings: []string{
			"t.conf:5: ops not converted: one-packet scheduling needs UDP (keepalived drops it too)",
			"t.conf:12: virtual_server 192.0.2.1 0 has no port: converted as persistent 360 s, as keepalived does",
		},
	}, {
		// A fwmark service's family follows its real servers when they are
		// all tunnelled; NAT real servers keep their port.
		name: "fwmark",
		conf: "virtual_server fwmark 3 {\nprotocol TCP\nlb_kind TUN\nreal_server 2001:db8::11 80 {\n}\nreal_server 2001:db8::12 {\n}\n}\n" +
			"virtual_server fwmark 4 {\nlb_kind NAT\nip_family inet\nreal_server 198.51.100.1 8080 {\n}\nreal_server 2001:db8::13 {\n}\n}\n",
		want: []Service{
			{FWMark: 3, Family: "ipv6", Scheduler: "wlc", RealServers: []Server{
				server("2001:db8::11", 0, "tunnel", 1, nil), server("2001:db8::12", 0, "tunnel", 1, nil)}},
			{FWMark: 4, Scheduler: "wlc", RealServers: []Server{server("198.51.100.1", 8080, "nat", 1, nil)}},
		},
		warnings: []string{
			"t.conf:2: protocol not converted: a fwmark service has no protocol (keepalived ignores it too)",
			"t.conf:14: real_server 2001:db8::13 not converted: its address family is not the virtual server's (keepalived drops it too)",
		},
	}, {
		name: "not converted",
		conf: "global_defs {\nrouter_id x\n}\nvrrp_script chk {\nscript /bin/true\n}\nvrrp_instance VI_1 {\n}\n" +
			"virtual_server_group G {\n192.0.2.1 80\n}\nvirtual_server group G {\n}\nstatic_ipaddress {\n192.0.2.9/24 dev eth0\n}\n" +
			vs("ha_suspend\nsmtp_alert\nreal_server 198.51.100.1 80 {\nnotify_up /bin/up\nFILE_CHECK {\ntrack_file f\n}\n}\n"+
				"real_server 198.51.100.1 80 {\n}\n") +
			"virtual_server 192.0.2.2 80 {\nprotocol TCP\nlb_kind DR\n}\n",
		want: []Service{tcpService(nil, server("198.51.100.1", 80, "dr", 1, nil))},
		warnings: []string{
			"t.conf:1: global_defs skipped: keepalived's global settings have no lvsadm equivalent",
			"t.conf:4: vrrp_script chk skipped: VRRP stays keepalived's job",
			"t.conf:7: vrrp_instance VI_1 skipped: VRRP stays keepalived's job",
			"t.conf:9: virtual_server_group G skipped: the importer does not expand virtual server groups",
			"t.conf:12: virtual_server group G not converted: the importer does not expand virtual_server_group; write one virtual_server per address",
			"t.conf:14: static_ipaddress not converted: only virtual_server blocks become lvsadm services",
			"t.conf:20: ha_suspend not converted: lvsadm checks real servers whether or not the virtual address is up",
			"t.conf:21: smtp_alert not converted: lvsadm sends no mail",
			"t.conf:23: notify_up not converted: lvsadm runs no notify scripts",
			"t.conf:24: FILE_CHECK not converted: lvsadm does not read keepalived's track files",
			"t.conf:28: real_server 198.51.100.1 80 not converted: it is already defined at t.conf:22 (keepalived drops it too)",
			"t.conf:31: virtual_server 192.0.2.2 80 not converted: it has no real servers (keepalived ignores it too)",
		},
	}, {
		// A block skipped as a whole is named once, @ lines within it not.
		name: "conditionals in skipped blocks",
		conf: "vrrp_instance VI_1 {\n@main priority 100\n@^main priority 50\n}\n@main $W=2\n" +
			vs("real_server 198.51.100.1 80 {\n@main weight $W\n}\n"),
		want: []Service{tcpService(nil, server("198.51.100.1", 80, "dr", 1, nil))},
		warnings: []string{
			"t.conf:1: vrrp_instance VI_1 skipped: VRRP stays keepalived's job",
			"t.conf:5: @main line not converted: it depends on keepalived's configuration id (give --config-id)",
			"t.conf:10: @main line not converted: it depends on keepalived's configuration id (give --config-id)",
		},
	}, {
		name: "conditionals with an id",
		conf: "vrrp_instance VI_1 {\n@main priority 100\n@^main priority 50\n}\n@main $W=2\n" +
			vs("real_server 198.51.100.1 80 {\n@main weight $W\n}\n"),
		opt:  Options{ConfigID: "main"},
		want: []Service{tcpService(nil, server("198.51.100.1", 80, "dr", 2, nil))},
		warnings: []string{
			"t.conf:1: vrrp_instance VI_1 skipped: VRRP stays keepalived's job",
		},
	}, {
		// Retries beyond what lvsadm counts; a retry without delay.
		name: "limits",
		conf: vs("real_server 198.51.100.1 80 {\nTCP_CHECK {\nretry 5000\ndelay_before_retry 0\n}\n}\n"),
		want: []Service{tcpService(&Check{Type: "tcp", Interval: "60s", Timeout: "5s", RetryInterval: "1ms", Rise: 1, Fall: 1000, OnFailure: "remove"},
			server("198.51.100.1", 80, "dr", 1, nil))},
		warnings: []string{
			"t.conf:5: TCP_CHECK: retry 5000 converted as 999: lvsadm counts at most 1000 failures",
			"t.conf:5: TCP_CHECK: delay_before_retry 0 converted as 1ms: lvsadm's retry_interval must be longer than 0",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f, warnings, err := Import("t.conf", []byte(tc.conf), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, f.Services); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			y, err := desired.MarshalYAML(f)
			if err != nil {
				t.Fatal(err)
			}
			parseServices(t, "t.yaml", string(y))
		})
	}
}

func TestConvertErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"virtual_server 192.0.2.1 80 {\nprotocol TCP\n", "t.conf:1: { is not closed by a } before the end of the input"},
		{"}\n", "t.conf:1: } without a { before it"},
		{"{\n}\n", "t.conf:1: { without a keyword before it"},
		{"virtual_server 192.0.2.1 80 {\nvirtualhost \"abc\n}\n", "t.conf:2: a double quote is not closed on its line"},
		{"virtual_server 192.0.2.1 80\n", "t.conf:1: virtual_server without a { } block"},
		{"virtual_server 192.0.2.300 80 {\n}\n", "t.conf:1: virtual_server 192.0.2.300: not an IPv4 or IPv6 address"},
		{"virtual_server 192.0.2.1 http {\n}\n", "t.conf:1: virtual_server: port http: want a whole number from 0 to 65535"},
		{"virtual_server fwmark 0 {\n}\n", "t.conf:1: virtual_server fwmark 0: want a whole number from 1 to 4294967295"},
		{vs("lb_algo\n"), "t.conf:4: lb_algo takes one value"},
		{vs("bogus 1\n"), "t.conf:4: unknown keyword bogus in virtual_server"},
		{vs("protocol ICMP\n"), "t.conf:4: protocol ICMP: want TCP, UDP or SCTP"},
		{vs("lb_kind dr\n"), "t.conf:4: lb_kind dr: want NAT, DR or TUN"},
		{vs("lb_kind TUN type gue\n"), "t.conf:4: lb_kind TUN: a gue tunnel needs a port, and only gue takes one"},
		{vs("retry 0\n"), "t.conf:4: retry 0: want a whole number from 1 to 4294967295"},
		{vs("inhibit_on_failure yes\n"), "t.conf:4: inhibit_on_failure takes no value"},
		{vs("persistence_granularity 255.255.0\nreal_server 198.51.100.1 80 {\n}\n"), "t.conf:4: persistence_granularity 255.255.0: want an IPv4 netmask such as 255.255.255.0"},
		{vs("real_server 198.51.100.1 80 {\nweight -1\n}\n"), "t.conf:5: weight -1: want a whole number from 0 to 2147483647"},
		{vs("real_server 198.51.100.1 80 {\ninhibit_on_failure maybe\n}\n"), "t.conf:5: inhibit_on_failure: want nothing or one of on, off, true, false, yes, no"},
		{vs("real_server 198.51.100.1 80 {\nTCP_CHECK\n}\n"), "t.conf:5: TCP_CHECK without a { } block"},
		{vs("real_server 198.51.100.1 80\n"), "t.conf:4: real_server without a { } block"},
		{vs("real_server 198.51.100.1 80 {\nTCP_CHECK {\nconnect_timeout 1.1234567\n}\n}\n"), "t.conf:6: connect_timeout 1.1234567: want seconds greater than 0 (decimals allowed, such as 1.5)"},
		{vs("real_server 198.51.100.1 80 {\nTCP_CHECK {\ndelay_before_retry -1\n}\n}\n"), "t.conf:6: delay_before_retry -1: want seconds (decimals allowed, such as 1.5)"},
		{vs("real_server 198.51.100.1 80 {\nTCP_CHECK {\npath /\n}\n}\n"), "t.conf:6: unknown keyword path in TCP_CHECK"},
		{vs("real_server 198.51.100.1 80 {\nMISC_CHECK {\nconnect_timeout 3\n}\n}\n"), "t.conf:6: unknown keyword connect_timeout in MISC_CHECK"},
		{vs("real_server 198.51.100.1 80 {\nMISC_CHECK {\nmisc_path\n}\n}\n"), "t.conf:6: misc_path: want a command"},
		{vs("real_server 198.51.100.1 80 {\nHTTP_GET {\nurl {\nstatus_code 600\n}\n}\n}\n"), "t.conf:7: status_code 600: want a code from 100 to 599 or a range such as 200-299"},
		{vs("real_server 198.51.100.1 80 {\nHTTP_GET {\nurl {\nregex a b\n}\n}\n}\n"), "t.conf:7: regex: want one expression (quote it if it has blanks)"},
		{vs("real_server 198.51.100.1 80 {\nUDP_CHECK {\npayload 4g\n}\n}\n"), `t.conf:6: payload: 'g' is not a hex digit`},
		{vs("real_server 198.51.100.1 80 {\n}\n") + vs("real_server 198.51.100.1 80 {\n}\n"), "t.conf:7: virtual_server 192.0.2.1 80 is already defined at t.conf:1"},
		{"~SEQ(i, 1, 3) x\n", "t.conf:1: ~SEQ is not supported by the importer: expand it first"},
		{"$A=1 \\\n", `t.conf:1: a line ending in \ (a multi-line $ definition) is not supported by the importer: expand it first`},
		{"$F(a)=x\n", "t.conf:1: $F: parameters with arguments are not supported by the importer: expand them first"},
		{"virtual_server 192.0.2.${_RANDOM} 80 {\n}\n", "t.conf:1: ${_RANDOM} is not supported by the importer"},
		{"$A=$A\nx $A\n", "t.conf:2: $A: parameter replacement does not end"},
	} {
		_, _, err := Import("t.conf", []byte(tc.conf), Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.conf, err, tc.want)
		}
	}
}
