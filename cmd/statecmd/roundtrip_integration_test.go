//go:build integration && linux

package statecmd_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// roundTrips are tables in ipvsadm's rules, each exercising a part of IPVS.
var roundTrips = []struct{ name, rules string }{
	{"ipv4", `-A -t 192.0.2.10:80 -s wrr
-a -t 192.0.2.10:80 -r 198.51.100.1:80 -m -w 3
-a -t 192.0.2.10:80 -r 198.51.100.2:8080 -m -w 0 -x 100 -y 10
-A -t 192.0.2.10:443 -s wlc -p 600 -M 255.255.255.0
-a -t 192.0.2.10:443 -r 198.51.100.1:443 -g -w 1
-A -u 192.0.2.11:53 -s sh -b sh-port,sh-fallback -o
-a -u 192.0.2.11:53 -r 198.51.100.3:53 -i -w 2
-A -t 192.0.2.12:0 -s lc -p 30
`},
	{"ipv6", `-A -t [2001:db8::10]:80 -s rr
-a -t [2001:db8::10]:80 -r [2001:db8::20]:80 -m -w 2
-a -t [2001:db8::10]:80 -r [2001:db8::21]:8080 -m -w 1
-A -u [2001:db8::10]:53 -s mh -b mh-port,mh-fallback -p 60 -M 64
-a -u [2001:db8::10]:53 -r [2001:db8::22]:53 -g -w 1
`},
	{"fwmark", `-A -f 1 -s rr
-a -f 1 -r 198.51.100.1 -g -w 1
-a -f 1 -r 198.51.100.2 -i -w 4
-A -f 2 -6 -s wrr -p 120
-a -f 2 -6 -r 2001:db8::1 -g -w 3
`},
	{"sctp", `-A --sctp-service 192.0.2.20:3868 -s rr
-a --sctp-service 192.0.2.20:3868 -r 198.51.100.1:3868 -m -w 1
-a --sctp-service 192.0.2.20:3868 -r 198.51.100.2:3869 -m -w 5
-A --sctp-service [2001:db8::10]:3868 -s sh -b sh-port
-a --sctp-service [2001:db8::10]:3868 -r [2001:db8::20]:3868 -g -w 2
`},
	{"tunnels", `-A -t 192.0.2.30:80 -s wrr
-a -t 192.0.2.30:80 -r 198.51.100.1:80 -i -w 1
-a -t 192.0.2.30:80 -r 198.51.100.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a -t 192.0.2.30:80 -r 198.51.100.3:80 -i -w 1 --tun-type gue --tun-port 6081 --tun-csum
-a -t 192.0.2.30:80 -r 198.51.100.4:80 -i -w 1 --tun-type gue --tun-port 6082 --tun-remcsum
-a -t 192.0.2.30:80 -r 198.51.100.5:80 -i -w 2 --tun-type gre --tun-csum
-a -t 192.0.2.30:80 -r 198.51.100.6:80 -i -w 2 --tun-type gre --tun-nocsum
-A -t [2001:db8::30]:80 -s rr
-a -t [2001:db8::30]:80 -r [2001:db8::31]:80 -i -w 1 --tun-type gue --tun-port 6080
-a -t [2001:db8::30]:80 -r [2001:db8::32]:80 -i -w 1 --tun-type gre
`},
	{"pe-sip", `-A -u 192.0.2.40:5060 -s rr -p 60 --pe sip
-a -u 192.0.2.40:5060 -r 198.51.100.1:5060 -m -w 1
-a -u 192.0.2.40:5060 -r 198.51.100.2:5060 -m -w 2
-A -f 9 -s wlc -p 300 --pe sip
-a -f 9 -r 198.51.100.3 -g -w 1
`},
}

// TestIntegrationRoundTrip applies the tables, all in one, to an empty
// namespace and checks it against the reference ipvsadm: its -Sn of the
// kernel's table is what it makes of the same rules itself; export -o rules
// prints exactly its -Sn; the rules, and each export (rules, YAML, JSON),
// applied again change nothing; and the YAML export applied to another
// empty namespace builds the same table.
func TestIntegrationRoundTrip(t *testing.T) {
	testnet.NeedIPVS(t, "ip_vs_rr", "ip_vs_wlc", "ip_vs_lc", "ip_vs_sh", "ip_vs_mh", "ip_vs_pe_sip")
	lvsadm := testnet.Lvsadm(t)
	var all strings.Builder
	for _, tc := range roundTrips {
		all.WriteString(tc.rules)
	}
	rules := all.String()
	want := expected(t, rules)
	if strings.Count(want, "\n") != strings.Count(rules, "\n") {
		t.Fatalf("the reference made a table of another size of the rules:\n%s", want)
	}
	ns := testnet.NewNS(t)
	file := writeFile(t, "all.rules", rules)
	if r := run(t, ns, "", lvsadm, "plan", "-f", file); r.code != 2 {
		t.Errorf("plan on an empty table: status %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := run(t, ns, "", lvsadm, "apply", "-f", file)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("apply: status %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := saved(t, ns); got != want {
		t.Fatalf("ipvsadm -Sn after apply:\n%s\nwant (the reference's own restore):\n%s", got, want)
	}
	checkNoOp(t, ns, lvsadm, file)

	for _, format := range []string{"rules", "yaml", "json"} {
		r := run(t, ns, "", lvsadm, "export", "-o", format)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("export -o %s: status %d\n%s", format, r.code, r.stderr)
		}
		if format == "rules" && r.stdout != want {
			t.Errorf("export -o rules:\n%s\nwant ipvsadm -Sn:\n%s", r.stdout, want)
		}
		exported := writeFile(t, "export."+format, r.stdout)
		checkNoOp(t, ns, lvsadm, exported)
		if format != "yaml" {
			continue
		}
		fresh := testnet.NewNS(t)
		if r := run(t, fresh, "", lvsadm, "apply", "-f", exported); r.code != 0 {
			t.Errorf("the YAML export applied to an empty namespace: status %d\n%s%s", r.code, r.stdout, r.stderr)
		} else if got := saved(t, fresh); got != want {
			t.Errorf("the YAML export applied to an empty namespace made:\n%s\nwant:\n%s\nexport:\n%s", got, want, r.stdout)
		}
	}
}

// TestIntegrationApplyFaultRollsBack: a file whose 500th real server the
// kernel refuses (a multicast address, which the parser accepts as ipvsadm
// does), or whose service holding it has a scheduler the kernel lacks,
// leaves the kernel's table as it was, and apply exits 1 naming the line.
func TestIntegrationApplyFaultRollsBack(t *testing.T) {
	testnet.NeedIPVS(t, "ip_vs_rr")
	lvsadm := testnet.Lvsadm(t)
	ns := testnet.NewNS(t)
	var base strings.Builder
	for s := range 20 {
		fmt.Fprintf(&base, "-A -t 192.0.2.%d:80 -s rr\n", s+1)
		for d := range 5 {
			fmt.Fprintf(&base, "-a -t 192.0.2.%d:80 -r 198.51.100.%d:80 -m -w 1\n", s+1, d+1)
		}
	}
	if r := run(t, ns, base.String(), testnet.Reference, "-R"); r.code != 0 {
		t.Fatalf("ipvsadm -R: %s", r.stderr)
	}
	before := saved(t, ns)

	// The file edits every base server's weight, then adds 100 services of
	// 10 servers. Real server number 500 of the file is the 400th new one:
	// service 39's last. badServer replaces its address, badScheduler
	// service 39's scheduler.
	file := func(badServer, badScheduler string) (text string, badLine int) {
		var b strings.Builder
		b.WriteString(strings.ReplaceAll(base.String(), "-w 1\n", "-w 2\n"))
		line := strings.Count(b.String(), "\n")
		for s := range 100 {
			sched := "rr"
			if s == 39 && badScheduler != "" {
				sched, badLine = badScheduler, line+1
			}
			fmt.Fprintf(&b, "-A -t 203.0.113.%d:80 -s %s\n", s+1, sched)
			line++
			for d := range 10 {
				addr := fmt.Sprintf("198.18.%d.%d", s, d+1)
				if s == 39 && d == 9 && badServer != "" {
					addr, badLine = badServer, line+1
				}
				fmt.Fprintf(&b, "-a -t 203.0.113.%d:80 -r %s:80 -m -w 1\n", s+1, addr)
				line++
			}
		}
		if n := strings.Count(b.String(), "-a "); n != 1100 {
			t.Fatalf("the file has %d real servers", n)
		}
		return b.String(), badLine
	}
	for _, tc := range []struct{ name, server, scheduler, reason string }{
		{"multicast server", "224.0.0.5", "", "224.0.0.5"},
		{"unknown scheduler", "", "nosuch", "scheduler or persistence engine not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, badLine := file(tc.server, tc.scheduler)
			path := writeFile(t, "fault.rules", text)
			r := run(t, ns, "", lvsadm, "apply", "-f", path)
			prefix := fmt.Sprintf("lvsadm: %s:%d: ", path, badLine)
			if r.code != 1 || !strings.HasPrefix(r.stderr, prefix) || !strings.Contains(r.stderr, tc.reason) ||
				!strings.Contains(r.stderr, "undone") {
				t.Errorf("apply: status %d, stderr:\n%s\nwant status 1, starting %q, naming %q and saying it was undone", r.code, r.stderr, prefix, tc.reason)
			}
			if after := saved(t, ns); after != before {
				t.Errorf("the kernel's table changed:\nbefore:\n%.3000s\nafter:\n%.3000s", before, after)
			}
		})
	}
}

// TestIntegrationApplyBadInput: files with mistakes are refused with the
// file's name and line and exit 1, before anything is sent.
func TestIntegrationApplyBadInput(t *testing.T) {
	testnet.NeedIPVS(t, "ip_vs_rr")
	lvsadm := testnet.Lvsadm(t)
	ns := testnet.NewNS(t)
	if r := run(t, ns, "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n", testnet.Reference, "-R"); r.code != 0 {
		t.Fatalf("ipvsadm -R: %s", r.stderr)
	}
	before := saved(t, ns)
	const yamlHead = "schema_version: 1\nservices:\n  - protocol: tcp\n    address: 192.0.2.1\n"
	for _, tc := range []struct {
		name, text string
		line       string // FILE:LINE[:COLUMN] without the file
		message    string
	}{
		{"malformed.yaml", "schema_version: 1\nservices:\n  - protocol: tcp\n    address: \"192.0.2.1\n    port: 80\n",
			"4", "found unexpected end of stream"},
		{"unknown-key.yaml", yamlHead + "    port: 80\n    real_servers:\n      - address: 198.51.100.1\n        wieght: 2\n",
			"8:9", `unknown key "wieght" in real server (did you mean "weight"?)`},
		{"duplicate.yaml", yamlHead + "    port: 80\n  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n",
			"6:5", "service -t 192.0.2.1:80 is already defined at"},
		{"duplicate.rules", "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m\n-A -t 192.0.2.1:80 -s wrr\n",
			"3", "service -t 192.0.2.1:80 is already defined at"},
		{"duplicate-server.rules", "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m\n-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m -w 2\n",
			"3", "real server 198.51.100.2:80 of service -t 192.0.2.1:80 is already defined at"},
		{"address.yaml", yamlHead + "    port: 80\n    real_servers:\n      - address: 198.51.100.300\n",
			"7:18", `want an IPv4 or IPv6 address, got "198.51.100.300"`},
		{"address.rules", "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.300:80 -m\n",
			"2", "illegal real server address[:port] specified"},
		{"weight.rules", "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.3:80 -m -w 2147483648\n",
			"2", "illegal weight specified"},
		{"command.rules", "-A -t 192.0.2.1:80 -s rr\n-D -t 192.0.2.1:80\n",
			"2", "only -A and -a lines describe a table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.name, tc.text)
			for _, cmd := range []string{"plan", "apply"} {
				r := run(t, ns, "", lvsadm, cmd, "-f", path)
				prefix := "lvsadm: " + path + ":" + tc.line + ": "
				if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, prefix) || !strings.Contains(r.stderr, tc.message) {
					t.Errorf("%s: status %d, stdout %q, stderr:\n%s\nwant status 1, nothing on stdout, %q and %q", cmd, r.code, r.stdout, r.stderr, prefix, tc.message)
				}
			}
		})
	}
	// Nothing removes what a case might have changed: one look suffices.
	if after := saved(t, ns); after != before {
		t.Errorf("the kernel's table changed:\n%s\nwant:\n%s", after, before)
	}
}
