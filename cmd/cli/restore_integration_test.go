//go:build integration

package cli_test

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestIntegrationRestoreStreams feeds -R through a pipe one line at a time,
// with the reference ipvsadm and with lvsadm: each line must be in the
// kernel, and each failing line's message on stderr, before the next line is
// written and long before the end of input.
func TestIntegrationRestoreStreams(t *testing.T) {
	for _, tool := range []string{*refBin, *lvsadmBin} {
		if err := inFreshNetNS(func() error { return restoreLineByLine(tool) }); err != nil {
			t.Errorf("%s -R: %v", tool, err)
		}
	}
}

// restoreLineByLine runs tool -R in the calling thread's network namespace
// and feeds it one line at a time.
func restoreLineByLine(tool string) error {
	// Without lo up the namespace has no local routes, and the kernel
	// refuses real servers as "address not unicast".
	if out, err := exec.Command("/sbin/ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v %s", err, out)
	}
	cmd := exec.Command(tool, "-R")
	cmd.Env = []string{"PATH=/sbin:/usr/sbin:/bin:/usr/bin", "LC_ALL=C"}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	stderrLines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stderrPipe)
		for sc.Scan() {
			stderrLines <- sc.Text()
		}
		close(stderrLines)
	}()

	waitRules := func(want string) error {
		var got string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			out, err := exec.Command("/sbin/ipvsadm", "-Sn").CombinedOutput()
			if err != nil {
				return fmt.Errorf("ipvsadm -Sn: %v %s", err, out)
			}
			if got = string(out); got == want {
				return nil
			}
		}
		return fmt.Errorf("the kernel has %q, want %q before the end of input", got, want)
	}
	waitStderr := func(want string) error {
		select {
		case got := <-stderrLines:
			if got != want {
				return fmt.Errorf("stderr %q, want %q", got, want)
			}
			return nil
		case <-time.After(20 * time.Second):
			return fmt.Errorf("no %q on stderr before the end of input", want)
		}
	}

	io.WriteString(stdin, "-A -t 192.0.2.1:80 -s rr\n")
	if err := waitRules("-A -t 192.0.2.1:80 -s rr\n"); err != nil {
		return err
	}
	io.WriteString(stdin, "-A -t 192.0.2.1:80 -s rr\n")
	if err := waitStderr("Service already exists"); err != nil {
		return err
	}
	io.WriteString(stdin, "-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 2\n")
	if err := waitRules("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 2\n"); err != nil {
		return err
	}
	stdin.Close()
	var rest []string
	for s := range stderrLines {
		rest = append(rest, s)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%v (the last line succeeded, so the status must be 0)", err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("more on stderr: %q", strings.Join(rest, "\n"))
	}
	return nil
}
