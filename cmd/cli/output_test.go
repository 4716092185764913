package cli

import (
	"bytes"
	"io"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// fullDisk fails every write as os.Stdout on a full file system does.
type fullDisk struct{}

func (fullDisk) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.ENOSPC}
}

// TestOutputWriteErrorFails: a listing or save whose output cannot be
// written exits non-zero and says why, instead of exiting 0 with a
// truncated file.
func TestOutputWriteErrorFails(t *testing.T) {
	k := ipvstest.New()
	runWith := func(stdout io.Writer, argv ...string) (int, string) {
		var stderr bytes.Buffer
		e := newEnv(strings.NewReader(""), stdout, &stderr)
		e.dial = func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.NetlinkConn()) }
		return run(e, argv), stderr.String()
	}
	if status, stderr := runWith(io.Discard, "ipvsadm", "-A", "-t", "192.0.2.1:80", "-s", "rr"); status != 0 {
		t.Fatalf("-A: status %d, stderr %q", status, stderr)
	}
	for _, argv := range [][]string{{"ipvsadm-save", "-n"}, {"ipvsadm", "-Ln"}, {"lvsadm", "-Sn"}} {
		status, stderr := runWith(fullDisk{}, argv...)
		want := argv[0] + ": error writing standard output: no space left on device\n"
		if status != 1 || stderr != want {
			t.Errorf("%v: status %d, stderr %q; want 1, %q", argv, status, stderr, want)
		}
	}
}

// TestOutputInterleavesInOrder: with stdout and stderr on one terminal, a
// restore's listings and error messages appear in the order the lines
// produced them.
func TestOutputInterleavesInOrder(t *testing.T) {
	k := ipvstest.New()
	var both bytes.Buffer
	input := "-A -t 192.0.2.1:80 -s rr\n-L -n\n-A -t 192.0.2.1:80 -s rr\n-D -t 192.0.2.1:80\n-L -n\n-D -t 192.0.2.1:80\n"
	e := newEnv(strings.NewReader(input), &both, &both)
	e.dial = func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.NetlinkConn()) }
	if status := run(e, []string{"ipvsadm", "-R"}); status != 255 {
		t.Errorf("status %d, want 255 (the last line fails)", status)
	}
	header := "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
	want := header + "TCP  192.0.2.1:80 rr\n" + "Service already exists\n" + header + "No such service\n"
	if got := both.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
