//go:build integration && linux

package drain

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// TestEchoServerHelper is not a test: the integration test runs this binary
// with DRAIN_ECHO_ADDR set, inside a real server's namespace, as a TCP echo
// server for one connection. When the client closes, it resets the
// connection (linger 0), so that IPVS forgets it after its 10 s CLOSE state
// rather than its 2 min TIME_WAIT.
func TestEchoServerHelper(t *testing.T) {
	addr := os.Getenv("DRAIN_ECHO_ADDR")
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("listening")
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(conn, conn)
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
}

// TestIntegrationDrainWait: a NAT cluster; a TCP connection through the VIP
// to rs1 stays open while drain --wait runs. The connection keeps passing
// data with weight 0, drain does not return while it is open and returns
// once it has closed; enable then restores the weight.
func TestIntegrationDrainWait(t *testing.T) {
	testnet.NeedIPVS(t)
	c := testnet.NewCluster(t, "nat")
	bin := testnet.Lvsadm(t)
	service, server := c.VIP+":9000", c.RSAddr[0]+":9000"

	// The echo server in rs1.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	echo := exec.Command("ip", "netns", "exec", c.RS[0], self, "-test.run=^TestEchoServerHelper$")
	echo.Env = append(os.Environ(), "DRAIN_ECHO_ADDR=:9000")
	echoOut, _ := echo.StdoutPipe()
	if err := echo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Process.Kill(); echo.Wait() })
	if line, err := bufio.NewReader(echoOut).ReadString('\n'); err != nil || line != "listening\n" {
		t.Fatalf("echo server: %q %v", line, err)
	}

	c.Lvsadm(t, "-A", "-t", service, "-s", "rr")
	c.Lvsadm(t, "-a", "-t", service, "-r", server, "-m", "-w", "3")

	// The client's connection, held open by nc's standard input.
	client := exec.Command("ip", "netns", "exec", c.Client, "busybox", "nc", c.VIP, "9000")
	in, _ := client.StdinPipe()
	outPipe, _ := client.StdoutPipe()
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Process.Kill(); client.Wait() })
	replies := make(chan string, 4)
	go func() {
		r := bufio.NewReader(outPipe)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(replies)
				return
			}
			replies <- line
		}
	}()
	exchange := func(msg string) {
		t.Helper()
		io.WriteString(in, msg+"\n")
		select {
		case got := <-replies:
			if got != msg+"\n" {
				t.Fatalf("echo of %q: %q", msg, got)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no echo of %q through the VIP", msg)
		}
	}
	exchange("before")

	// Completion offers the live service and real server (read from the
	// kernel's /proc/net/ip_vs in the director's namespace).
	if got := c.Lvsadm(t, "__ipvsadm_complete", "ipvsadm -e -t "+service+" -r "); got != server+"\n" {
		t.Errorf("ipvsadm completion after -r: %q, want %q", got, server+"\n")
	}
	if got := c.Lvsadm(t, "__complete", "drain", ""); !strings.HasPrefix(got, service+"\n") {
		t.Errorf("drain completion: %q, want %s first", got, service)
	}

	// drain --wait in the background.
	var drainErr testnet.Buffer
	drain := exec.Command("ip", "netns", "exec", c.Director, bin, "drain", service, server, "--wait")
	drain.Stderr = &drainErr
	drain.Stdout = &drainErr
	start := time.Now()
	if err := drain.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- drain.Wait() }()
	t.Cleanup(func() { drain.Process.Kill() })

	weight := func() string {
		for _, line := range strings.Split(c.Lvsadm(t, "-Ln", "-t", service), "\n") {
			if f := strings.Fields(line); len(f) >= 4 && f[1] == server {
				return f[3]
			}
		}
		return "none"
	}
	deadline := time.Now().Add(5 * time.Second)
	for weight() != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("weight %s 5 s after drain started; stderr:\n%s", weight(), drainErr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The held connection still works with weight 0.
	exchange("after drain")
	// Three polls later drain is still waiting.
	select {
	case err := <-done:
		t.Fatalf("drain --wait returned while the connection was open: %v\n%s", err, drainErr.String())
	case <-time.After(3 * time.Second):
	}
	if !strings.Contains(drainErr.String(), "1 active, 0 inactive connections") {
		t.Errorf("drain's progress lacks the open connection:\n%s", drainErr.String())
	}

	// Close the connection: the echo server resets it and drain returns
	// once IPVS has forgotten it (its CLOSE state lasts 10 s).
	in.Close()
	closed := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("drain --wait: %v\n%s", err, drainErr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("drain --wait still running 30 s after the connection closed:\n%s\n%s", drainErr.String(), c.Lvsadm(t, "-Lnc"))
	}
	t.Logf("drain returned %.1f s after the connection closed, %.1f s in all; stderr:\n%s",
		time.Since(closed).Seconds(), time.Since(start).Seconds(), drainErr.String())
	if !strings.Contains(drainErr.String(), "drained after") {
		t.Errorf("drain's last line:\n%s", drainErr.String())
	}

	c.Lvsadm(t, "enable", service, server)
	if w := weight(); w != "3" {
		t.Errorf("weight after enable: %s, want 3", w)
	}
	// The record is gone: a second enable refuses with status 1.
	out, err := testnet.Exec(c.Director, bin, "enable", service, server)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(out, "no weight recorded") {
		t.Errorf("second enable: %v\n%s", err, out)
	}
}
