//go:build integration && linux

package daemon

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
	"github.com/lvsadm/lvsadm/ipvs"
)

// runProc is an `lvsadm run` started in the background in a namespace.
type runProc struct {
	cmd  *exec.Cmd
	log  *testnet.Buffer
	done chan struct{}
	err  error // cmd.Wait's, once done is closed
}

// startRun starts `lvsadm run -f file --listen listen flags...` in namespace ns and
// waits until it has applied the file and runs; the test's cleanup kills it.
func startRun(t *testing.T, ns, file, listen string, flags ...string) *runProc {
	t.Helper()
	return startRunFor(t, t, ns, file, listen, flags...)
}

// startRunFor is startRun whose daemon lives until owner's cleanup (a test
// whose subtests restart the daemon).
func startRunFor(t *testing.T, owner testing.TB, ns, file, listen string, flags ...string) *runProc {
	t.Helper()
	// ip netns exec execs the program, so the process is lvsadm itself and
	// the signals sent to it reach the daemon.
	p := &runProc{log: &testnet.Buffer{}, done: make(chan struct{})}
	args := append([]string{"netns", "exec", ns, testnet.Lvsadm(t), "run", "-f", file, "--listen", listen}, flags...)
	p.cmd = exec.Command("ip", args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	owner.Cleanup(func() {
		// SIGTERM first: the daemon then ends its checks before it exits,
		// where after SIGKILL an exec check could still write into a
		// directory the test is removing.
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		if owner.Failed() {
			t.Logf("lvsadm run's log:\n%s", p.log.String())
		}
	})
	deadline := time.After(10 * time.Second)
	for !strings.Contains(p.log.String(), "msg=running") {
		select {
		case <-p.done:
			t.Fatalf("lvsadm run ended (%v) before running:\n%s", p.err, p.log.String())
		case <-deadline:
			t.Fatalf("lvsadm run is not running after 10 s:\n%s", p.log.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return p
}

// signal sends sig to the daemon.
func (p *runProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// kill9 kills the daemon with SIGKILL and waits until it is gone.
func (p *runProc) kill9(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
	<-p.done
}

// lines are the log lines containing every one of words.
func (p *runProc) lines(words ...string) []string {
	var out []string
next:
	for _, l := range strings.Split(p.log.String(), "\n") {
		for _, w := range words {
			if !strings.Contains(l, w) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// kernel reads a namespace's IPVS table through the ipvs package: fast
// enough to poll every few milliseconds, where a process per look is not
// in the emulated VM.
type kernel struct {
	c   *ipvs.Client
	svc ipvs.ServiceKey
}

func newKernel(t *testing.T, ns, vip string, port uint16) *kernel {
	t.Helper()
	c, err := ipvs.Dial(&ipvs.Config{NetNSPath: "/run/netns/" + ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	a := netip.MustParseAddr(vip)
	return &kernel{c: c, svc: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: a, Port: port}}
}

// weights are the service's real servers' weights by address, or nil if
// the service is not there.
func (k *kernel) weights(t *testing.T) map[string]uint32 {
	t.Helper()
	dests, err := k.c.Destinations(k.svc)
	if err != nil {
		return nil
	}
	w := map[string]uint32{}
	for _, d := range dests {
		w[d.Addr.String()] = d.Weight
	}
	return w
}

// waitWeights polls until the weights are want and returns how long that
// took; it fails the test after limit.
func (k *kernel) waitWeights(t *testing.T, want map[string]uint32, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := k.weights(t)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("weights %v after %v, want %v", got, limit, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// reference runs ipvsadm 1.31 in ns.
func reference(t *testing.T, ns string, args ...string) string {
	t.Helper()
	return testnet.Run(t, ns, append([]string{testnet.Reference}, args...)...)
}

// writeFile writes a test file and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// httpGet fetches http://addr/path from namespace ns with nc (busybox
// wget crashes on some requests) and returns the body.
func httpGet(t *testing.T, ns, addr, path string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	out := testnet.Run(t, ns, "sh", "-c",
		fmt.Sprintf("printf 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' | timeout 10 nc %s %s", path, addr, host, port))
	head, body, ok := strings.Cut(out, "\r\n\r\n")
	if !ok || !strings.Contains(strings.SplitN(head, "\r\n", 2)[0], " 200 ") {
		t.Fatalf("GET http://%s%s from %s:\n%s", addr, path, ns, out)
	}
	return body
}

// status is the daemon's /status document.
func status(t *testing.T, ns, listen string) StatusDoc {
	t.Helper()
	var doc StatusDoc
	body := httpGet(t, ns, listen, "/status")
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("/status: %v\n%s", err, body)
	}
	return doc
}

// metric sums the samples of a Prometheus text exposition whose name is
// name and whose labels contain every one of labels.
func metric(t *testing.T, text, name string, labels ...string) float64 {
	t.Helper()
	sum, n := 0.0, 0
next:
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		for _, lb := range labels {
			if !strings.Contains(l, lb) {
				continue next
			}
		}
		f := strings.Fields(l)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", l, err)
		}
		sum += v
		n++
	}
	if n == 0 {
		t.Fatalf("no %s%v in the metrics:\n%s", name, labels, text)
	}
	return sum
}

// netnsProc is a process that only sleeps in a namespace, so that the
// test can read the namespace's sockets in /proc/PID/net without starting
// a program for each look.
type netnsProc struct{ pid int }

func newNetnsProc(t *testing.T, ns string) *netnsProc {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &netnsProc{pid: cmd.Process.Pid}
	// Until ip has entered the namespace and become sleep, its sockets
	// are the test's.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.pid)); strings.HasSuffix(exe, "sleep") || strings.HasSuffix(exe, "busybox") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sleep in %s did not start", ns)
		}
	}
	return p
}

// listens reports whether a TCP socket listens on port in the namespace
// (busybox httpd listens on IPv6's any address, which takes IPv4 too).
func (p *netnsProc) listens(port uint16) bool {
	local := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", p.pid, f))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st ...; st 0A is LISTEN.
			if f := strings.Fields(l); len(f) > 3 && strings.HasSuffix(f[1], local) && f[3] == "0A" {
				return true
			}
		}
	}
	return false
}

// when polls cond every few milliseconds in a goroutine and sends the time
// it was first seen true, or the zero time after limit.
func when(limit time.Duration, cond func() bool) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if cond() {
				ch <- time.Now()
				return
			}
		}
		ch <- time.Time{}
	}()
	return ch
}
