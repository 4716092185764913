//go:build integration

package ipvs_test

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs"
)

// newNetNS creates a network namespace and returns an open file for it. The
// namespace is made on a locked thread that is then discarded, so no other
// goroutine ever runs inside it by accident.
func newNetNS(t *testing.T) *os.File {
	t.Helper()
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		f, err := os.Open("/proc/thread-self/ns/net")
		ch <- result{f, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("new network namespace: %v", r.err)
	}
	t.Cleanup(func() { r.f.Close() })
	return r.f
}

// inNetNS runs fn on a thread inside ns; the thread is discarded afterwards.
func inNetNS(t *testing.T, ns *os.File, fn func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		fn()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("setns: %v", err)
	}
}

// run runs a command inside ns and returns its stdout; a failure is fatal.
func run(t *testing.T, ns *os.File, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var err error
	inNetNS(t, ns, func() {
		cmd := exec.Command(name, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
	})
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return stdout.String()
}

// nsClient returns a client in a fresh namespace with loopback up.
func nsClient(t *testing.T) (*ipvs.Client, *os.File) {
	t.Helper()
	ns := newNetNS(t)
	run(t, ns, "/sbin/ip", "link", "set", "lo", "up")
	c, err := ipvs.Dial(&ipvs.Config{NetNSFD: int(ns.Fd())})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ns
}
