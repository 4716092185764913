package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRestoreAppliesLinesAsTheyArrive feeds -R through a pipe one line at a
// time: each line must reach the kernel, and its error must be printed,
// while the pipe is still open and nothing more has been written, as with
// ipvsadm (which an admin typing into it, or a coprocess, relies on).
func TestRestoreAppliesLinesAsTheyArrive(t *testing.T) {
	k := ipvstest.New()
	in, feed := io.Pipe()
	var stdout, stderr lockedBuffer
	e := newEnv(in, &stdout, &stderr)
	e.dial = func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.NetlinkConn()) }
	status := make(chan int, 1)
	go func() { status <- run(e, []string{"ipvsadm", "-R"}) }()

	observer, err := ipvs.NewFromConn(k.NetlinkConn())
	if err != nil {
		t.Fatal(err)
	}
	defer observer.Close()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				feed.Close()
				t.Fatalf("%s did not happen before the end of input", what)
			}
		}
	}
	services := func() int {
		svcs, err := observer.Services()
		if err != nil {
			t.Fatal(err)
		}
		return len(svcs)
	}

	io.WriteString(feed, "-A -t 192.0.2.1:80 -s rr\n")
	waitFor("the first service", func() bool { return services() == 1 })
	io.WriteString(feed, "-A -t 192.0.2.1:80 -s rr\n")
	waitFor("the duplicate's error", func() bool { return stderr.String() == "Service already exists\n" })
	io.WriteString(feed, "-A -t 192.0.2.2:80 -s rr\n")
	waitFor("the second service", func() bool { return services() == 2 })
	feed.Close()
	if got := <-status; got != 0 {
		t.Errorf("status %d, want 0 (that of the last line)", got)
	}
	if got := stdout.String(); got != "" {
		t.Errorf("stdout %q, want nothing", got)
	}
}

// TestRestoreLargeInputStaysBatched restores 110,000 lines from a file-like
// reader: the lines still go to the kernel in large batches, not a send per
// line or per few lines.
func TestRestoreLargeInputStaysBatched(t *testing.T) {
	var input strings.Builder
	for s := range 10000 {
		vip := fmt.Sprintf("198.18.%d.%d:80", s/250, s%250+1)
		input.WriteString("-A -t " + vip + " -s rr\n")
		for d := range 10 {
			n := (s*10 + d) % 64000
			fmt.Fprintf(&input, "-a -t %s -r 198.19.%d.%d:80 -m -w 1\n", vip, n/250, n%250+1)
		}
	}
	k := ipvstest.New()
	var stdout, stderr bytes.Buffer
	e := newEnv(strings.NewReader(input.String()), &stdout, &stderr)
	e.dial = func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.NetlinkConn()) }
	if status := run(e, []string{"ipvsadm", "-R"}); status != 0 || stderr.Len() > 0 {
		t.Fatalf("status %d, stderr %q", status, stderr.String())
	}
	sends := k.Sends()
	c, err := ipvs.NewFromConn(k.NetlinkConn())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if svcs, err := c.Services(); err != nil || len(svcs) != 10000 {
		t.Fatalf("%d services, %v", len(svcs), err)
	}
	// A batch goes out before each 64 KiB read of input (about 1,300
	// lines), in windows of up to 1,024 requests: a few hundred sends.
	if sends > 500 {
		t.Errorf("%d sends to the kernel for 110,000 changes; want at most 500", sends)
	}
}
