//go:build integration && linux

package statecmd_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// TestIntegrationApplyUnderTraffic runs in one NAT cluster: an apply that
// edits a service under a client's requests, then one that drains a real
// server holding a long connection.
func TestIntegrationApplyUnderTraffic(t *testing.T) {
	testnet.NeedIPVS(t, "ip_vs_rr")
	c := testnet.NewCluster(t, "nat")
	t.Run("edit", func(t *testing.T) { editUnderTraffic(t, c) })
	t.Run("drain", func(t *testing.T) { drainLongConnection(t, c) })
}

// editUnderTraffic: a client loop of HTTP requests through the VIP runs
// while apply changes the service's scheduler and persistence and a
// weight. No request fails, and the service's connection counter counts
// every request: it was edited, not replaced.
func editUnderTraffic(t *testing.T, c *testnet.Cluster) {
	svc := c.VIP + ":80"
	table := func(sched, persist string, w2 int) string {
		return fmt.Sprintf("-A -t %s -s %s -p %s\n-a -t %s -r %s:80 -m -w 1\n-a -t %s -r %s:80 -m -w %d\n",
			svc, sched, persist, svc, c.RSAddr[0], svc, c.RSAddr[1], w2)
	}
	before, after := table("rr", "60", 1), table("wrr", "120", 3)
	c.Lvsadm(t, "apply", "-f", writeFile(t, "before.rules", before))

	var mu sync.Mutex
	var ok, failed int
	var failures []string
	stop, done := make(chan struct{}), make(chan struct{})
	answered := func() int { mu.Lock(); defer mu.Unlock(); return ok + failed }
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			got := c.Fetch(1)
			mu.Lock()
			for answer, n := range got {
				if answer == "rs1" || answer == "rs2" {
					ok += n
				} else {
					failed += n
					failures = append(failures, answer)
				}
			}
			mu.Unlock()
		}
	}()
	waitFor := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); answered() < n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				close(stop)
				<-done
				t.Fatalf("the client loop made only %d requests", answered())
			}
		}
	}
	waitFor(3)
	countBefore := serviceConns(t, c, svc)
	started := answered()
	r := run(t, c.Director, "", testnet.Lvsadm(t), "apply", "-f", writeFile(t, "after.rules", after))
	if r.code != 0 {
		t.Errorf("apply under traffic: status %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "Applied: 0 added, 2 changed, 0 removed.") {
		t.Errorf("apply under traffic printed:\n%s", r.stdout)
	}
	ended := answered()
	waitFor(ended + 3)
	close(stop)
	<-done
	t.Logf("requests: %d before the apply started, %d when it had ended, %d in all, %d failed", started, ended, ok+failed, failed)
	if failed != 0 {
		t.Errorf("%d of %d requests failed: %q", failed, ok+failed, failures)
	}
	if got, want := saved(t, c.Director), expected(t, after); got != want {
		t.Errorf("the kernel's table after apply:\n%s\nwant:\n%s", got, want)
	}
	// The kernel's estimator folds the per-CPU counters in every 2 s.
	var countAfter int
	for deadline := time.Now().Add(6 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if countAfter = serviceConns(t, c, svc); countAfter == ok || time.Now().After(deadline) {
			break
		}
	}
	if countBefore > countAfter || countAfter != ok {
		t.Errorf("the service's connection counter: %d before the apply, %d after; want it to count all %d requests since the service was made",
			countBefore, countAfter, ok)
	}
}

// serviceConns is the Conns column of the reference's -Ln --stats for svc.
func serviceConns(t *testing.T, c *testnet.Cluster, svc string) int {
	t.Helper()
	r := run(t, c.Director, "", testnet.Reference, "-Ln", "--stats")
	for line := range strings.Lines(r.stdout) {
		f := strings.Fields(line)
		if len(f) > 2 && f[0] == "TCP" && f[1] == svc {
			n, err := strconv.Atoi(f[2])
			if err != nil {
				t.Fatalf("Conns %q: %v", f[2], err)
			}
			return n
		}
	}
	t.Fatalf("no service %s in:\n%s", svc, r.stdout)
	return 0
}

// drainLongConnection: a file that removes the real server a long TCP
// connection goes to, applied with --drain-timeout 30s, sets that server to
// weight 0 while the connection lives and carries data, and deletes it once
// the connection has ended, well before the timeout.
func drainLongConnection(t *testing.T, c *testnet.Cluster) {
	lvsadm := testnet.Lvsadm(t)
	svc := c.VIP + ":8080"
	rs1, rs2 := c.RSAddr[0]+":8080", c.RSAddr[1]+":8080"
	c.Lvsadm(t, "apply", "-f", writeFile(t, "one.rules", fmt.Sprintf("-A -t %s -s rr\n-a -t %s -r %s -m -w 1\n", svc, svc, rs2)))

	// A listener on the real server that is to go; its stdout is what it receives.
	server := exec.Command("ip", "netns", "exec", c.RS[1], "busybox", "nc", "-l", "-p", "8080")
	serverIn, err := server.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	serverOut, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill(); server.Wait() })
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(testnet.Run(t, c.RS[1], "ss", "-Hltn", "sport", "= :8080"), ":8080"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nc does not listen on the real server")
		}
	}
	client := exec.Command("ip", "netns", "exec", c.Client, "busybox", "nc", c.VIP, "8080")
	clientIn, err := client.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Process.Kill(); client.Wait() })
	received := bufio.NewReader(serverOut)
	say := func(line string) {
		t.Helper()
		if _, err := io.WriteString(clientIn, line+"\n"); err != nil {
			t.Fatalf("writing to the connection: %v", err)
		}
		got := make(chan string, 1)
		go func() { s, _ := received.ReadString('\n'); got <- s }()
		select {
		case s := <-got:
			if s != line+"\n" {
				t.Fatalf("the real server received %q, want %q", s, line)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the real server did not receive %q", line)
		}
	}
	say("hello")

	var out bytes.Buffer
	apply := exec.Command("ip", "netns", "exec", c.Director, lvsadm, "apply", "--drain-timeout", "30s",
		"-f", writeFile(t, "other.rules", fmt.Sprintf("-A -t %s -s rr\n-a -t %s -r %s -m -w 1\n", svc, svc, rs1)))
	apply.Stdout, apply.Stderr = &out, &out
	start := time.Now()
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	applied := make(chan error, 1)
	go func() { applied <- apply.Wait() }()
	t.Cleanup(func() { apply.Process.Kill() })

	drainingLine := fmt.Sprintf("-a -t %s -r %s -m -w 0\n", svc, rs2)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(saved(t, c.Director), drainingLine); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s is not at weight 0 while draining:\n%s", rs2, saved(t, c.Director))
		}
	}
	say("still here") // the connection carries data while draining
	time.Sleep(time.Second)
	select {
	case err := <-applied:
		t.Fatalf("apply ended while the connection lived (%v):\n%s", err, out.String())
	default:
	}
	if s := saved(t, c.Director); !strings.Contains(s, drainingLine) || !strings.Contains(s, "-r "+rs1+" ") {
		t.Errorf("while draining, the table is:\n%s", s)
	}

	// End the connection with a reset, which IPVS forgets 10 s later (an
	// orderly close would linger 2 minutes in TIME_WAIT): the client is
	// stopped, the server sends it data, and the client dies with that data
	// unread.
	client.Process.Signal(syscall.SIGSTOP)
	io.WriteString(serverIn, "bye\n")
	time.Sleep(300 * time.Millisecond)
	client.Process.Kill()
	closed := time.Now()
	select {
	case err := <-applied:
		if err != nil {
			t.Errorf("apply: %v\n%s", err, out.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("apply did not end:\n%s", out.String())
	}
	t.Logf("apply took %v, %v after the connection was reset:\n%s", time.Since(start).Round(time.Millisecond), time.Since(closed).Round(time.Millisecond), out.String())
	if time.Since(start) >= 30*time.Second || strings.Contains(out.String(), "timeout") {
		t.Errorf("the server was removed by the drain timeout, not once its connection ended:\n%s", out.String())
	}
	want := expected(t, fmt.Sprintf("-A -t %s -s rr\n-a -t %s -r %s -m -w 1\n", svc, svc, rs1))
	if got := saved(t, c.Director); !strings.Contains(got, want) || strings.Contains(got, rs2) {
		t.Errorf("after the drain the table is:\n%s\nwant it to hold:\n%s", got, want)
	}
}
