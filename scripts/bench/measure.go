package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs"
)

// sample is one measured run.
type sample struct {
	Wall      time.Duration
	PeakRSSKB int64 // the child's peak resident set at exit (see peakRSS), KiB
	// RusageMaxRSSKB is getrusage's ru_maxrss, which also counts this
	// driver's own peak (see runTimed); kept to show the difference.
	RusageMaxRSSKB int64
	// SignalStops counts signals delivered to the child. Each stops it for
	// the tracer (see traceToExit), a cost a Go program pays for every
	// preemption signal the runtime sends its threads.
	SignalStops int
}

// inFreshNetns runs fn on a locked OS thread that has just entered a new,
// empty network namespace. Children started by fn (os/exec forks from the
// calling thread) live in that namespace too; so does the netlink socket a
// Client dials with the fd fn receives. The thread is never unlocked, so the
// Go runtime ends it with the goroutine and the namespace goes with it.
//
// Before leaving, the namespace's table is flushed, synchronously. IPVS
// keeps the services of all namespaces in one global hash, and the kernel's
// /proc/net/ip_vs iterator (6.1) counts other namespaces' services when it
// resumes a read, so while any other namespace holds services that file
// silently loses lines. A namespace torn down lazily by the kernel would
// leave its services in the hash for a while and change what the next
// run's listing does.
func inFreshNetns(fn func(netnsFD int) error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
			return
		}
		if err := loopbackUp(); err != nil {
			done <- err
			return
		}
		ns, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			done <- err
			return
		}
		defer ns.Close()
		err = fn(int(ns.Fd()))
		done <- errors.Join(err, flushNetns(int(ns.Fd())))
	}()
	return <-done
}

func flushNetns(netnsFD int) error {
	c, err := ipvs.Dial(&ipvs.Config{NetNSFD: netnsFD})
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	defer c.Close()
	if err := c.Flush(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// loopbackUp brings up lo in the calling thread's namespace. Until an
// address exists the namespace has no local routing table, and the kernel
// then classifies every address as broadcast and refuses masqueraded real
// servers ("address not unicast").
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

// command is one invocation: argv, and files for stdin and stdout
// ("" = /dev/null). Stderr must stay empty: any output there means the tool
// complained, and the run is not a valid sample.
type command struct {
	Argv   []string
	Stdin  string
	Stdout string
}

// runTimed runs c and measures it from fork to reaped exit. All three
// standard streams are files, so os/exec starts no copying goroutines and
// the fork happens on the calling (namespace-holding) thread.
//
// Peak RSS is read from the child's own /proc files (see peakRSS) at a
// ptrace exit stop, just before its memory is released. getrusage's
// ru_maxrss cannot be used alone: Go starts children with vfork, so the
// child execs out of this process's address space, and the kernel records
// that space's peak (this driver's) into the child's ru_maxrss at exec.
// The exec and exit stops cost the same for every tool.
func runTimed(c command, stderrPath string) (sample, error) {
	in, err := os.Open(orDevNull(c.Stdin))
	if err != nil {
		return sample{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(orDevNull(c.Stdout), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return sample{}, err
	}
	defer out.Close()
	errFile, err := os.Create(stderrPath)
	if err != nil {
		return sample{}, err
	}
	defer errFile.Close()

	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, errFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	status, peakKB, signals, rusage, traceErr := traceToExit(cmd.Process.Pid)
	wall := time.Since(start)
	cmd.Process.Release()
	if traceErr != nil {
		return sample{}, fmt.Errorf("%s: %w", strings.Join(c.Argv, " "), traceErr)
	}

	stderr, _ := os.ReadFile(stderrPath)
	if !status.Exited() || status.ExitStatus() != 0 || len(stderr) > 0 {
		return sample{}, fmt.Errorf("%s: wait status %#x; stderr: %.500s", strings.Join(c.Argv, " "), uint32(status), stderr)
	}
	return sample{Wall: wall, PeakRSSKB: peakKB, RusageMaxRSSKB: rusage.Maxrss, SignalStops: signals}, nil
}

// traceToExit follows a child started with PTRACE_TRACEME (stopped after
// its exec) until it is reaped, reading its peak RSS at the exit stop. It must
// run on the thread that started the child: only that thread is its tracer.
// Every signal delivered to the child stops it until the tracer passes the
// signal on; signals counts those stops.
func traceToExit(pid int) (status unix.WaitStatus, peakKB int64, signals int, rusage unix.Rusage, err error) {
	peakKB = -1
	wait := func() error {
		for {
			_, err := unix.Wait4(pid, &status, 0, &rusage)
			if err != unix.EINTR {
				return err
			}
		}
	}
	if err := wait(); err != nil {
		return status, 0, signals, rusage, err
	}
	if !status.Stopped() {
		return status, 0, signals, rusage, fmt.Errorf("child not stopped after exec (status %#x)", uint32(status))
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACEEXIT|unix.PTRACE_O_EXITKILL); err != nil {
		return status, 0, signals, rusage, fmt.Errorf("ptrace options: %w", err)
	}
	signal := 0 // the exec SIGTRAP is ours, not the child's
	for {
		if err := unix.PtraceCont(pid, signal); err != nil {
			return status, 0, signals, rusage, fmt.Errorf("ptrace cont: %w", err)
		}
		if err := wait(); err != nil {
			return status, 0, signals, rusage, err
		}
		switch {
		case status.Exited() || status.Signaled():
			if peakKB < 0 {
				return status, 0, signals, rusage, errors.New("no exit stop seen")
			}
			return status, peakKB, signals, rusage, nil
		case status.Stopped() && status.TrapCause() == unix.PTRACE_EVENT_EXIT:
			kb, err := peakRSS(pid)
			if err != nil {
				return status, 0, signals, rusage, err
			}
			peakKB, signal = kb, 0
		case status.Stopped():
			signal = int(status.StopSignal()) // deliver the child's own signals
			signals++
		}
	}
}

// peakRSS reads a stopped process's peak resident set size in KiB: the
// larger of VmHWM (/proc/PID/status) and the current Rss that
// /proc/PID/smaps_rollup counts from the page tables. VmHWM alone can lag:
// the kernel batches each thread's RSS counter updates (up to 64 faults)
// and syncs them only after the exit stop.
func peakRSS(pid int) (int64, error) {
	hwm, err := procKB(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:")
	if err != nil {
		return 0, err
	}
	rss, err := procKB(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Rss:")
	if err != nil {
		return 0, err
	}
	return max(hwm, rss), nil
}

// procKB reads the "KEY   N kB" line of a /proc file.
func procKB(path, key string) (int64, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(text)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

// runLoop runs the commands one after another and measures the whole loop;
// the RSS figures are the largest of the runs.
func runLoop(cmds []command, stderrPath string) (sample, error) {
	var loop sample
	start := time.Now()
	for _, c := range cmds {
		s, err := runTimed(c, stderrPath)
		if err != nil {
			return sample{}, err
		}
		loop.PeakRSSKB = max(loop.PeakRSSKB, s.PeakRSSKB)
		loop.RusageMaxRSSKB = max(loop.RusageMaxRSSKB, s.RusageMaxRSSKB)
		loop.SignalStops += s.SignalStops
	}
	loop.Wall = time.Since(start)
	return loop, nil
}

func orDevNull(path string) string {
	if path == "" {
		return os.DevNull
	}
	return path
}

// Idle detection: a dropped namespace is torn down later by a kernel
// worker (for a 110,000-destination table that takes a while), and on one
// emulated CPU that work would be billed to whichever run comes next.
const (
	idleWindow    = 200 * time.Millisecond
	idleFraction  = 0.90
	idleWindows   = 2 // consecutive idle windows required
	idleMinWait   = 300 * time.Millisecond
	idleGiveUpAft = 3 * time.Minute
)

// waitIdle returns once the system's CPUs have been at least idleFraction
// idle for idleWindows consecutive windows. It reports how long it waited,
// and whether it gave up.
func waitIdle() (time.Duration, bool, error) {
	start := time.Now()
	time.Sleep(idleMinWait)
	prev, err := readCPUTimes()
	if err != nil {
		return 0, false, err
	}
	quiet := 0
	for time.Since(start) < idleGiveUpAft {
		time.Sleep(idleWindow)
		cur, err := readCPUTimes()
		if err != nil {
			return 0, false, err
		}
		total, idle := cur.total-prev.total, cur.idle-prev.idle
		prev = cur
		if total > 0 && float64(idle)/float64(total) >= idleFraction {
			quiet++
			if quiet >= idleWindows {
				return time.Since(start), false, nil
			}
		} else {
			quiet = 0
		}
	}
	return time.Since(start), true, nil
}

type cpuTimes struct{ total, idle uint64 }

// readCPUTimes sums the aggregate "cpu" line of /proc/stat: user through
// steal (guest time is already inside user and nice); idle counts idle and
// iowait.
func readCPUTimes() (cpuTimes, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuTimes{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[0] != "cpu" {
			continue
		}
		var t cpuTimes
		for i, field := range fields[1:min(len(fields), 9)] {
			v, err := strconv.ParseUint(field, 10, 64)
			if err != nil {
				return cpuTimes{}, fmt.Errorf("/proc/stat: %w", err)
			}
			t.total += v
			if i == 3 || i == 4 { // idle, iowait
				t.idle += v
			}
		}
		return t, nil
	}
	if err := sc.Err(); err != nil {
		return cpuTimes{}, err
	}
	return cpuTimes{}, errors.New("/proc/stat: no cpu line")
}
