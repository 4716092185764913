//go:build integration && linux

package daemon

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// viaVIPYAML is the DR or TUN cluster's service with weights 1 and 3 and
// an http check, through the VIP if via.
func viaVIPYAML(c *testnet.Cluster, via bool) string {
	method := map[string]string{"dr": "dr", "tun": "tunnel"}[c.Mode]
	return fmt.Sprintf(`schema_version: 1
services:
  - protocol: tcp
    address: %s
    port: 80
    scheduler: wrr
    health_check: {type: http, via_vip: %v, interval: %v, timeout: %v, rise: %d, fall: %d, warmup: 50ms}
    real_servers:
      - {address: %s, port: 80, method: %s, weight: 1}
      - {address: %s, port: 80, method: %s, weight: 3}
`, c.VIP, via, checkInterval, checkTimeout, checkRise, checkFall, c.RSAddr[0], method, c.RSAddr[1], method)
}

// TestIntegrationViaVIP: on a DR and on a TUN cluster whose second real
// server has lost the VIP (it answers on its own address, but drops the
// packets clients send it through the director), a check of its address
// keeps it up, while a via_vip check, sent to the VIP through IPVS's
// direct routing or tunnel, takes it out, so that clients reach only the
// first server; with the VIP back it is up again. Without accept_local on
// the director, lvsadm run refuses the via_vip file and changes nothing.
func TestIntegrationViaVIP(t *testing.T) {
	testnet.NeedIPVS(t)
	for _, mode := range []string{"dr", "tun"} {
		t.Run(mode, func(t *testing.T) { testViaVIP(t, mode) })
	}
}

func testViaVIP(t *testing.T, mode string) {
	c := testnet.NewCluster(t, mode)
	dir := t.TempDir()
	rs1, rs2 := c.RSAddr[0], c.RSAddr[1]
	c.RealServerDown(t, 1)
	k := newKernel(t, c.Director, c.VIP, 80)
	via := writeFile(t, dir, "via.yaml", viaVIPYAML(c, true))

	before := reference(t, c.Director, "-Sn")
	out, err := testnet.Exec(c.Director, testnet.Lvsadm(t), "run", "-f", via, "--listen", "")
	if err == nil || !strings.Contains(out, via+":9:9: via_vip check of "+rs1) || !strings.Contains(out, "set net.ipv4.conf.eth0.accept_local=1") {
		t.Errorf("lvsadm run without accept_local: %v, want a refusal naming the file's line and accept_local:\n%s", err, out)
	}
	if diff := cmp.Diff(before, reference(t, c.Director, "-Sn")); diff != "" {
		t.Errorf("ipvsadm -Sn after the refusal (-want +got):\n%s", diff)
	}

	// A check of the address: rs2 stays up.
	plain := startRun(t, c.Director, writeFile(t, dir, "plain.yaml", viaVIPYAML(c, false)), listen)
	k.waitWeights(t, map[string]uint32{rs1: 1, rs2: 3}, 5*time.Second)
	time.Sleep(checkFall*checkInterval + checkTimeout + slack)
	if got := k.weights(t); fmt.Sprint(got) != fmt.Sprint(map[string]uint32{rs1: 1, rs2: 3}) {
		t.Errorf("weights with checks of the addresses %v, want rs2 still at 3", got)
	}
	plain.signal(t, syscall.SIGTERM)
	<-plain.done

	// Through the VIP: rs2 goes to weight 0.
	testnet.Run(t, c.Director, "sh", "-c", "echo 1 >/proc/sys/net/ipv4/conf/eth0/accept_local")
	d := startRun(t, c.Director, via, listen)
	took := k.waitWeights(t, map[string]uint32{rs1: 1, rs2: 0}, 10*time.Second)
	t.Logf("%s: rs2 at weight 0 %v after the via_vip daemon ran", mode, took.Round(time.Millisecond))
	if diff := cmp.Diff(map[string]int{"rs1": 4}, c.Fetch(4)); diff != "" {
		t.Errorf("answers through the VIP with rs2 out (-want +got):\n%s", diff)
	}
	method := map[string]string{"dr": "Route", "tun": "Tunnel"}[mode]
	listing := reference(t, c.Director, "-Ln")
	for i, rs := range []string{rs1, rs2} {
		want := fmt.Sprintf("FWM  %d rr\n  -> %-28s %-7s 1", DefaultViaVIPMark+i, rs+":0", method)
		if !strings.Contains(listing, want) {
			t.Errorf("ipvsadm -Ln has no %q:\n%s", want, listing)
		}
	}
	if len(d.lines("msg=health", "real_server="+rs2+":80", "state=down")) != 1 {
		t.Errorf("no log line of rs2 going down:\n%s", d.log.String())
	}

	// The VIP back on rs2: up again.
	c.RealServerUp(t, 1)
	k.waitWeights(t, map[string]uint32{rs1: 1, rs2: 3}, 10*time.Second)
	if diff := cmp.Diff(map[string]int{"rs1": 1, "rs2": 3}, c.Fetch(4)); diff != "" {
		t.Errorf("answers through the VIP with rs2 back (-want +got):\n%s", diff)
	}
}
