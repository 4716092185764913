//go:build integration && linux

package top

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/cmd/daemon"
	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// TestIntegrationOnceRates: during real NAT traffic through IPVS, lvsadm top
// --once shows the real server that got it at the rate of the connections
// made between its two reads, and zero for the server at weight 0 and for
// a service nobody used; with the states of a /status document.
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

	// lvsadm run's /status as top sees it, served from the director's
	// namespace: top asks for it at the end of each read, so the first
	// request says its first read's counters are taken.
	doc := daemon.StatusDoc{SchemaVersion: 1, Services: []daemon.ServiceStatus{{Service: "-t " + vip, RealServers: []daemon.ServerStatus{
		{Address: c.RSAddr[0] + ":80", State: "up"}, {Address: c.RSAddr[1] + ":80", State: "down"}}}}}
	requests := make(chan time.Time, 10)
	l := listenIn(t, c.Director)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests <- time.Now()
		json.NewEncoder(w).Encode(doc)
	})}
	go srv.Serve(l)
	defer srv.Close()

	const interval, conns = 5 * time.Second, 6
	var out, errb bytes.Buffer
	top := exec.Command("ip", "netns", "exec", c.Director, testnet.Lvsadm(t), "top", "--once", "--interval", interval.String(),
		"--status-url", "http://"+l.Addr().String()+"/status")
	top.Stdout, top.Stderr = &out, &errb
	if err := top.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-requests:
	case <-time.After(20 * time.Second):
		top.Process.Kill()
		t.Fatal("lvsadm top --once did not ask for the status")
	}
	got := c.Fetch(conns)
	fetched := time.Now()
	if err := top.Wait(); err != nil {
		t.Fatalf("lvsadm top --once: %v\n%s", err, errb.String())
	}
	if got["rs1"] != conns {
		t.Fatalf("answers %v, want %d from rs1", got, conns)
	}
	t.Logf("lvsadm top --once:\n%s", out.String())
	if len(requests) != 1 || (<-requests).Before(fetched) {
		t.Fatalf("the %d connections were not all made between top's two reads", conns)
	}

	rates := map[string][]float64{} // by service, and real server under it
	healths := map[string]string{}
	var header, service string
	for i, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if i == 0 {
			header = strings.Join(strings.Fields(l), " ")
			continue
		}
		f := strings.Fields(l)
		f, health := f[:len(f)-1], f[len(f)-1]
		if health == "up" && f[len(f)-1] == "1/2" { // "1/2 up"
			f, health = f[:len(f)-1], "1/2 up"
		}
		name := strings.Join(f[:len(f)-6], " ")
		if f[0] == "->" {
			name = service + " " + name
		} else {
			service = name
		}
		healths[name] = health
		for _, s := range f[len(f)-3:] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("line %q: rate %q", l, s)
			}
			rates[name] = append(rates[name], v)
		}
	}
	if header != "SERVICE / REAL SERVER WEIGHT ACTIVE INACT CONN/S PKT/S BYTES/S HEALTH" {
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
	wantHealth := map[string]string{svc: "1/2 up", svc + " -> " + c.RSAddr[0] + ":80 Masq": "up", svc + " -> " + c.RSAddr[1] + ":80 Masq": "down",
		idleSvc: "-", idleSvc + " -> " + c.RSAddr[1] + ":80 Masq": "-"}
	if diff := cmp.Diff(wantHealth, healths); diff != "" {
		t.Errorf("HEALTH (-want +got):\n%s", diff)
	}
	if len(rates) != 5 {
		t.Errorf("%d rows, want 5: %v", len(rates), rates)
	}
}

// listenIn listens on a free port of 127.0.0.1 in namespace ns.
func listenIn(t *testing.T, ns string) net.Listener {
	t.Helper()
	type result struct {
		l   net.Listener
		err error
	}
	done := make(chan result)
	go func() {
		// Never unlocked: the thread exits with this goroutine instead of
		// going back to the pool in a foreign namespace.
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{nil, err}
			return
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		done <- result{l, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("listening in %s: %v", ns, r.err)
	}
	t.Cleanup(func() { r.l.Close() })
	return r.l
}
