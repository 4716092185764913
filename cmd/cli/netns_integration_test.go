//go:build integration

package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestIntegrationListWithOtherNamespaces lists a table while another
// network namespace holds IPVS services too. The kernel keeps all
// namespaces' services in one table, and 6.1's /proc/net/ip_vs iterator then
// drops services of the namespace being read; lvsadm must notice and take
// the destinations from netlink, printing what the reference prints.
func TestIntegrationListWithOtherNamespaces(t *testing.T) {
	otherReady, otherDone := make(chan error), make(chan struct{})
	go func() {
		// Locked for good: the thread, and with it the namespace, ends
		// with this goroutine.
		runtime.LockOSThread()
		err := unix.Unshare(unix.CLONE_NEWNET)
		if err == nil {
			err = restoreTable("192.0.2", 250, 4)
		}
		otherReady <- err
		<-otherDone
		exec.Command("/sbin/ipvsadm", "-C").Run()
	}()
	if err := <-otherReady; err != nil {
		close(otherDone)
		t.Fatal(err)
	}
	defer close(otherDone)

	err := inFreshNetNS(func() error {
		if err := restoreTable("198.18", 600, 5); err != nil {
			return err
		}
		defer exec.Command("/sbin/ipvsadm", "-C").Run()
		proc, err := os.ReadFile("/proc/thread-self/net/ip_vs")
		if err != nil {
			return err
		}
		// 3 title lines, 600 services, 3,000 destinations.
		if lines := strings.Count(string(proc), "\n"); lines != 3+600*6 {
			t.Logf("/proc/net/ip_vs has %d lines instead of %d: the kernel dropped services, as expected on 6.1", lines, 3+600*6)
		} else {
			t.Logf("/proc/net/ip_vs is complete: this kernel does not drop services")
		}
		for _, args := range [][]string{{"-Ln"}, {"-Sn"}} {
			want, err := exec.Command(*refBin, args...).Output()
			if err != nil {
				return fmt.Errorf("reference %v: %v", args, err)
			}
			got, err := exec.Command(*lvsadmBin, args...).Output()
			if err != nil {
				return fmt.Errorf("lvsadm %v: %v", args, err)
			}
			if !bytes.Equal(got, want) {
				return fmt.Errorf("lvsadm %v differs from the reference:\n%s", args, firstDifference(want, got))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// restoreTable brings lo up and restores services PREFIX.x.y:80, each with
// dests real servers, with the reference ipvsadm.
func restoreTable(prefix string, services, dests int) error {
	if out, err := exec.Command("/sbin/ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v %s", err, out)
	}
	var rules strings.Builder
	for s := range services {
		vip := fmt.Sprintf("%s.%d.%d:80", prefix, s/250, s%250+1)
		if strings.Count(prefix, ".") == 2 {
			vip = fmt.Sprintf("%s.%d:%d", prefix, s%250+1, 80+s/250)
		}
		fmt.Fprintf(&rules, "-A -t %s -s rr\n", vip)
		for d := range dests {
			n := s*dests + d
			fmt.Fprintf(&rules, "-a -t %s -r 198.19.%d.%d:80 -m -w 1\n", vip, n/250, n%250+1)
		}
	}
	cmd := exec.Command("/sbin/ipvsadm", "-R")
	cmd.Stdin = strings.NewReader(rules.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ipvsadm -R: %v %s", err, out)
	}
	return nil
}

// firstDifference shows the first differing line of two outputs.
func firstDifference(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d: reference %q, lvsadm %q (%d and %d lines)", i+1, wl, gl, len(w), len(g))
		}
	}
	return "no line differs"
}
