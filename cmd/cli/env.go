package cli

import (
	"bufio"
	"io"
	"os"
	"os/exec"

	"github.com/charmbracelet/x/term"

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
	terminal func() (in, out *os.File, ok bool) // for lvsadm top

	posixlyCorrect bool

	client *ipvs.Client
	info   ipvs.Info
}

func newEnv(stdin io.Reader, stdout, stderr io.Writer) *env {
	return &env{
		stdin:    stdin,
		stdout:   bufio.NewWriterSize(stdout, 64<<10),
		stderr:   stderr,
		dial:     ipvs.New,
		procConn: func() (io.ReadCloser, error) { return os.Open("/proc/net/ip_vs_conn") },
		procIPVS: func() (io.ReadCloser, error) { return os.Open("/proc/net/ip_vs") },
		modprobe: runModprobe,
		names:    &systemNames{},
		terminal: func() (*os.File, *os.File, bool) { return terminalOf(stdin, stdout) },

		posixlyCorrect: envSet("POSIXLY_CORRECT") || envSet("POSIX_ME_HARDER"),
	}
}

// errorln writes one line to stderr after flushing stdout, so that the two
// streams interleave as the reader expects when they share a terminal.
func (e *env) errorln(msg string) {
	e.stdout.Flush()
	io.WriteString(e.stderr, msg+"\n")
}

// close flushes stdout, reporting the first error writing it, and closes
// the kernel connection.
func (e *env) close() error {
	err := e.stdout.Flush()
	if e.client != nil {
		e.client.Close()
		e.client = nil
	}
	return err
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

// terminalOf returns stdin and stdout as files if both are a terminal.
func terminalOf(stdin io.Reader, stdout io.Writer) (*os.File, *os.File, bool) {
	in, ok := stdin.(*os.File)
	out, ok2 := stdout.(*os.File)
	if !ok || !ok2 || !term.IsTerminal(in.Fd()) || !term.IsTerminal(out.Fd()) {
		return nil, nil, false
	}
	return in, out, true
}
