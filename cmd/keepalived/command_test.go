package keepalived

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/cmd/desired"
)

type result struct {
	stdout, stderr string
	err            error
}

func runImport(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := Command(strings.NewReader(stdin), &stdout, &stderr)
	c.SetArgs(args)
	c.SetOut(&stdout)
	c.SetErr(&stderr)
	err := c.Execute()
	return result{stdout.String(), stderr.String(), err}
}

// The expected outputs below were worked out by hand from keepalived's
// documentation and source (keepalived.conf(5), check/check_data.c,
// check_api.c, check_tcp.c, check_http.c, check_misc.c), not copied from
// the importer's output.

// seedDRYAML: delay_loop 6 -> interval; connect_timeout 10 -> timeout;
// nb_get_retry is not a TCP_CHECK keyword, so retry stays 1 -> fall 2;
// delay_before_retry 3 -> retry_interval; connect_port 80 is the real
// server's port; no inhibit_on_failure -> remove; persistence_timeout 0 is
// outside keepalived's range and ignored -> not persistent.
const seedDRYAML = `schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.148
    port: 80
    scheduler: rr
    health_check:
      type: tcp
      interval: 6s
      timeout: 10s
      retry_interval: 3s
      rise: 1
      fall: 2
      on_failure: remove
    real_servers:
      - address: 198.51.100.146
        port: 80
        method: dr
        weight: 1
      - address: 198.51.100.147
        port: 80
        method: dr
        weight: 1
`

const seedDRStderr = `testdata/seed-dr.conf:6: vrrp_instance VI_1 skipped: VRRP stays keepalived's job
testdata/seed-dr.conf:33: nb_get_retry not converted: keepalived reads it only in HTTP_GET and SSL_GET, and ignores it elsewhere as an unknown keyword (retry is its name everywhere)
testdata/seed-dr.conf:43: nb_get_retry not converted: keepalived reads it only in HTTP_GET and SSL_GET, and ignores it elsewhere as an unknown keyword (retry is its name everywhere)
`

// natYAML: the virtual server's delay_loop, virtualhost (the Host header;
// SNI would be the same name) and inhibit_on_failure reach both real
// servers; retry 2 -> fall 3; the second real server's alpha makes its
// check differ, so each server keeps its own. The sorry server takes the
// virtual server's NAT. UDP: keepalived's defaults delay_loop 60,
// connect_timeout 5, retry 1, delay_before_retry 1; require_reply data
// matches a reply as far as it goes.
const natYAML = `schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.10
    port: 443
    scheduler: wlc
    persistent: 300
    netmask: 255.255.255.0
    quorum: 2
    hysteresis: 1
    sorry_server:
      address: 198.51.100.99
      port: 8443
      method: nat
      weight: 1
    real_servers:
      - address: 198.51.100.1
        port: 8443
        method: nat
        weight: 3
        health_check:
          type: https
          interval: 10s
          timeout: 3s
          retry_interval: 2s
          rise: 1
          fall: 3
          path: /healthz
          host: www.example.com
          status: [200, 300-399]
          on_failure: quiesce
      - address: 198.51.100.2
        port: 8443
        method: nat
        weight: 1
        health_check:
          type: https
          interval: 10s
          timeout: 3s
          retry_interval: 2s
          rise: 1
          fall: 3
          path: /healthz
          host: www.example.com
          status: [200, 300-399]
          on_failure: quiesce
          initial_state: down
  - protocol: udp
    address: 192.0.2.10
    port: 53
    scheduler: rr
    one_packet: true
    real_servers:
      - address: 198.51.100.1
        port: 5353
        method: nat
        weight: 1
        health_check:
          type: udp
          interval: 60s
          timeout: 2s
          retry_interval: 1s
          rise: 1
          fall: 2
          send: ping
          expect: ^(?:$|p(?:$|o(?:$|n(?:$|g))))
          on_failure: remove
      - address: 198.51.100.2
        port: 53
        method: nat
        weight: 1
        health_check:
          type: udp
          interval: 60s
          timeout: 5s
          retry_interval: 1s
          rise: 1
          fall: 2
          on_failure: remove
`

const natStderr = `testdata/nat.conf:3: global_defs skipped: keepalived's global settings have no lvsadm equivalent
testdata/nat.conf:20: quorum_up not converted: lvsadm runs no notify scripts
testdata/nat.conf:30: digest not converted: lvsadm does not compare an MD5 digest of the body (a regex can check the body)
testdata/nat.conf:41: notify_down not converted: lvsadm runs no notify scripts
testdata/nat.conf:52: TCP_CHECK not converted: lvsadm runs one check per real server (the SSL_GET at line 42 is converted)
testdata/nat.conf:71: UDP_CHECK: keepalived connects to port 0 (no port on the real_server line, no connect_port); converted to check port 53
`

// fwmark6YAML: the family comes from the direct-routing real servers;
// persistence_timeout alone is 360 s; the virtual server's retry 2 is
// every checker's (MISC_CHECK's own default, 0, gives way to it);
// HTTP_GET's delay_before_retry defaults to 3 s, MISC_CHECK's to 1 s;
// misc_timeout is the exec timeout; the $CHECKS parameter is replaced
// and the quoted command split into words.
const fwmark6YAML = `schema_version: 1
services:
  - fwmark: 7
    family: ipv6
    scheduler: sh
    scheduler_flags:
      - sh-port
    persistent: 360
    real_servers:
      - address: 2001:db8::11
        port: 0
        method: dr
        weight: 1
        health_check:
          type: http
          interval: 3s
          timeout: 5s
          retry_interval: 3s
          rise: 1
          fall: 3
          warmup: 10s
          connect_to:
            port: 8080
          path: /status
          host: app.example.com
          body: (?i)ready|ok
          on_failure: remove
      - address: 2001:db8::12
        port: 0
        method: dr
        weight: 1
        health_check:
          type: exec
          interval: 3s
          timeout: 4s
          retry_interval: 1s
          rise: 1
          fall: 3
          command: [/usr/local/lib/lvs-checks/app-check, --port, "8080", a b]
          dynamic_weight: true
          on_failure: quiesce
  - protocol: tcp
    address: 2001:db8::1
    port: 443
    scheduler: wlc
    real_servers:
      - address: 2001:db8::21
        port: 443
        method: tunnel
        weight: 5
        upper_threshold: 100
        tunnel:
          type: gue
          port: 6080
          checksum: csum
`

const fwmark6Stderr = `testdata/fwmark6.conf:20: url not converted: lvsadm checks one URL per real server (the url at line 14 is converted)
testdata/fwmark6.conf:43: SMTP_CHECK not converted: lvsadm has no SMTP check
`

func TestImportFiles(t *testing.T) {
	for _, tc := range []struct{ file, yaml, stderr string }{
		{"testdata/seed-dr.conf", seedDRYAML, seedDRStderr},
		{"testdata/nat.conf", natYAML, natStderr},
		{"testdata/fwmark6.conf", fwmark6YAML, fwmark6Stderr},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := runImport(t, "", "keepalived", tc.file)
			if r.err != nil {
				t.Fatalf("import: %v\n%s", r.err, r.stderr)
			}
			if diff := cmp.Diff(tc.yaml, r.stdout); diff != "" {
				t.Errorf("YAML (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.stderr, r.stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			parseServices(t, tc.file, r.stdout)
		})
	}
}

// parseServices checks that the YAML is a file lvsadm reads, health
// checks included.
func parseServices(t *testing.T, name string, data string) *desired.Table {
	t.Helper()
	tbl, err := desired.ParseConfig(name, []byte(data))
	if err != nil {
		t.Fatalf("lvsadm's parser rejects the converted file: %v\n%s", err, data)
	}
	return tbl
}

func TestImportStdinAndErrors(t *testing.T) {
	conf := "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_kind DR\n real_server 198.51.100.1 80 {\n }\n}\n"
	r := runImport(t, conf, "keepalived", "-")
	want := "schema_version: 1\nservices:\n  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n    scheduler: wlc\n" +
		"    real_servers:\n      - address: 198.51.100.1\n        port: 80\n        method: dr\n        weight: 1\n"
	if r.err != nil || r.stdout != want || r.stderr != "" {
		t.Errorf("stdin: err %v\nstdout:\n%s\nstderr:\n%s\nwant stdout:\n%s", r.err, r.stdout, r.stderr, want)
	}

	// Malformed input: an error with file and line, exit status 1, nothing
	// on stdout.
	r = runImport(t, "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo fastest\n}\n", "keepalived", "-")
	var coded interface{ ExitCode() int }
	if r.err == nil || !errors.As(r.err, &coded) || coded.ExitCode() != 1 || r.stdout != "" {
		t.Fatalf("bad lb_algo: err %v, stdout %q", r.err, r.stdout)
	}
	if got, want := r.err.Error(), "<stdin>:3: lb_algo fastest: want one of rr, wrr, lc, wlc, lblc, sh, mh, dh, fo, ovf, lblcr, sed, nq, twos"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}

	r = runImport(t, "", "keepalived", "testdata/no-such-file.conf")
	if r.err == nil || !errors.As(r.err, &coded) || coded.ExitCode() != 1 {
		t.Errorf("missing file: err %v", r.err)
	}
	if r = runImport(t, "", "keepalived"); r.err == nil {
		t.Errorf("no FILE: no error")
	}
}
