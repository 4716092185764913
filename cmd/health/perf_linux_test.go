package health

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
)

// The performance measurement of many TCP checks (docs/health.md,
// Performance). It runs only when asked, without the race detector:
//
//	LVSADM_PERF=1 go test -run TestPerformance10kTCP -v ./cmd/health/
//
// LVSADM_PERF_SECONDS sets the measured time (default 15 s),
// LVSADM_PERF_SERVERS the number of real servers (default 10,000; the
// targets stay those of 10,000).

// listenerEnv makes the test binary a listener server instead of running
// tests: the listeners' accepts then do not count in the checker's CPU.
const listenerEnv = "LVSADM_PERF_LISTENERS"

func TestMain(m *testing.M) {
	if n := os.Getenv(listenerEnv); n != "" {
		if err := serveListeners(n); err != nil {
			fmt.Fprintln(os.Stderr, "listener server:", err)
		}
		return
	}
	m.Run()
}

// serveListeners listens on n loopback addresses (127.0.1.1, 127.0.1.2,
// ...; spreading the checks over several destinations keeps their
// 4-tuples apart), prints their addresses one a line, accepts and closes
// until its stdin is closed. The test sees an error as missing addresses.
func serveListeners(n string) error {
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 || count > 250 {
		return fmt.Errorf("%s=%q: want 1-250", listenerEnv, n)
	}
	for i := range count {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.1.%d:0", i+1))
		if err != nil {
			return err
		}
		fmt.Println(l.Addr())
		go acceptAndClose(l)
	}
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

func TestPerformance10kTCP(t *testing.T) {
	if os.Getenv("LVSADM_PERF") == "" {
		t.Skip("set LVSADM_PERF=1 to measure (docs/health.md, Performance)")
	}
	if raceEnabled {
		t.Skip("figures under the race detector mean nothing; run without -race")
	}
	servers := 10000
	if v := os.Getenv("LVSADM_PERF_SERVERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("LVSADM_PERF_SERVERS=%q: want a number of real servers", v)
		}
		servers = n
	}
	const (
		listeners = 32
		interval  = time.Second
		warmup    = time.Second
		maxCPU    = 0.25                   // of one core
		maxLate   = 100 * time.Millisecond // for any check
		maxRSS    = 64 << 20               // bytes
	)
	measure := 15 * time.Second
	if v := os.Getenv("LVSADM_PERF_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("LVSADM_PERF_SECONDS=%q: want a number of seconds", v)
		}
		measure = time.Duration(n) * time.Second
	}

	addrs := startListeners(t, listeners)
	floor := connectFloor(t, addrs, 5000)
	s := New(Config{})
	defer s.Close()
	c := check(desired.CheckTCP)
	c.Interval, c.RetryInterval, c.Timeout, c.Warmup, c.Rise, c.Fall = interval, interval, time.Second, warmup, 1, 1
	for i := range servers {
		tg := Target{Addr: addrs[i%len(addrs)].Addr(), Port: addrs[i%len(addrs)].Port(), VIP: netip.MustParseAddr("192.0.2.10"), VPort: 80}
		if _, err := s.Set("rs"+strconv.Itoa(i), c, tg); err != nil {
			t.Fatal(err)
		}
	}

	// The most checks under way at once, sampled.
	maxRunning := make(chan int)
	stop := make(chan struct{})
	go func() {
		m := 0
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				st := s.Stats()
				m = max(m, st.Running)
			case <-stop:
				maxRunning <- m
				return
			}
		}
	}()

	// Measure from after the warmup, once every check runs at its rate.
	time.Sleep(warmup + 2*interval)
	st0, t0 := s.Stats(), time.Now()
	user0, sys0 := cpuTime(t)
	time.Sleep(measure)
	st1, t1 := s.Stats(), time.Now()
	user1, sys1 := cpuTime(t)

	wall := t1.Sub(t0)
	user, sys := user1-user0, sys1-sys0
	cpu := float64(user+sys) / float64(wall)
	runs := st1.Runs - st0.Runs
	meanLate := time.Duration(0)
	if runs > 0 {
		meanLate = (st1.TotalLate - st0.TotalLate) / time.Duration(runs)
	}
	rss := peakRSS(t)
	close(stop)
	running := <-maxRunning
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	failed := 0
	for _, st := range s.Statuses() {
		if !st.Up || st.Failed > 0 {
			failed++
			if failed <= 3 {
				t.Errorf("%s: up=%v, %d of %d failed, last %q", st.Key, st.Up, st.Failed, st.Checks, st.Last.Reason)
			}
		}
	}
	t.Logf("%d tcp checks every %v against %d loopback listeners, measured %.1f s:", servers, interval, listeners, wall.Seconds())
	t.Logf("  checks %d (%.0f/s), failed servers %d", runs, float64(runs)/wall.Seconds(), failed)
	t.Logf("  cpu %.1f%% of one core: user %.1f%%, system %.1f%%; %.1f us a check", 100*cpu,
		100*float64(user)/float64(wall), 100*float64(sys)/float64(wall), float64((user+sys)/time.Microsecond)/float64(max(runs, 1)))
	t.Logf("  the kernel's part, blocking connect and close in a loop: %.1f us a connection (%.0f%% of one core at %d a second)",
		float64(floor)/1e3, 100*float64(floor)*float64(servers)/float64(interval), servers/int(interval/time.Second))
	t.Logf("  late: max %v (whole run), mean %v", st1.MaxLate.Round(time.Microsecond), meanLate.Round(time.Microsecond))
	t.Logf("  peak rss %.1f MiB; now heap %.1f MiB, stacks %.1f MiB, go sys %.1f MiB; at most %d checks under way", float64(rss)/(1<<20),
		float64(ms.HeapInuse)/(1<<20), float64(ms.StackInuse)/(1<<20), float64(ms.Sys)/(1<<20), running)

	// Every check ran at its rate: at least 95% of the runs that were due.
	if want := float64(servers) * wall.Seconds() / interval.Seconds(); float64(runs) < 0.95*want {
		t.Errorf("%d checks in %v, want about %.0f", runs, wall, want)
	}
	if cpu > maxCPU {
		t.Errorf("cpu %.1f%% of one core, want <= %.0f%%", 100*cpu, 100*maxCPU)
	}
	if st1.MaxLate > maxLate {
		t.Errorf("a check started %v late, want <= %v", st1.MaxLate, maxLate)
	}
	if rss > maxRSS {
		t.Errorf("peak rss %.1f MiB, want <= %d MiB", float64(rss)/(1<<20), maxRSS>>20)
	}
}

// startListeners runs the test binary as a listener server with n
// listeners and returns their addresses; it is stopped at the test's end.
func startListeners(t *testing.T, n int) []netip.AddrPort {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), listenerEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	var addrs []netip.AddrPort
	sc := bufio.NewScanner(stdout)
	for len(addrs) < n && sc.Scan() {
		ap, err := netip.ParseAddrPort(sc.Text())
		if err != nil {
			t.Fatalf("listener server: %v", err)
		}
		addrs = append(addrs, ap)
	}
	if len(addrs) < n {
		t.Fatalf("listener server gave %d addresses, want %d", len(addrs), n)
	}
	return addrs
}

// connectFloor is the CPU time of a TCP connection to addrs made and reset
// with blocking system calls in a loop: what a check costs at least, the
// listener's side of the handshake on loopback included.
func connectFloor(t *testing.T, addrs []netip.AddrPort, n int) time.Duration {
	t.Helper()
	user0, sys0 := cpuTime(t)
	for i := range n {
		ap := addrs[i%len(addrs)]
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = syscall.Connect(fd, &syscall.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())})
		if err == nil {
			err = syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1})
		}
		syscall.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
	}
	user1, sys1 := cpuTime(t)
	return (user1 - user0 + sys1 - sys0) / time.Duration(n)
}

// cpuTime is the user and system time of this process.
func cpuTime(t *testing.T) (user, sys time.Duration) {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// peakRSS is this process's peak resident set (VmHWM) in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}
