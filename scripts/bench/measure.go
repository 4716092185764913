//go:build linux

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
	Wall time.Duration
	// PeakKB is the run's peak memory in KiB: its cgroup's memory.peak, or
	// ru_maxrss where the meter has no cgroups (see meter).
	PeakKB int64
	// RusageMaxRSSKB is wait4's ru_maxrss, shown beside memory.peak: it can
	// be this driver's own peak rather than the child's (see runIn).
	RusageMaxRSSKB int64
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

// run runs c in a cgroup of its own and measures it.
func (m *meter) run(c command, stderrPath string) (sample, error) {
	g, err := m.group()
	if err != nil {
		return sample{}, err
	}
	s, err := runIn(c, stderrPath, g)
	if err == nil && g != nil {
		s.PeakKB, err = g.peakKB()
	}
	return s, errors.Join(err, g.remove())
}

// loop runs the commands one after another, each in a cgroup of its own,
// and measures the whole loop; the memory figures are the largest of the
// runs. The cgroups are made before the clock starts and read after it
// stops.
func (m *meter) loop(cmds []command, stderrPath string) (loop sample, err error) {
	groups := make([]*runGroup, len(cmds))
	defer func() {
		for _, g := range groups {
			err = errors.Join(err, g.remove())
		}
	}()
	for i := range groups {
		if groups[i], err = m.group(); err != nil {
			return sample{}, err
		}
	}
	start := time.Now()
	for i, c := range cmds {
		s, err := runIn(c, stderrPath, groups[i])
		if err != nil {
			return sample{}, err
		}
		loop.PeakKB = max(loop.PeakKB, s.PeakKB)
		loop.RusageMaxRSSKB = max(loop.RusageMaxRSSKB, s.RusageMaxRSSKB)
	}
	loop.Wall = time.Since(start)
	for _, g := range groups {
		if g == nil {
			continue
		}
		kb, err := g.peakKB()
		if err != nil {
			return sample{}, err
		}
		loop.PeakKB = max(loop.PeakKB, kb)
	}
	return loop, nil
}

// runIn runs c, started directly inside g (nil: in the driver's cgroup),
// and measures it from fork to reaped exit. All three standard streams are
// files, so os/exec starts no copying goroutines and the fork happens on the
// calling (namespace-holding) thread.
//
// Without g, PeakKB is ru_maxrss. That is not always the child's: Go starts
// children with vfork, so the child runs in this process's address space
// until it execs, and at exec the kernel can record that space's peak (this
// driver's) as the child's ru_maxrss.
func runIn(c command, stderrPath string, g *runGroup) (sample, error) {
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
	if g != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(g.fd.Fd())}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	waitErr := cmd.Wait()
	wall := time.Since(start)

	stderr, _ := os.ReadFile(stderrPath)
	if waitErr != nil || len(stderr) > 0 {
		return sample{}, fmt.Errorf("%s: %v; stderr: %.500s", strings.Join(c.Argv, " "), cmd.ProcessState, stderr)
	}
	s := sample{Wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.RusageMaxRSSKB = ru.Maxrss
	}
	if g == nil {
		s.PeakKB = s.RusageMaxRSSKB
	}
	return s, nil
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
