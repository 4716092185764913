//go:build integration && linux

package daemon

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// The checks of the cluster tests: every 300 ms, 300 ms to answer, down
// after 3 failures, up after 2 successes. (With fall 2, a loaded emulated
// VM had busybox httpd miss the 300 ms twice in a row now and then.)
const (
	checkInterval = 300 * time.Millisecond
	checkTimeout  = 300 * time.Millisecond
	checkRise     = 2
	checkFall     = 3
	// slack is the scheduling allowance on top of the checks' own bound:
	// the emulated (TCG) VM runs the daemon, the real servers and this
	// poll on two shared virtual CPUs, and the daemon's netlink edit and
	// the poll (every 5 ms) come after the deciding check.
	slack = 400 * time.Millisecond
	// listen is where each daemon serves /status, /metrics and /reload,
	// inside its director's namespace.
	listen = "127.0.0.1:9129"
	sorry  = "198.51.100.99"
)

// clusterYAML is a wrr service over the cluster's two web servers with
// weights 1 and w2, checked with check ("http" or "tcp"), with a quorum of
// 1 and a sorry server.
func clusterYAML(c *testnet.Cluster, check string, w2 int) string {
	method := c.Mode // the file's nat and dr
	return fmt.Sprintf(`schema_version: 1
services:
  - protocol: tcp
    address: %s
    port: 80
    scheduler: wrr
    health_check: {type: %s, interval: %v, timeout: %v, rise: %d, fall: %d, warmup: 50ms}
    quorum: 1
    sorry_server: {address: %s, port: 80, method: %s}
    real_servers:
      - {address: %s, port: 80, method: %s, weight: 1}
      - {address: %s, port: 80, method: %s, weight: %d}
`, c.VIP, check, checkInterval, checkTimeout, checkRise, checkFall, sorry, method,
		c.RSAddr[0], method, c.RSAddr[1], method, w2)
}

// failover stops the first web server, checks that its weight is 0 in time
// and that every request then reaches the second one, and starts it again.
func failover(t *testing.T, c *testnet.Cluster, k *kernel) {
	rs1, rs2 := c.RSAddr[0], c.RSAddr[1]
	k.waitWeights(t, map[string]uint32{rs1: 1, rs2: 3}, 5*time.Second)
	if diff := cmp.Diff(map[string]int{"rs1": 1, "rs2": 3}, c.Fetch(4)); diff != "" {
		t.Errorf("answers through the VIP before the failure (-want +got):\n%s", diff)
	}

	// Down: at most fall checks after the stop, the last of which may take
	// up to the timeout (a stopped server refuses at once). Measured from
	// the kill, before which the server answered.
	bound := checkFall*checkInterval + checkTimeout
	start := time.Now()
	c.Web[0].Stop()
	k.waitWeights(t, map[string]uint32{rs1: 0, rs2: 3}, 10*time.Second)
	took := time.Since(start)
	t.Logf("%s: weight 0 %v after its web server stopped (fall %d x interval %v + timeout %v = %v)",
		c.Mode, took.Round(time.Millisecond), checkFall, checkInterval, checkTimeout, bound)
	if took > bound+slack {
		t.Errorf("weight 0 after %v, want at most %v + %v", took, bound, slack)
	}
	if diff := cmp.Diff(map[string]int{"rs2": 6}, c.Fetch(6)); diff != "" {
		t.Errorf("answers through the VIP with rs1 down (-want +got):\n%s", diff)
	}

	// Up: measured from the moment busybox httpd listens.
	bound = checkRise*checkInterval + checkTimeout
	rs := newNetnsProc(t, c.RS[0])
	listening := when(10*time.Second, func() bool { return rs.listens(80) })
	back := when(10*time.Second, func() bool {
		w := k.weights(t)
		return w[rs1] == 1 && w[rs2] == 3
	})
	c.Web[0].Start()
	tl, tb := <-listening, <-back
	if tl.IsZero() || tb.IsZero() {
		t.Fatalf("listening at %v, weight back at %v; weights now %v", tl, tb, k.weights(t))
	}
	took = tb.Sub(tl)
	t.Logf("%s: weight back %v after its web server listened (rise %d x interval %v + timeout %v = %v)",
		c.Mode, took.Round(time.Millisecond), checkRise, checkInterval, checkTimeout, bound)
	if took > bound+slack {
		t.Errorf("weight back after %v, want at most %v + %v", took, bound, slack)
	}
	if diff := cmp.Diff(map[string]int{"rs1": 1, "rs2": 3}, c.Fetch(4)); diff != "" {
		t.Errorf("answers through the VIP after the recovery (-want +got):\n%s", diff)
	}
}

// TestIntegrationRunDR: lvsadm run with a TCP check on a DR cluster takes
// a stopped real server out and puts it back.
func TestIntegrationRunDR(t *testing.T) {
	testnet.NeedIPVS(t)
	c := testnet.NewCluster(t, "dr")
	file := writeFile(t, t.TempDir(), "dr.yaml", clusterYAML(c, "tcp", 3))
	startRun(t, c.Director, file, listen)
	failover(t, c, newKernel(t, c.Director, c.VIP, 80))
}

// TestIntegrationRunNAT: lvsadm run with an HTTP check on a NAT cluster:
// failover, reload keeping the health, the quorum's sorry server, metrics,
// and a restart after SIGKILL. The steps share the cluster and run in
// order.
func TestIntegrationRunNAT(t *testing.T) {
	testnet.NeedIPVS(t)
	c := testnet.NewCluster(t, "nat")
	dir := t.TempDir()
	file := writeFile(t, dir, "nat.yaml", clusterYAML(c, "http", 3))
	d := startRun(t, c.Director, file, listen)
	k := newKernel(t, c.Director, c.VIP, 80)
	rs1, rs2 := c.RSAddr[0], c.RSAddr[1]
	vs := "-t " + c.VIP + ":80"
	outer := t

	t.Run("failover", func(t *testing.T) { failover(t, c, k) })

	t.Run("reload", func(t *testing.T) {
		c.Web[0].Stop()
		k.waitWeights(t, map[string]uint32{rs1: 0, rs2: 3}, 10*time.Second)

		// SIGHUP with rs2's weight 3 -> 2: one edit, rs1 stays down. (The
		// log comes through a pipe, after the kernel's change at times:
		// the changes are counted by their reason.)
		writeFile(t, dir, "nat.yaml", clusterYAML(c, "http", 2))
		d.signal(t, syscall.SIGHUP)
		k.waitWeights(t, map[string]uint32{rs1: 0, rs2: 2}, 5*time.Second)
		// A reload that re-added rs1 at its weight would show within a
		// check or two.
		time.Sleep(2 * checkInterval)
		if got := k.weights(t); got[rs1] != 0 || got[rs2] != 2 {
			t.Errorf("after SIGHUP: weights %v, want %s 0 and %s 2", got, rs1, rs2)
		}
		changes := d.lines("msg=change", "why=SIGHUP")
		want := "-e " + vs + " -r " + rs2 + ":80 -m -w 2"
		if len(changes) != 1 || !strings.Contains(changes[0], want) {
			t.Errorf("changes of the SIGHUP reload: %q, want one: %s", changes, want)
		}

		// lvsadm reload with weight 3 again.
		writeFile(t, dir, "nat.yaml", clusterYAML(c, "http", 3))
		c.Lvsadm(t, "reload", "--listen", listen)
		for deadline := time.Now().Add(5 * time.Second); len(d.lines("msg=reloaded", `why="reload request"`)) == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("lvsadm reload answered, the daemon's log has no reload")
			}
		}
		if got := k.weights(t); got[rs1] != 0 || got[rs2] != 3 {
			t.Errorf("after lvsadm reload: weights %v, want %s 0 and %s 3", got, rs1, rs2)
		}
		changes = d.lines("msg=change", `why="reload request"`)
		want = "-e " + vs + " -r " + rs2 + ":80 -m -w 3"
		if len(changes) != 1 || !strings.Contains(changes[0], want) {
			t.Errorf("changes of lvsadm reload: %q, want one: %s", changes, want)
		}
		// The reference sees the same table.
		wantSave := "-A " + vs + " -s wrr\n-a " + vs + " -r " + rs1 + ":80 -m -w 0\n-a " + vs + " -r " + rs2 + ":80 -m -w 3\n"
		if diff := cmp.Diff(wantSave, reference(t, c.Director, "-Sn")); diff != "" {
			t.Errorf("ipvsadm -Sn after the reloads (-want +got):\n%s", diff)
		}

		// A file with an error: lvsadm reload exits 1 naming its line,
		// SIGHUP logs it, and the daemon goes on with the previous file.
		bad := strings.Replace(clusterYAML(c, "http", 1), "fall: 3", "fall: 0", 1)
		writeFile(t, dir, "nat.yaml", bad)
		out, err := testnet.Exec(c.Director, testnet.Lvsadm(t), "reload", "--listen", listen)
		place := fmt.Sprintf("%s:%d:", file, lineOf(t, bad, "fall: 0"))
		if err == nil || !strings.Contains(out, place) {
			t.Errorf("lvsadm reload of a bad file: %v, want exit status 1 and an error at %s:\n%s", err, place, out)
		}
		d.signal(t, syscall.SIGHUP)
		for deadline := time.Now().Add(5 * time.Second); len(d.lines("msg=\"reload refused", "why=SIGHUP", place)) == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no refused SIGHUP reload naming %s in the log", place)
			}
		}
		if diff := cmp.Diff(wantSave, reference(t, c.Director, "-Sn")); diff != "" {
			t.Errorf("ipvsadm -Sn after the refused reloads (-want +got):\n%s", diff)
		}
		writeFile(t, dir, "nat.yaml", clusterYAML(c, "http", 3))
		c.Web[0].Start()
		k.waitWeights(t, map[string]uint32{rs1: 1, rs2: 3}, 10*time.Second)
	})

	t.Run("quorum", func(t *testing.T) {
		c.Web[0].Stop()
		c.Web[1].Stop()
		took := k.waitWeights(t, map[string]uint32{rs1: 0, rs2: 0, sorry: 1}, 10*time.Second)
		t.Logf("sorry server in %v after both web servers stopped", took.Round(time.Millisecond))
		wantSave := "-A " + vs + " -s wrr\n-a " + vs + " -r " + rs1 + ":80 -m -w 0\n-a " + vs + " -r " + rs2 + ":80 -m -w 0\n" +
			"-a " + vs + " -r " + sorry + ":80 -m -w 1\n"
		if diff := cmp.Diff(wantSave, reference(t, c.Director, "-Sn")); diff != "" {
			t.Errorf("ipvsadm -Sn with both down (-want +got):\n%s", diff)
		}
		c.Web[1].Start()
		took = k.waitWeights(t, map[string]uint32{rs1: 0, rs2: 3}, 10*time.Second)
		t.Logf("sorry server gone %v after one web server started", took.Round(time.Millisecond))
		c.Web[0].Start()
		k.waitWeights(t, map[string]uint32{rs1: 1, rs2: 3}, 10*time.Second)
	})

	t.Run("metrics", func(t *testing.T) {
		const n = 8
		labels := []string{`local_address="` + c.VIP + `"`, `local_port="80"`}
		conns := func(text string, more ...string) float64 {
			return metric(t, text, "lvsadm_backend_connections_total", append(more, labels...)...)
		}
		before := httpGet(t, c.Director, listen, "/metrics")
		got := c.Fetch(n)
		if got["rs1"]+got["rs2"] != n {
			t.Fatalf("answers: %v", got)
		}
		// The kernel adds each CPU's counters to the totals it reports
		// every 2 seconds (its rate estimator's tick).
		var after string
		for deadline := time.Now().Add(10 * time.Second); ; {
			after = httpGet(t, c.Director, listen, "/metrics")
			if conns(after)-conns(before) >= n || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		service := metric(t, after, "lvsadm_service_connections_total", labels...) -
			metric(t, before, "lvsadm_service_connections_total", labels...)
		if backends := conns(after) - conns(before); backends != n || service != n {
			t.Errorf("after %d requests the real servers' connections grew by %v, the service's by %v; want %d",
				n, backends, service, n)
		}
		for i, rs := range c.RSAddr {
			l := `remote_address="` + rs + `"`
			name := fmt.Sprintf("rs%d", i+1)
			if d := conns(after, l) - conns(before, l); int(d) != got[name] {
				t.Errorf("%s's connections grew by %v, it answered %d", rs, d, got[name])
			}
			if up := metric(t, after, "lvsadm_backend_up", append([]string{l}, labels...)...); up != 1 {
				t.Errorf("lvsadm_backend_up of %s is %v", rs, up)
			}
		}
		t.Logf("%d requests: %v; connections in /metrics: %v", n, got, conns(after)-conns(before))
	})

	t.Run("sigkill", func(t *testing.T) {
		// The earlier steps' traffic is in the counters (the metrics step
		// waited for them), so counters that were reset would show.
		save := reference(t, c.Director, "-Sn")
		stats := reference(t, c.Director, "-Ln", "--stats", "--exact")
		if f := strings.Fields(stats[strings.Index(stats, "TCP  "+c.VIP+":80"):]); f[2] == "0" {
			t.Fatalf("no connections in the counters:\n%s", stats)
		}
		d.kill9(t)
		d = startRunFor(t, outer, c.Director, file, listen)
		// Some checks of the new daemon, then the table must be as it was.
		time.Sleep(3 * checkInterval)
		if changes := d.lines("msg=change"); len(changes) != 0 {
			t.Errorf("the restarted daemon changed the table: %q", changes)
		}
		if diff := cmp.Diff(save, reference(t, c.Director, "-Sn")); diff != "" {
			t.Errorf("ipvsadm -Sn after the restart (-want +got):\n%s", diff)
		}
		sameCounters(t, stats, reference(t, c.Director, "-Ln", "--stats", "--exact"))
		doc := status(t, c.Director, listen)
		if len(doc.Services) != 1 || len(doc.Services[0].RealServers) != 2 {
			t.Fatalf("/status of the restarted daemon: %+v", doc)
		}
		for _, r := range doc.Services[0].RealServers {
			if r.State != "up" || r.Checks == 0 {
				t.Errorf("restarted daemon: %s %s after %d checks", r.Address, r.State, r.Checks)
			}
		}
		out := c.Lvsadm(t, "status", "--listen", listen)
		for _, l := range strings.Split(out, "\n") {
			if (strings.Contains(l, rs1+":80") || strings.Contains(l, rs2+":80")) && !strings.Contains(l, "│ up ") {
				t.Errorf("lvsadm status does not show both servers up:\n%s", out)
			}
		}
		// It still follows the health.
		c.Web[1].Stop()
		k.waitWeights(t, map[string]uint32{rs1: 1, rs2: 0}, 10*time.Second)
		c.Web[1].Start()
		k.waitWeights(t, map[string]uint32{rs1: 1, rs2: 3}, 10*time.Second)
	})

	t.Run("sigkill-with-a-server-down", func(t *testing.T) {
		// Killed while rs1 is down, the new daemon finds rs1 quiesced in
		// the kernel and starts its check down: it never gives rs1 its
		// weight back while rs1 fails, and the table is the one it left,
		// with the same counters.
		c.Web[0].Stop()
		k.waitWeights(t, map[string]uint32{rs1: 0, rs2: 3}, 10*time.Second)
		save := reference(t, c.Director, "-Sn")
		stats := reference(t, c.Director, "-Ln", "--stats", "--exact")
		d.kill9(t)
		d = startRunFor(t, outer, c.Director, file, listen)
		for deadline := time.Now().Add(10 * time.Second); len(d.lines(`msg="starts down"`, rs1+":80")) == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the restarted daemon did not start %s down:\n%s", rs1, d.log.String())
			}
		}
		time.Sleep(4 * checkInterval) // more than fall checks of rs1
		if changes := d.lines("msg=change"); len(changes) != 0 {
			t.Errorf("the restarted daemon changed the table while rs1 still fails: %q", changes)
		}
		k.waitWeights(t, map[string]uint32{rs1: 0, rs2: 3}, 5*time.Second)
		if diff := cmp.Diff(save, reference(t, c.Director, "-Sn")); diff != "" {
			t.Errorf("ipvsadm -Sn after the restart (-want +got):\n%s", diff)
		}
		sameCounters(t, stats, reference(t, c.Director, "-Ln", "--stats", "--exact"))
		c.Web[0].Start()
		k.waitWeights(t, map[string]uint32{rs1: 1, rs2: 3}, 10*time.Second)
	})
}

// sameCounters compares two `ipvsadm -Ln --stats --exact` listings taken without
// traffic in between: the same lines, the same connection counts, and
// packet and byte counts that did not go down (the last packets of earlier
// connections may reach the kernel's totals, which it updates every 2
// seconds, in between).
func sameCounters(t *testing.T, before, after string) {
	t.Helper()
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	if len(b) != len(a) {
		t.Errorf("ipvsadm -Ln --stats before:\n%s\nafter:\n%s", before, after)
		return
	}
	for i := range b {
		fb, fa := strings.Fields(b[i]), strings.Fields(a[i])
		if len(fb) != len(fa) || len(fb) < 7 || fb[0] == "Prot" {
			if b[i] != a[i] {
				t.Errorf("ipvsadm -Ln --stats line %d: %q, then %q", i+1, b[i], a[i])
			}
			continue
		}
		// TCP ADDR:PORT Conns InPkts OutPkts InBytes OutBytes, or
		// -> ADDR:PORT ...
		if fb[1] != fa[1] || fb[2] != fa[2] {
			t.Errorf("ipvsadm -Ln --stats line %d: %q, then %q (connections must not change)", i+1, b[i], a[i])
			continue
		}
		for j := 3; j < 7; j++ {
			vb, errb := strconv.ParseUint(fb[j], 10, 64)
			va, erra := strconv.ParseUint(fa[j], 10, 64)
			if errb != nil || erra != nil || va < vb {
				t.Errorf("ipvsadm -Ln --stats line %d: %q, then %q (a counter went down)", i+1, b[i], a[i])
			}
		}
	}
}
