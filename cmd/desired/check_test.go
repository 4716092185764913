package desired

import (
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/ipvs"
)

const checkedYAML = `schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.10
    port: 80
    scheduler: wrr
    health_check:
      type: http
      interval: 2s
      timeout: 1
      fall: 2
      path: /healthz
      status: [200, "300-302"]
      body: "^ok"
    quorum: 3
    hysteresis: 1
    sorry_server: {address: 198.51.100.99, method: nat, port: 8080}
    real_servers:
      - {address: 198.51.100.1, method: nat, port: 80, weight: 2}
      - address: 198.51.100.2
        method: nat
        port: 80
        health_check: {path: /other, rise: 1, on_failure: remove, initial_state: down}
  - protocol: udp
    address: 192.0.2.11
    port: 53
    real_servers:
      - address: 198.51.100.3
        health_check:
          type: exec
          command: [/usr/local/bin/check-dns, --fast, 5]
          dynamic_weight: false
          connect_to: {port: 5353}
`

// TestChecks: a service's health_check is the default of its real
// servers, overridden key by key; defaults fill the rest.
func TestChecks(t *testing.T) {
	tbl, err := Parse("t.yaml", []byte(checkedYAML), "", compat.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	base := Check{Type: CheckHTTP, Interval: 2 * time.Second, Timeout: time.Second, RetryInterval: 2 * time.Second,
		Warmup: 2 * time.Second, Rise: DefaultRise, Fall: 2, Method: "GET", Path: "/healthz",
		Status: []StatusRange{{200, 200}, {300, 302}}, Body: regexp.MustCompile("^ok"), DynamicWeight: true,
		OnFailure: OnFailureQuiesce, InitialUp: true}
	other := base
	other.Path, other.Rise, other.OnFailure, other.InitialUp = "/other", 1, OnFailureRemove, false
	exec := Check{Type: CheckExec, Interval: DefaultInterval, Timeout: DefaultTimeout, RetryInterval: DefaultInterval,
		Warmup: DefaultInterval, Rise: DefaultRise, Fall: DefaultFall, Method: "GET", Path: "/",
		Status: []StatusRange{{200, 299}}, Command: []string{"/usr/local/bin/check-dns", "--fast", "5"},
		ConnectPort: 5353, OnFailure: OnFailureQuiesce, InitialUp: true}
	regexpEqual := cmp.Comparer(func(a, b *regexp.Regexp) bool {
		return (a == nil) == (b == nil) && (a == nil || a.String() == b.String())
	})
	for _, tt := range []struct {
		name string
		got  *Check
		want *Check
	}{
		{"first", tbl.Services[0].Servers[0].Check, &base},
		{"second", tbl.Services[0].Servers[1].Check, &other},
		{"exec", tbl.Services[1].Servers[0].Check, &exec},
	} {
		if diff := cmp.Diff(tt.want, tt.got, regexpEqual, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	s := tbl.Services[0]
	if s.Quorum != 3 || s.Hysteresis != 1 || s.SorryServer == nil || s.SorryServer.Addr != netip.MustParseAddr("198.51.100.99") ||
		s.SorryServer.Port != 8080 || s.SorryServer.ForwardMethod != ipvs.Masquerade || s.SorryServer.Check != nil {
		t.Errorf("quorum %d, hysteresis %d, sorry server %+v", s.Quorum, s.Hysteresis, s.SorryServer)
	}
}

func TestCheckErrors(t *testing.T) {
	head := "schema_version: 1\nservices:\n  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n"
	for _, tt := range []struct{ text, want string }{
		{head + "    health_check: {interval: 5s}\n    real_servers: [{address: 198.51.100.1}]\n",
			"t.yaml:7:20: health_check: type missing (tcp, http, https, udp, exec or none)"},
		{head + "    health_check: {type: smtp}\n", `t.yaml:6:26: health_check type: want one of tcp, http, https, udp, exec, none, got "smtp"`},
		{head + "    health_check: {type: tcp, intervall: 5s}\n", `t.yaml:6:31: unknown key "intervall" in health_check (did you mean "interval"?)`},
		{head + "    health_check: {type: tcp, interval: fast}\n", `t.yaml:6:41: interval: want a duration (5s, 1.5s, 2m) or whole seconds, got "fast"`},
		{head + "    health_check: {type: http, status: [700]}\n", `t.yaml:6:41: status: want a status code (100-599) or a range such as "200-299", got "700"`},
		{head + "    health_check: {type: http, body: \"(\"}\n", "t.yaml:6:38: body: error parsing regexp: missing closing ): `(`"},
		{head + "    real_servers: [{address: 198.51.100.1, health_check: {type: exec}}]\n", "t.yaml:6:20: health_check: type exec needs a command"},
		{head + "    sorry_server: {address: 198.51.100.9, health_check: {type: tcp}}\n", "t.yaml:6:43: a sorry server is not checked: it has no health_check"},
	} {
		_, err := Parse("t.yaml", []byte(tt.text), "", compat.Parser{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q:\n got %v\nwant %s", tt.text, err, tt.want)
		}
	}
}
