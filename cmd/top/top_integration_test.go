//go:build integration && linux

package top

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// TestIntegrationOnceRates: during real NAT traffic through IPVS, lvsadm top
// --once shows the real server that got it at the rate of the connections
// made between its two reads, and zero for the server at weight 0 and for
// a service nobody used.
func TestIntegrationOnceRates(t *testing.T) {
	testnet.NeedIPVS(t, "ip_vs_wrr")
	c := testnet.NewCluster(t, "nat")
	vip := c.VIP + ":80"
	c.Lvsadm(t, "-A", "-t", vip, "-s", "wrr")
	c.Lvsadm(t, "-a", "-t", vip, "-r", c.RSAddr[0]+":80", "-m", "-w", "1")
	c.Lvsadm(t, "-a", "-t", vip, "-r", c.RSAddr[1]+":80", "-m", "-w", "0")
	idle := c.VIP + ":8080"
	c.Lvsadm(t, "-A", "-t", idle, "-s", "rr")
	c.Lvsadm(t, "-a", "-t", idle, "-r", c.RSAddr[1]+":80", "-m")

	const interval, conns = 5 * time.Second, 6
	var out, errb bytes.Buffer
	top := exec.Command("ip", "netns", "exec", c.Director, testnet.Lvsadm(t), "top", "--once", "--interval", interval.String(), "--status-url", "")
	top.Stdout, top.Stderr = &out, &errb
	start := time.Now()
	if err := top.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // its first read is done by then
	got := c.Fetch(conns)
	if took := time.Since(start); took > interval-500*time.Millisecond {
		t.Fatalf("the %d connections took until %v after top started, too close to its second read at %v", conns, took, interval)
	}
	if err := top.Wait(); err != nil {
		t.Fatalf("lvsadm top --once: %v\n%s", err, errb.String())
	}
	if got["rs1"] != conns {
		t.Fatalf("answers %v, want %d from rs1", got, conns)
	}
	t.Logf("lvsadm top --once:\n%s", out.String())

	rates := map[string][]float64{} // by service, and real server under it
	var header, service string
	for i, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if i == 0 {
			header = strings.Join(strings.Fields(l), " ")
			continue
		}
		f := strings.Fields(l)
		name := strings.Join(f[:len(f)-6], " ")
		if f[0] == "->" {
			name = service + " " + name
		} else {
			service = name
		}
		for _, s := range f[len(f)-3:] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("line %q: rate %q", l, s)
			}
			rates[name] = append(rates[name], v)
		}
	}
	if header != "SERVICE / REAL SERVER WEIGHT ACTIVE INACT CONN/S PKT/S BYTES/S" {
		t.Errorf("header %q", header)
	}
	svc, idleSvc := "TCP "+vip+" wrr", "TCP "+idle+" rr"
	busy := []string{svc, svc + " -> " + c.RSAddr[0] + ":80 Masq"}
	for _, name := range busy {
		r := rates[name]
		// Exactly conns connections between two reads at least interval
		// apart (and not much more), printed to one decimal.
		if len(r) != 3 || r[0] > conns/interval.Seconds()+0.05 || r[0] < conns/(interval.Seconds()+1) || r[1] <= r[0] || r[2] <= r[1] {
			t.Errorf("%s: rates %v, want %d connections over about %v with packets and bytes", name, r, conns, interval)
		}
	}
	for _, name := range []string{svc + " -> " + c.RSAddr[1] + ":80 Masq", idleSvc, idleSvc + " -> " + c.RSAddr[1] + ":80 Masq"} {
		if r := rates[name]; len(r) != 3 || r[0] != 0 || r[1] != 0 || r[2] != 0 {
			t.Errorf("%s: rates %v, want 0 0 0", name, r)
		}
	}
	if len(rates) != 5 {
		t.Errorf("%d rows, want 5: %v", len(rates), rates)
	}
}
