package health

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
)

// execChecker runs a command in its own process group, so that a timeout
// kills whatever it started too. Exit status 0 is up, 1 down; 2-255 is up
// with weight status-2 when DynamicWeight is set, down otherwise.
type execChecker struct {
	timeout time.Duration
	argv    []string
	env     []string
	dynamic bool
}

func newExecChecker(c *desired.Check, t Target) (*execChecker, error) {
	addr, port := t.Addr, t.Port
	if c.ConnectAddr.IsValid() {
		addr = c.ConnectAddr
	}
	if c.ConnectPort != 0 {
		port = c.ConnectPort
	}
	env := append(os.Environ(),
		"LVSADM_ADDRESS="+addrString(addr),
		"LVSADM_PORT="+strconv.Itoa(int(port)),
		"LVSADM_VIP="+addrString(t.VIP),
		"LVSADM_VPORT="+strconv.Itoa(int(t.VPort)),
	)
	return &execChecker{timeout: timeoutOf(c), argv: c.Command, env: env, dynamic: c.DynamicWeight}, nil
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func (c *execChecker) Check(ctx context.Context) Result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Env = c.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Result{Reason: "exec timeout"}
		}
		return Result{Reason: "exec canceled"}
	}
	var (
		ee *exec.ExitError
		pe *fs.PathError
	)
	switch {
	case err == nil:
		return Result{Up: true, Reason: "exec exit 0"}
	case errors.As(err, &pe): // could not start
		return Result{Reason: "exec " + pe.Path + ": " + pe.Err.Error()}
	case !errors.As(err, &ee):
		return Result{Reason: "exec " + err.Error()}
	}
	code := ee.ExitCode()
	switch {
	case code < 0: // killed by a signal
		return Result{Reason: "exec " + ee.ProcessState.String()}
	case code >= 2 && c.dynamic:
		return Result{Up: true, Weighted: true, Weight: code - 2, Reason: weightReason(code, code-2)}
	}
	return Result{Reason: "exec exit " + strconv.Itoa(code)}
}
