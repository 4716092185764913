package daemon

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
)

const quorumYAML = `schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.10
    port: 80
    scheduler: wrr
    health_check: {type: tcp}
    quorum: 3
    hysteresis: 1
    sorry_server: {address: 198.51.100.99, port: 80, method: nat}
    real_servers:
      - {address: 198.51.100.1, port: 80, method: nat, weight: 1}
      - {address: 198.51.100.2, port: 80, method: nat, weight: 3}
      - {address: 198.51.100.3, port: 80, method: nat, weight: 2, health_check: {on_failure: remove}}
`

func weights(t *desired.Table) string {
	var parts []string
	for _, r := range t.Services[0].Servers {
		parts = append(parts, fmt.Sprintf("%s=%d", r.Addr, r.Weight))
	}
	return strings.Join(parts, " ")
}

// TestEffective: quiesced and removed failures, and the sorry server
// coming and going with hysteresis.
func TestEffective(t *testing.T) {
	tbl, err := desired.Parse("q.yaml", []byte(quorumYAML), "", compat.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	s := &tbl.Services[0]
	id := func(i int) serverID { return idOf(s, &s.Servers[i]) }
	states := map[serverID]serverHealth{}
	quorums := map[ipvs.ServiceKey]*quorumState{}
	seven := uint32(7)
	for _, step := range []struct {
		name string
		set  map[int]serverHealth
		want string
	}{
		{"all up (initial state)", nil, "198.51.100.1=1 198.51.100.2=3 198.51.100.3=2"},
		{"1 down: quiesced", map[int]serverHealth{0: {up: false}}, "198.51.100.1=0 198.51.100.2=3 198.51.100.3=2"},
		{"3 down: removed; live 3, quorum 3 kept", map[int]serverHealth{2: {up: false}}, "198.51.100.1=0 198.51.100.2=3"},
		{"2 down: live 0 < 3-1: sorry server", map[int]serverHealth{1: {up: false}}, "198.51.100.1=0 198.51.100.2=0 198.51.100.99=1"},
		{"2 up: live 3 < 3+1: sorry server stays", map[int]serverHealth{1: {up: true}}, "198.51.100.1=0 198.51.100.2=3 198.51.100.99=1"},
		{"1 up with weight 7: live 10: sorry server goes", map[int]serverHealth{0: {up: true, weight: &seven}}, "198.51.100.1=7 198.51.100.2=3"},
	} {
		for i, h := range step.set {
			states[id(i)] = h
		}
		if got := weights(effective(tbl, states, quorums)); got != step.want {
			t.Errorf("%s: %s, want %s", step.name, got, step.want)
		}
	}
}
