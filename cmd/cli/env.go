package cli

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/lvsadm/lvsadm/ipvs"
)

// env is what one run of the program works with. Tests replace its fields:
// dial (a fake kernel), procConn (the connection table file), modprobe.
type env struct {
	stdin  io.Reader
	stdout *bufio.Writer // flushed before anything goes to stderr and at exit
	stderr io.Writer

	dial     func() (*ipvs.Client, error)
	procConn func() (io.ReadCloser, error)
	procIPVS func() (io.ReadCloser, error)
	modprobe func(stderr io.Writer) error
	names    *systemNames

	posixlyCorrect bool

	client *ipvs.Client
	info   ipvs.Info
	dests  []ipvs.DestinationEntry // reused by listings, service after service
}

func newEnv(stdin io.Reader, stdout, stderr io.Writer) *env {
	return &env{
		stdin:    stdin,
		stdout:   bufio.NewWriterSize(stdout, 64<<10),
		stderr:   stderr,
		dial:     ipvs.New,
		procConn: func() (io.ReadCloser, error) { return openProcFile("/proc/net/ip_vs_conn") },
		procIPVS: func() (io.ReadCloser, error) { return openProcFile("/proc/net/ip_vs") },
		modprobe: runModprobe,
		names:    &systemNames{},

		posixlyCorrect: envSet("POSIXLY_CORRECT") || envSet("POSIX_ME_HARDER"),
	}
}

// errorf writes one line to stderr after flushing stdout, so that the two
// streams interleave as the reader expects when they share a terminal.
func (e *env) errorln(msg string) {
	e.stdout.Flush()
	io.WriteString(e.stderr, msg+"\n")
}

func (e *env) close() {
	e.stdout.Flush()
	if e.client != nil {
		e.client.Close()
	}
}

// runModprobe loads ip_vs as ipvsadm does: /sbin/modprobe -- ip_vs, its
// diagnostics going to our stderr.
func runModprobe(stderr io.Writer) error {
	cmd := exec.Command("/sbin/modprobe", "--", "ip_vs")
	cmd.Stderr = stderr
	return cmd.Run()
}

// envSet is getenv(name) != NULL: set, even to the empty string.
func envSet(name string) bool {
	_, ok := os.LookupEnv(name)
	return ok
}

// procFile reads a /proc file with plain read(2) calls that the Go
// scheduler is not told about. Such a read only formats text in the kernel
// and cannot block on anything else; but IPVS's files are read a page at a
// time, each read restarting the kernel's walk (about a millisecond per
// read for 10,000 x 10, 1,670 reads), and on a one-CPU machine the runtime
// takes its only processor from any goroutine in a system call for more
// than 20 us, handing it to another thread and back: futex and signal
// traffic on every read, seen as 5,579 futex and 1,557 tgkill calls for
// one -Ln of that table (357 and 217 with this reader).
type procFile struct {
	f  *os.File
	fd uintptr
}

func openProcFile(path string) (*procFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &procFile{f: f, fd: f.Fd()}, nil
}

func (p *procFile) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, p.fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		runtime.KeepAlive(p.f)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return 0, &os.PathError{Op: "read", Path: p.f.Name(), Err: errno}
		case n == 0:
			return 0, io.EOF
		}
		// Yield between reads, as the ipvs package does between its
		// system calls (see yield there): the runtime counts this
		// hidden call's time towards preempting us with a signal.
		runtime.Gosched()
		return int(n), nil
	}
}

func (p *procFile) Close() error { return p.f.Close() }
