package desired

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lvsadm/lvsadm/cmd/compat"
)

// ignoreSources compares tables by content only.
var ignoreSources = cmp.Options{cmpopts.IgnoreTypes(Source{}), cmpopts.EquateComparable(netip.Addr{})}

// sampleRules is one table in ipvsadm rules, touching every feature.
const sampleRules = `# a comment, then a blank line

-A -t 192.0.2.10:80 -s wrr
-a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 3
-a -t 192.0.2.10:80 -r 198.51.100.2:8080 -m -w 0 -x 100 -y 10
-A -u 192.0.2.11:53 -s sh -p 600 -M 255.255.255.0 -o -b sh-fallback,sh-port
-a -u 192.0.2.11:53 -r 198.51.100.3:53 -g -w 1
-A --sctp-service [2001:db8::10]:3868 -s mh -b mh-port
-a --sctp-service [2001:db8::10]:3868 -r [2001:db8::20]:3868 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum
-a --sctp-service [2001:db8::10]:3868 -r 198.51.100.4:3868 -i -w 1 --tun-type gre --tun-csum
-A -f 7 -6 -s rr -p 60 -M 64 --pe sip
-a -f 7 -6 -r [2001:db8::30]:0 -g -w 5
-A -f 8 -s lc -b flag-3
ipvsadm -A -t 192.0.2.12:0 -s wlc -p
`

// sampleYAML is sampleRules in lvsadm's format.
const sampleYAML = `schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.10
    port: 80
    scheduler: wrr
    real_servers:
      - {address: 198.51.100.1, port: 8080, method: nat, weight: 3}
      - address: 198.51.100.2
        port: 8080
        method: nat
        weight: 0
        upper_threshold: 100
        lower_threshold: 10
  - protocol: udp
    address: 192.0.2.11
    port: 53
    scheduler: sh
    scheduler_flags: [sh-fallback, sh-port]
    persistent: 600
    netmask: 255.255.255.0
    one_packet: true
    real_servers:
      - address: 198.51.100.3
  - protocol: sctp
    address: "2001:db8::10"
    port: 3868
    scheduler: mh
    scheduler_flags: [mh-port]
    real_servers:
      - address: "2001:db8::20"
        method: tunnel
        weight: 2
        tunnel: {type: gue, port: 6080, checksum: csum}
      - address: 198.51.100.4
        method: tunnel
        tunnel: {type: gre, checksum: csum}
  - fwmark: 7
    family: ipv6
    scheduler: rr
    persistent: 60
    netmask: 64
    persistence_engine: sip
    real_servers:
      - {address: "2001:db8::30", port: 0, weight: 5}
  - fwmark: 8
    scheduler: lc
    scheduler_flags: [flag-3]
  - protocol: tcp
    address: 192.0.2.12
    port: 0
    persistent: true
`

// sampleJSON is the same again, in JSON.
const sampleJSON = `{"schema_version": 1, "services": [
 {"protocol": "tcp", "address": "192.0.2.10", "port": 80, "scheduler": "wrr", "real_servers": [
   {"address": "198.51.100.1", "port": 8080, "method": "nat", "weight": 3},
   {"address": "198.51.100.2", "port": 8080, "method": "nat", "weight": 0, "upper_threshold": 100, "lower_threshold": 10}]},
 {"protocol": "udp", "address": "192.0.2.11", "port": 53, "scheduler": "sh", "scheduler_flags": ["sh-fallback", "sh-port"],
  "persistent": 600, "netmask": "255.255.255.0", "one_packet": true, "real_servers": [{"address": "198.51.100.3"}]},
 {"protocol": "sctp", "address": "2001:db8::10", "port": 3868, "scheduler": "mh", "scheduler_flags": ["mh-port"], "real_servers": [
   {"address": "2001:db8::20", "method": "tunnel", "weight": 2, "tunnel": {"type": "gue", "port": 6080, "checksum": "csum"}},
   {"address": "198.51.100.4", "method": "tunnel", "tunnel": {"type": "gre", "checksum": "csum"}}]},
 {"fwmark": 7, "family": "ipv6", "scheduler": "rr", "persistent": 60, "netmask": 64, "persistence_engine": "sip",
  "real_servers": [{"address": "2001:db8::30", "port": 0, "weight": 5}]},
 {"fwmark": 8, "scheduler": "lc", "scheduler_flags": ["flag-3"]},
 {"protocol": "tcp", "address": "192.0.2.12", "port": 0, "persistent": true}
]}
`

func parse(t *testing.T, name, text string) *Table {
	t.Helper()
	tbl, err := Parse(name, []byte(text), "", compat.Parser{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tbl
}

// TestFormatsAgree: the same table written as rules, YAML and JSON reads
// as the same services and servers, as ipvsadm would send them.
func TestFormatsAgree(t *testing.T) {
	rules := parse(t, "t.rules", sampleRules)
	if len(rules.Services) != 6 {
		t.Fatalf("%d services from the rules, want 6", len(rules.Services))
	}
	for name, text := range map[string]string{"t.yaml": sampleYAML, "t.json": sampleJSON} {
		if diff := cmp.Diff(rules, parse(t, name, text), ignoreSources); diff != "" {
			t.Errorf("%s differs from the rules (-rules +%s):\n%s", name, name, diff)
		}
	}
}

// TestWriteReadsBack: what the format writes reads back as the same table,
// in YAML and in JSON.
func TestWriteReadsBack(t *testing.T) {
	want := parse(t, "t.rules", sampleRules)
	for _, marshal := range []func(any) ([]byte, error){MarshalYAML, MarshalJSON} {
		b, err := marshal(TableFile(want))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseConfig("written", b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if diff := cmp.Diff(want, got, ignoreSources); diff != "" {
			t.Errorf("written and read back (-want +got):\n%s\n%s", diff, b)
		}
	}
}

func TestSources(t *testing.T) {
	tbl := parse(t, "t.yaml", sampleYAML)
	if got := tbl.Services[0].Servers[1].Source.String(); got != "t.yaml:9:9" {
		t.Errorf("second real server at %s, want t.yaml:9:9", got)
	}
	tbl = parse(t, "t.rules", sampleRules)
	if got := tbl.Services[2].Servers[0].Source.String(); got != "t.rules:9" {
		t.Errorf("-a line at %s, want t.rules:9", got)
	}
}

// TestRulesServersInAnyOrder: real servers may come in any order after
// their services' -A lines; each service keeps its own in file order.
func TestRulesServersInAnyOrder(t *testing.T) {
	grouped := `-A -t 192.0.2.10:80 -s rr
-a -t 192.0.2.10:80 -r 198.51.100.1:80 -m
-a -t 192.0.2.10:80 -r 198.51.100.2:80 -m
-A -t 192.0.2.11:80 -s rr
-a -t 192.0.2.11:80 -r 198.51.100.3:80 -m
-a -t 192.0.2.11:80 -r 198.51.100.4:80 -m
`
	interleaved := `-A -t 192.0.2.10:80 -s rr
-A -t 192.0.2.11:80 -s rr
-a -t 192.0.2.11:80 -r 198.51.100.3:80 -m
-a -t 192.0.2.10:80 -r 198.51.100.1:80 -m
-a -t 192.0.2.11:80 -r 198.51.100.4:80 -m
-a -t 192.0.2.10:80 -r 198.51.100.2:80 -m
`
	want, got := parse(t, "grouped", grouped), parse(t, "interleaved", interleaved)
	if diff := cmp.Diff(want, got, ignoreSources); diff != "" {
		t.Errorf("interleaved servers read differently (-grouped +interleaved):\n%s", diff)
	}
	var lines []int
	for _, svc := range got.Services {
		for _, s := range svc.Servers {
			lines = append(lines, s.Source.Line)
		}
	}
	if want := []int{4, 6, 3, 5}; !slices.Equal(lines, want) {
		t.Errorf("servers from lines %v, want %v", lines, want)
	}
	// A service's list is its own: appending to one leaves the next alone.
	got.Services[0].Servers = append(got.Services[0].Servers, Server{})
	if a := got.Services[1].Servers[0].Addr; a != netip.MustParseAddr("198.51.100.3") {
		t.Errorf("appending to the first service's servers changed the second's to %v", a)
	}
}

func TestDetect(t *testing.T) {
	for text, want := range map[string]Format{
		sampleRules:                       Rules,
		sampleYAML:                        YAML,
		sampleJSON:                        JSON,
		"":                                YAML,
		"# only a comment\n":              YAML,
		"  ipvsadm -A -t 192.0.2.1:80\n":  Rules,
		"--add-service -t 192.0.2.1:80\n": Rules,
		"- protocol: tcp\n":               YAML,
		"\n\n  {\"schema_version\": 1}\n": JSON,
	} {
		if got := Detect([]byte(text)); got != want {
			t.Errorf("Detect(%q) = %s, want %s", text, got, want)
		}
	}
}

// TestDuplicateServerInLargeService: a service with many real servers is
// checked another way (a map); a duplicate is still named, with the first.
func TestDuplicateServerInLargeService(t *testing.T) {
	var b strings.Builder
	b.WriteString("-A -t 192.0.2.1:80\n")
	for i := range 40 {
		fmt.Fprintf(&b, "-a -t 192.0.2.1:80 -r 198.51.100.%d\n", i+1)
	}
	b.WriteString("-a -t 192.0.2.1:80 -r 198.51.100.7 -w 3\n")
	_, err := Parse("t.rules", []byte(b.String()), "", compat.Parser{})
	want := "t.rules:42: real server 198.51.100.7:80 of service -t 192.0.2.1:80 is already defined at t.rules:8"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestBadInput: every problem is named with its place in the file.
func TestBadInput(t *testing.T) {
	const head = "schema_version: 1\nservices:\n"
	for _, tt := range []struct{ name, text, want string }{
		{"t.rules", "-A -t 192.0.2.1:80\n-A -t 192.0.2.1:0\n", "t.rules:2: Zero port specified for non-persistent service"},
		{"t.rules", "-A -t 192.0.2.1:80\n-A -t 192.0.2.1:80 -s rr\n", "t.rules:2: service -t 192.0.2.1:80 is already defined at t.rules:1"},
		{"t.rules", "-a -t 192.0.2.1:80 -r 198.51.100.1\n", "t.rules:1: real server for service -t 192.0.2.1:80, which no -A line before it defines"},
		{"t.rules", "-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1\n-a -t 192.0.2.1:80 -r 198.51.100.1 -w 2\n",
			"t.rules:3: real server 198.51.100.1:80 of service -t 192.0.2.1:80 is already defined at t.rules:2"},
		{"t.rules", "-C\n", "t.rules:1: only -A and -a lines describe a table; this line is flush"},
		{"t.rules", "-A -t 192.0.2.1:80 --bogus\n", "t.rules:1: --bogus: unknown option"},
		{"t.rules", "-A -t 256.0.0.1:80\n", "t.rules:1: illegal virtual server address[:port] specified"},
		{"t.yaml", "schema_version: 1\nservices:\n  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n    schedular: rr\n",
			`t.yaml:6:5: unknown key "schedular" in service (did you mean "scheduler"?)`},
		{"t.yaml", "services: []\n", "t.yaml:1:1: schema_version is missing (this lvsadm reads version 1)"},
		{"t.yaml", "schema_version: 2\nservices: []\n", "t.yaml:1:17: schema_version 2: this lvsadm reads version 1"},
		{"t.yaml", head + "  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n    port: 81\n", `t.yaml:6:5: service: key "port" given twice (first at line 5)`},
		{"t.yaml", head + "  - protocol: tcp\n    address: 192.0.2.300\n    port: 80\n", `t.yaml:4:14: address: want an IPv4 or IPv6 address, got "192.0.2.300"`},
		{"t.yaml", head + "  - protocol: tcp\n    address: 192.0.2.1\n    port: 70000\n", "t.yaml:5:11: port: want a whole number from 0 to 65535, got 70000"},
		{"t.yaml", head + "  - protocol: tcp\n    address: 192.0.2.1\n    port: eighty\n", `t.yaml:5:11: port: want a whole number, got "eighty"`},
		{"t.yaml", head + "  - protocol: tcp\n    address: 192.0.2.1\n", "t.yaml:3:5: service: port missing (a service has protocol, address and port, or fwmark)"},
		{"t.yaml", head + "  - protocol: tcp\n    address: 192.0.2.1\n    port: 0\n", "t.yaml:3:5: Zero port specified for non-persistent service (as ipvsadm -A -t 192.0.2.1:0)"},
		{"t.yaml", head + "  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n    scheduler: xx\n  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n",
			"t.yaml:7:5: service -t 192.0.2.1:80 is already defined at t.yaml:3:5"},
		{"t.yaml", head + "  - fwmark: 1\n    real_servers:\n      - address: 198.51.100.1\n        method: bridge\n",
			`t.yaml:6:17: method: want one of dr, nat, tunnel, got "bridge"`},
		{"t.yaml", head + "  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n    real_servers:\n      - address: 198.51.100.1\n        port: 8080\n",
			"t.yaml:8:15: port 8080: with method dr the real server gets the service's port (80); leave port out"},
		{"t.yaml", head + "  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n    real_servers:\n      - address: 198.51.100.1\n        tunnel: {type: gue}\n",
			"t.yaml:8:9: tunnel settings need method tunnel"},
		{"t.yaml", head + "  - protocol: tcp\n    address: [192.0.2.1]\n    port: 80\n", "t.yaml:4:14: address: want a string, got a list"},
		{"t.yaml", "schema_version: 1\nservices: a: b\n", "t.yaml:2: mapping values are not allowed in this context"},
		{"t.json", `{"schema_version": 1, "services": [{"protocol": "tcp", "address": "192.0.2.1", "port": 80, "bogus": 1}]}`,
			`t.json:1:92: unknown key "bogus" in service (known keys: protocol, address, port, fwmark, family, scheduler, scheduler_flags, persistent, netmask, persistence_engine, one_packet, health_check, quorum, hysteresis, sorry_server, real_servers)`},
	} {
		_, err := Parse(tt.name, []byte(tt.text), "", compat.Parser{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s %q:\n got %v\nwant %s", tt.name, tt.text, err, tt.want)
		}
	}
}

// TestManyErrorsAreCapped: a file full of mistakes reports the first
// maxErrors of them, one per line.
func TestManyErrorsAreCapped(t *testing.T) {
	text := strings.Repeat("-A -t 192.0.2.1:0\n", 100)
	_, err := ParseRules("t.rules", strings.NewReader(text), compat.Parser{})
	if err == nil {
		t.Fatal("no error")
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != maxErrors {
		t.Errorf("%d errors reported, want %d", n, maxErrors)
	}
}

// TestDetectYAMLDocumentStart: YAML's document marker is not an option.
func TestDetectYAMLDocumentStart(t *testing.T) {
	for _, text := range []string{"---\nschema_version: 1\nservices: []\n", "--- # lvs\nschema_version: 1\n"} {
		if got := Detect([]byte(text)); got != YAML {
			t.Errorf("Detect(%q) = %s, want yaml", text, got)
		}
	}
}

// TestStrictConfigValues: the format takes each value in one spelling,
// where ipvsadm's options take several: a dotted IPv4 netmask and an IPv6
// prefix length, one scheduler flag per list item, a scheduler name that
// fits the kernel's 15 bytes.
func TestStrictConfigValues(t *testing.T) {
	head := "schema_version: 1\nservices:\n"
	for _, tt := range []struct{ text, want string }{
		{head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, persistent: 60, netmask: 24}\n",
			"t.yaml:3:76: netmask: want a dotted mask such as 255.255.255.0 for an IPv4 service, got 24"},
		{head + "  - {protocol: tcp, address: \"2001:db8::1\", port: 80, persistent: 60, netmask: \"64\"}\n",
			`t.yaml:3:80: netmask: want a prefix length from 1 to 128 for an IPv6 service, got "64"`},
		{head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler: sh, scheduler_flags: [\"sh-port,sh-fallback\"]}\n",
			`t.yaml:3:84: scheduler_flags: want one flag per item, got "sh-port,sh-fallback"`},
		{head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler_flags: [\"\"]}\n",
			`t.yaml:3:69: scheduler_flags: want one flag per item, got ""`},
		{head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler: \"\"}\n",
			`t.yaml:3:62: scheduler: want a name of 1 to 15 bytes, got ""`},
		{head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler: abcdefghijklmnop}\n",
			`t.yaml:3:62: scheduler: want a name of 1 to 15 bytes, got "abcdefghijklmnop"`},
	} {
		_, err := ParseConfig("t.yaml", []byte(tt.text))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q:\n got %v\nwant %s", tt.text, err, tt.want)
		}
	}
}
